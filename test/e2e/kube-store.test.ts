import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeStore } from '../../lib/kube/store.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { type LocalCluster, createNamespace, scratchDir, simulatedNode, startCluster } from './support/cluster.js';
import { addressesOf, runPluginProcess, withConcurrency } from './support/plugin-process.js';
import { requireSystem } from './support/system.js';

const NAMESPACE = 'leasehold-e2e';
let cluster: LocalCluster;
let root: string;

beforeAll(async () => {
  requireSystem();
  cluster = startCluster();
  await createNamespace(cluster.client, NAMESPACE);
  root = scratchDir('leasehold-kube-');
}, 900_000);

afterAll(() => {
  cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Network names carry the run's start time, so runs against a cluster left up do not collide. */
const RUN = Date.now().toString(36);

function networkName(name: string): string {
  return `${name}-${RUN}`;
}

function netconf(name: string, ranges: unknown): Record<string, unknown> {
  return { cniVersion: '1.1.0', name: networkName(name), type: 'macvlan', ipam: { type: 'leasehold', ranges } };
}

function inspector(): KubeStore {
  return new KubeStore({ client: cluster.client, namespace: NAMESPACE, holder: 'test', cacheDir: scratchDir('leasehold-inspect-') });
}

describe('Kubernetes store through the plugin binary', () => {
  it('serves 200 parallel ADDs from 8 nodes, then frees them all', { timeout: 600_000 }, async () => {
    const nodes = Array.from({ length: 8 }, (_, i) => simulatedNode(root, `node-${i}`, cluster.kubeconfig, NAMESPACE));
    const conf = netconf('wide', [[{ subnet: '10.40.0.0/19' }]]);
    const started = Date.now();
    const adds = await withConcurrency(
      32,
      Array.from({ length: 200 }, (_, i) => () => runPluginProcess({ command: 'ADD', containerId: `c${i}`, netconf: conf, hostConfig: (nodes[i % 8] as { hostConfig: string }).hostConfig })),
    );
    console.log(`200 ADDs took ${Date.now() - started} ms`);
    expect(adds.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    const addresses = adds.flatMap(addressesOf);
    expect(new Set(addresses).size).toBe(200);

    const report = await checkConsistency(inspector(), networkName('wide'));
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(200);
    expect(report.shards).toBeGreaterThan(1);
    expect(new Set(report.allocations.map((entry) => entry.address))).toEqual(new Set(addresses));

    const dels = await withConcurrency(
      32,
      Array.from({ length: 200 }, (_, i) => () => runPluginProcess({ command: 'DEL', containerId: `c${i}`, netconf: conf, hostConfig: (nodes[(i + 3) % 8] as { hostConfig: string }).hostConfig })),
    );
    expect(dels.filter((exit) => exit.code !== 0).map((exit) => exit.stdout)).toEqual([]);
    const after = await checkConsistency(inspector(), networkName('wide'));
    expect(isConsistent(after)).toBe(true);
    expect(after.allocations).toEqual([]);
  });
});
