import { After, AfterAll, Before } from '@cucumber/cucumber';
import { KubeClient } from '../../lib/kube/client.js';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import { type LocalCluster, createNamespace, startCluster } from '../../test/e2e/support/cluster.js';
import type { PluginWorld } from './world.js';

/** Namespace of the shard ConfigMaps and Leases that the features create. */
export const FEATURE_NAMESPACE = 'leasehold-features';

let cluster: LocalCluster | undefined;
let client: KubeClient | undefined;
let scenarios = 0;

/**
 * The API server the @kubernetes scenarios run against: the cluster LEASEHOLD_TEST_KUBECONFIG
 * names, else the local control plane, started once for the whole run.
 */
export function kubeClient(): { client: KubeClient; kubeconfig: string } {
  const kubeconfig = process.env.LEASEHOLD_TEST_KUBECONFIG;
  if (kubeconfig) {
    client ??= new KubeClient(connectionFromKubeconfig(kubeconfig));
    return { client, kubeconfig };
  }
  cluster ??= startCluster();
  return { client: cluster.client, kubeconfig: cluster.kubeconfig };
}

Before({ tags: '@kubernetes', timeout: 900_000 }, async function (this: PluginWorld) {
  const { client: api, kubeconfig } = kubeClient();
  await createNamespace(api, FEATURE_NAMESPACE);
  const suffix = `${Date.now().toString(36)}${(scenarios++).toString(36)}`;
  this.kube = { kubeconfig, namespace: FEATURE_NAMESPACE, suffix, nodes: new Map(), pods: new Map(), created: [] };
});

After({ tags: '@kubernetes' }, async function (this: PluginWorld) {
  this.node = 'node-1';
  // Newest first, so namespaces go after what was created in them.
  for (const path of [...(this.kube?.created ?? [])].reverse()) {
    await kubeClient().client.request('DELETE', path, { expect: [404] });
  }
});

AfterAll({ timeout: 120_000 }, function () {
  client?.close();
  cluster?.stop();
});
