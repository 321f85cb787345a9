import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../lib/kube/client.js';
import { setUpClusterRun, simulatedNode } from './support/cluster.js';
import { addressesOf, runPluginProcess } from './support/plugin-process.js';
import { requireSystem } from './support/system.js';

const NAMESPACE = 'leasehold-e2e';
const RUN = Date.now().toString(36);
const run = setUpClusterRun(NAMESPACE, 'leasehold-cluster-networks-', requireSystem);

/** Requests the API server has served for one resource, from its own metrics. */
async function served(client: KubeClient, resource: string): Promise<number> {
  await client.request('GET', '/metrics', { accept: 'text/plain' });
  return client.lastText
    .split('\n')
    .filter((line) => line.startsWith('apiserver_request_total{') && line.includes(`resource="${resource}"`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe("the check against the cluster's own networks", () => {
  it('reads service ranges and nodes once per node, not once per ADD', async () => {
    const node = simulatedNode(run.root, `node-${RUN}`, run.cluster.kubeconfig, NAMESPACE);
    const netconf = { cniVersion: '1.1.0', name: `apart-${RUN}`, type: 'macvlan', ipam: { type: 'leasehold', ranges: [[{ subnet: '10.77.0.0/24' }]] } };
    const before = { nodes: await served(run.cluster.client, 'nodes'), services: await served(run.cluster.client, 'servicecidrs') };
    const adds = [];
    for (let i = 0; i < 5; i++) adds.push(await runPluginProcess({ command: 'ADD', containerId: `c${i}-${RUN}`, netconf, hostConfig: node.hostConfig }));
    expect(adds.flatMap(addressesOf)).toHaveLength(5);
    expect((await served(run.cluster.client, 'nodes')) - before.nodes).toBe(1);
    expect((await served(run.cluster.client, 'servicecidrs')) - before.services).toBe(1);
  });

  it('refuses a network over a node\'s pod CIDR, naming the node', async () => {
    const name = `pods-${RUN}`;
    await run.cluster.client.request('POST', '/api/v1/nodes', { body: { metadata: { name }, spec: { podCIDR: '10.178.0.0/24', podCIDRs: ['10.178.0.0/24'] } } });
    try {
      const node = simulatedNode(run.root, `fresh-${RUN}`, run.cluster.kubeconfig, NAMESPACE);
      const netconf = { cniVersion: '1.1.0', name: `over-${RUN}`, type: 'macvlan', ipam: { type: 'leasehold', ranges: [[{ subnet: '10.178.0.0/16' }]] } };
      const exit = await runPluginProcess({ command: 'ADD', containerId: `o-${RUN}`, netconf, hostConfig: node.hostConfig });
      expect(exit.json).toMatchObject({ code: 7 });
      expect(String(exit.json?.msg)).toContain(`10.178.0.0/24 (spec.podCIDRs of node ${name})`);
    } finally {
      await run.cluster.client.request('DELETE', `/api/v1/nodes/${name}`, { expect: [404] });
    }
  });
});
