import type { KubeClient } from '../kube/client.js';
import { forEachItem } from './cluster.js';

const NAD_PATH = '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions';
const NAD_PAGE_LIMIT = 500;

interface NetworkAttachmentDefinition {
  spec?: { config?: string };
}

interface IpamSection {
  type?: unknown;
  network_name?: unknown;
}

interface PluginConfig {
  name?: unknown;
  ipam?: IpamSection;
  plugins?: Array<{ ipam?: IpamSection }>;
}

/**
 * Returns the Leasehold network names one NAD's `spec.config` uses: `ipam.network_name` when
 * set, else the configuration's `name`. A configuration list is searched plugin by plugin.
 */
export function networksOfConfig(config: string): string[] {
  let parsed: PluginConfig;
  try {
    parsed = JSON.parse(config) as PluginConfig;
  } catch {
    return [];
  }
  if (parsed === null || typeof parsed !== 'object') return [];
  const sections = Array.isArray(parsed.plugins)
    ? parsed.plugins.map((plugin) => plugin?.ipam)
    : [parsed.ipam];
  const names: string[] = [];
  for (const ipam of sections) {
    if (ipam?.type !== 'leasehold') continue;
    const name =
      typeof ipam.network_name === 'string' && ipam.network_name ? ipam.network_name : parsed.name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/**
 * Returns every network name the cluster's NetworkAttachmentDefinitions use, or undefined when
 * the NetworkAttachmentDefinition CRD is not installed.
 */
export async function referencedNetworks(client: KubeClient): Promise<Set<string> | undefined> {
  const probe = await client.request('GET', `${NAD_PATH}?limit=1`, { expect: [404] });
  if (probe.status === 404) return undefined;
  const names = new Set<string>();
  await forEachItem<NetworkAttachmentDefinition>(client, NAD_PATH, NAD_PAGE_LIMIT, (nad) => {
    for (const name of networksOfConfig(nad.spec?.config ?? '')) names.add(name);
  });
  return names;
}
