import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../lib/kube/client.js';
import { createNamespace, setUpClusterRun, simulatedNode } from './support/cluster.js';
import {
  applyManifests,
  applyStatefulSet,
  createNode,
  createPod,
  createPodNamespace,
  deleteNode,
  serviceAccountKubeconfig,
} from './support/kube-objects.js';
import { addressesOf, runPluginProcess } from './support/plugin-process.js';
import { requireSystem } from './support/system.js';

const NAMESPACE = 'leasehold-e2e';
const RUN = Date.now().toString(36);
const run = setUpClusterRun(NAMESPACE, 'leasehold-cluster-networks-', requireSystem);

/** Lists the files named `name` anywhere under `dir`. */
function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith(`/${name}`))
    .map((path) => join(dir, path));
}

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

  it('reads the ranges again over a cache file of the wrong shape', async () => {
    const node = simulatedNode(run.root, `shape-${RUN}`, run.cluster.kubeconfig, NAMESPACE);
    const netconf = { cniVersion: '1.1.0', name: `shape-${RUN}`, type: 'macvlan', ipam: { type: 'leasehold', ranges: [[{ subnet: '10.76.0.0/24' }]] } };
    expect((await runPluginProcess({ command: 'ADD', containerId: `s1-${RUN}`, netconf, hostConfig: node.hostConfig })).code).toBe(0);
    const [cacheFile] = findFiles(node.stateDir, 'networks.json');
    expect(cacheFile).toBeDefined();
    writeFileSync(cacheFile as string, JSON.stringify({ readAt: Date.now(), value: { services: 'damaged' } }));

    const second = await runPluginProcess({ command: 'ADD', containerId: `s2-${RUN}`, netconf, hostConfig: node.hostConfig });
    expect(second.json?.msg).toBeUndefined();
    expect(second.code).toBe(0);
    expect(JSON.parse(readFileSync(cacheFile as string, 'utf8')).value.services).toBeInstanceOf(Array);
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

describe("the plugin's RBAC manifests", () => {
  it('grant what every Kubernetes feature of the plugin needs', async () => {
    const { client, kubeconfig: admin } = run.cluster;
    const namespace = `lh-rbac-${RUN}`;
    const pods = `lh-rbac-pods-${RUN}`;
    await createNamespace(client, namespace);
    await createPodNamespace(client, pods);
    const files = ['serviceaccount', 'role', 'rolebinding', 'plugin-clusterrole', 'plugin-clusterrolebinding'].map((name) => `manifests/${name}.yaml`);
    await applyManifests(client, files, namespace, RUN);
    const kubeconfig = join(run.root, 'plugin.kubeconfig');
    await serviceAccountKubeconfig(client, admin, namespace, 'leasehold', kubeconfig);

    const nodeName = `rbac-${RUN}`;
    await createNode(client, nodeName, true, ['10.179.0.0/24']);
    await applyStatefulSet(client, pods, 'db', 1);
    const statefulSet = await client.request<{ metadata: { uid: string } }>('GET', `/apis/apps/v1/namespaces/${pods}/statefulsets/db`);
    const owner = { kind: 'StatefulSet', apiVersion: 'apps/v1', name: 'db', uid: statefulSet.body.metadata.uid };
    const uid = await createPod(client, pods, 'db-0', nodeName, 'Running', owner);
    const node = simulatedNode(run.root, nodeName, kubeconfig, namespace);
    const env = { CNI_ARGS: `K8S_POD_NAMESPACE=${pods};K8S_POD_NAME=db-0;K8S_POD_UID=${uid}`, LEASEHOLD_LOG_LEVEL: 'warn' };
    const call = (containerId: string, name: string, ipam: Record<string, unknown>) =>
      runPluginProcess({ command: 'ADD', containerId, netconf: { cniVersion: '1.1.0', name: `${name}-${RUN}`, type: 'bridge', ipam: { type: 'leasehold', ...ipam } }, hostConfig: node.hostConfig, env });

    const sticky = await call('c1', 'sticky', { ranges: [[{ subnet: '10.179.10.0/24' }]], stickyStatefulSets: true });
    expect(sticky.json, sticky.stdout).toHaveProperty('ips');
    const local = await call('c1', 'local', { rangesFrom: 'nodePodCIDRs' });
    expect(addressesOf(local)[0]).toMatch(/^10\.179\.0\./);
    await call('c1', 'tiny', { ranges: [[{ subnet: '10.179.20.0/30' }]] });
    const exhausted = await call('c2', 'tiny', { ranges: [[{ subnet: '10.179.20.0/30' }]] });
    expect(exhausted.json).toMatchObject({ code: 100 });
    expect(exhausted.stderr).not.toContain('failed to record an Event');
    const events = await client.request<{ items: Array<{ reason: string }> }>('GET', `/api/v1/namespaces/${pods}/events`);
    expect(events.body.items.map((event) => event.reason)).toContain('AddressPoolExhausted');
    expect(`${sticky.stderr}${local.stderr}`).not.toMatch(/refused|forbidden/i);
    await deleteNode(client, nodeName);
  });
});
