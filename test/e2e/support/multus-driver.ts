import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../../lib/kube/client.js';
import {
  type PodRuntime,
  type PodSandbox,
  type RuntimeSettings,
  cniEnvironment,
  errorMessage,
  invokePlugin,
  podCniArgs,
} from './cni-runtime.js';
import {
  NETWORKS_ANNOTATION,
  type NetworkStatus,
  podAnnotations,
  readNadConfig,
  writeNetworkStatus,
} from './pods.js';
import type { CommandResult } from './system.js';

/** One element of the networks annotation (multi-network specification, v1). */
export interface NetworkSelection {
  name: string;
  namespace?: string;
  interface?: string;
  ips?: string[];
}

/** A network the pod is attached to: its status name, interface and configuration. */
interface Attachment {
  name: string;
  ifName: string;
  config: Record<string, unknown>;
  ips?: string[];
  isDefault: boolean;
}

interface CniResult {
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string }>;
}

/**
 * Parses the networks annotation in either of its forms: a JSON list of selection elements, or
 * comma-separated `[namespace/]name[@interface]` references.
 */
export function parseNetworkSelections(annotation: string): NetworkSelection[] {
  const text = annotation.trim();
  if (text.startsWith('[')) return JSON.parse(text) as NetworkSelection[];

  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const [reference = '', ifName] = item.split('@');
      const [first = '', second] = reference.split('/');
      const selection: NetworkSelection = second
        ? { namespace: first, name: second }
        : { name: first };
      return ifName ? { ...selection, interface: ifName } : selection;
    });
}

/**
 * Reproduces what Multus does for a pod, without Multus. ADD attaches the cluster default network
 * as eth0, then each network of the pod's annotation as net1..N, or as the interface the element
 * names. Requested `ips` go to plugins as runtimeConfig.ips when they declare the capability, and
 * to all as the CNI_ARGS key IP. A failed attachment is deleted with every attachment made
 * before it. The addresses go into the pod's network-status annotation, and DEL uses the
 * configurations cached at ADD.
 */
export class MultusDriver implements PodRuntime {
  private readonly cacheDir: string;

  constructor(
    private readonly settings: RuntimeSettings,
    private readonly client: KubeClient,
  ) {
    this.cacheDir = join(settings.cacheDir, 'driver');
    mkdirSync(this.cacheDir, { recursive: true });
  }

  async add(sandbox: PodSandbox): Promise<CommandResult> {
    const attachments = await this.attachments(sandbox);
    writeFileSync(this.cacheFile(sandbox), JSON.stringify(attachments));

    const statuses: NetworkStatus[] = [];
    let defaultResult = '';
    for (const [index, attachment] of attachments.entries()) {
      const result = await this.invoke('ADD', sandbox, attachment);
      if (result.code !== 0) {
        await this.deleteAll(sandbox, attachments.slice(0, index + 1));
        return this.failure(sandbox, attachment, result);
      }
      if (attachment.isDefault) defaultResult = result.stdout;
      statuses.push(networkStatusOf(attachment, JSON.parse(result.stdout) as CniResult));
    }

    await writeNetworkStatus(this.client, sandbox, statuses);
    return { code: 0, stdout: defaultResult, stderr: '' };
  }

  async del(sandbox: PodSandbox): Promise<CommandResult> {
    // The CNI specification has DEL succeed when there is nothing to release.
    if (!existsSync(this.cacheFile(sandbox))) return { code: 0, stdout: '', stderr: '' };

    const attachments = JSON.parse(readFileSync(this.cacheFile(sandbox), 'utf8')) as Attachment[];
    const failed = await this.deleteAll(sandbox, attachments);
    if (failed) return failed;
    rmSync(this.cacheFile(sandbox), { force: true });
    return { code: 0, stdout: '', stderr: '' };
  }

  private cacheFile(sandbox: PodSandbox): string {
    return join(this.cacheDir, `${sandbox.containerId}.json`);
  }

  /** Lists the default network, then one attachment per element of the networks annotation. */
  private async attachments(sandbox: PodSandbox): Promise<Attachment[]> {
    const defaultNetwork = this.settings.defaultNetwork;
    const attachments: Attachment[] = [
      {
        name: String(defaultNetwork.name),
        ifName: 'eth0',
        config: defaultNetwork,
        isDefault: true,
      },
    ];
    const annotation = (await podAnnotations(this.client, sandbox))[NETWORKS_ANNOTATION] ?? '';
    for (const selection of parseNetworkSelections(annotation)) {
      const namespace = selection.namespace ?? sandbox.namespace;
      attachments.push({
        name: `${namespace}/${selection.name}`,
        ifName: selection.interface ?? `net${attachments.length}`,
        config: await readNadConfig(this.client, namespace, selection.name),
        ...(selection.ips ? { ips: selection.ips } : {}),
        isDefault: false,
      });
    }
    return attachments;
  }

  /** Deletes attachments in reverse order, and returns the first failure after trying all. */
  private async deleteAll(
    sandbox: PodSandbox,
    attachments: Attachment[],
  ): Promise<CommandResult | undefined> {
    let failed: CommandResult | undefined;
    for (const attachment of [...attachments].reverse()) {
      const result = await this.invoke('DEL', sandbox, attachment);
      if (result.code !== 0 && !failed) failed = result;
    }
    return failed;
  }

  /**
   * Runs the plugins of one attachment as libcni runs a configuration or configuration list:
   * `name` and `cniVersion` copied into each plugin, each ADD given the previous result as
   * `prevResult`, and DEL in reverse order.
   */
  private async invoke(
    command: 'ADD' | 'DEL',
    sandbox: PodSandbox,
    attachment: Attachment,
  ): Promise<CommandResult> {
    const { name, cniVersion } = attachment.config;
    const plugins = attachment.config.plugins as Array<Record<string, unknown>> | undefined;
    const configs = (plugins ?? [attachment.config]).map((plugin): Record<string, unknown> => ({
      ...plugin,
      name,
      cniVersion,
      ...runtimeConfig(plugin, attachment),
    }));
    const ips = attachment.ips ? `;IP=${attachment.ips.join(',')}` : '';
    const args = podCniArgs(sandbox) + ips;
    const env = cniEnvironment(command, sandbox, attachment.ifName, args, this.settings);

    let last: CommandResult = { code: 0, stdout: '', stderr: '' };
    const ordered = command === 'ADD' ? configs : [...configs].reverse();
    for (const config of ordered) {
      const prevResult =
        command === 'ADD' && last.stdout ? { prevResult: JSON.parse(last.stdout) } : {};
      const binary = join(this.settings.binDir, String(config.type));
      last = await invokePlugin(
        binary,
        env,
        { ...config, ...prevResult },
        this.settings.hostNamespace,
      );
      if (last.code !== 0) return last;
    }
    return last;
  }

  /** Builds a CNI error in the layout Multus uses: the pod, the network and the plugin's message. */
  private failure(
    sandbox: PodSandbox,
    attachment: Attachment,
    result: CommandResult,
  ): CommandResult {
    const network = String(attachment.config.name);
    const pod = `${sandbox.namespace}/${sandbox.name}/${sandbox.uid}`;
    const msg = `[${pod}:${network}]: error adding container to network "${network}": ${errorMessage(result)}`;
    return {
      code: 1,
      stdout: JSON.stringify({ cniVersion: '1.0.0', code: 999, msg }),
      stderr: result.stderr,
    };
  }
}

/** libcni passes a runtime argument only to a plugin that declares the capability. */
function runtimeConfig(
  plugin: Record<string, unknown>,
  attachment: Attachment,
): { runtimeConfig?: { ips: string[] } } {
  const capabilities = (plugin.capabilities ?? {}) as Record<string, boolean>;
  return capabilities.ips && attachment.ips ? { runtimeConfig: { ips: attachment.ips } } : {};
}

/** Builds the network-status entry of one attachment from its result, as Multus does. */
function networkStatusOf(attachment: Attachment, result: CniResult): NetworkStatus {
  const podInterface = (result.interfaces ?? []).find((link) => link.sandbox);
  return {
    name: attachment.name,
    ...(podInterface ? { interface: podInterface.name, mac: podInterface.mac } : {}),
    ips: (result.ips ?? []).map((ip) => ip.address.split('/')[0] as string),
    ...(attachment.isDefault ? { default: true } : {}),
  };
}
