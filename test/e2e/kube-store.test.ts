import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/errors.js';
import { KubeStore } from '../../lib/kube/store.js';
import { newShard, withReservation } from '../../lib/ipam/shard.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { restartApiServer, setUpClusterRun, simulatedNode } from './support/cluster.js';
import { type PluginExit, addressesOf, runPluginProcess, withConcurrency } from './support/plugin-process.js';
import { requireSystem } from './support/system.js';

const NAMESPACE = 'leasehold-e2e';
const run = setUpClusterRun(NAMESPACE, 'leasehold-kube-', requireSystem);

/** Network names carry the run's start time, so runs against a cluster left up do not collide. */
const RUN = Date.now().toString(36);

function networkName(name: string): string {
  return `${name}-${RUN}`;
}

function netconf(name: string, ranges: unknown): Record<string, unknown> {
  return { cniVersion: '1.1.0', name: networkName(name), type: 'macvlan', ipam: { type: 'leasehold', ranges } };
}

function inspector(): KubeStore {
  return new KubeStore({ client: run.cluster.client, namespace: NAMESPACE, holder: 'test', cacheDir: mkdtempSync(join(run.root, 'inspect-')) });
}

describe('Kubernetes store through the plugin binary', () => {
  it('serves 200 parallel ADDs from 8 nodes, then frees them all', { timeout: 600_000 }, async () => {
    const nodes = Array.from({ length: 8 }, (_, i) => simulatedNode(run.root, `node-${i}`, run.cluster.kubeconfig, NAMESPACE));
    const conf = netconf('wide', [[{ subnet: '10.40.0.0/19' }]]);
    const started = Date.now();
    const adds = await untilSettled(
      Array.from({ length: 200 }, (_, i) => () => runPluginProcess({ command: 'ADD', containerId: `c${i}`, netconf: conf, hostConfig: (nodes[i % 8] as { hostConfig: string }).hostConfig })),
    );
    console.log(`200 ADDs took ${Date.now() - started} ms`);
    const addresses = adds.flatMap(addressesOf);
    expect(new Set(addresses).size).toBe(200);

    const report = await checkConsistency(inspector(), networkName('wide'));
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(200);
    expect(report.shards).toBeGreaterThan(1);
    expect(new Set(report.allocations.map((entry) => entry.address))).toEqual(new Set(addresses));

    await untilSettled(
      Array.from({ length: 200 }, (_, i) => () => runPluginProcess({ command: 'DEL', containerId: `c${i}`, netconf: conf, hostConfig: (nodes[(i + 3) % 8] as { hostConfig: string }).hostConfig })),
    );
    const after = await checkConsistency(inspector(), networkName('wide'));
    expect(isConsistent(after)).toBe(true);
    expect(after.allocations).toEqual([]);
  });
});

/**
 * Runs the calls as a runtime does, retrying those that fail with code 11 (try again later) for
 * up to three rounds. Any other failure fails the test. Returns each call's last exit.
 */
async function untilSettled(calls: Array<() => Promise<PluginExit>>): Promise<PluginExit[]> {
  const exits: PluginExit[] = new Array(calls.length);
  let pending = calls.map((_, index) => index);
  for (let round = 0; round < 3 && pending.length > 0; round++) {
    const results = await withConcurrency(16, pending.map((index) => calls[index] as () => Promise<PluginExit>));
    results.forEach((exit, position) => (exits[pending[position] as number] = exit));
    for (const exit of results) if (exit.code !== 0) expect(exit.json?.code, exit.stdout).toBe(11);
    pending = pending.filter((_, position) => results[position]?.code !== 0);
  }
  expect(pending.map((index) => exits[index]?.stdout)).toEqual([]);
  return exits;
}

function nodes(count: number, prefix: string): Array<{ hostConfig: string }> {
  return Array.from({ length: count }, (_, i) => simulatedNode(run.root, `${prefix}-${i}`, run.cluster.kubeconfig, NAMESPACE));
}

describe('Kubernetes store under failure', () => {
  it('hands out exactly the range size under concurrency', { timeout: 300_000 }, async () => {
    const hosts = nodes(4, 'small');
    const conf = netconf('small', [[{ subnet: '10.42.0.0/28' }]]);
    const exits = await withConcurrency(
      16,
      Array.from({ length: 30 }, (_, i) => () => runPluginProcess({ command: 'ADD', containerId: `s${i}`, netconf: conf, hostConfig: (hosts[i % 4] as { hostConfig: string }).hostConfig })),
    );
    const succeeded = exits.filter((exit) => exit.code === 0);
    const codes = exits.filter((exit) => exit.code !== 0).map((exit) => exit.json?.code);
    expect(succeeded).toHaveLength(13);
    expect(codes).toEqual(Array(17).fill(100));
    expect(new Set(succeeded.flatMap(addressesOf)).size).toBe(13);
    const report = await checkConsistency(inspector(), networkName('small'));
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(13);
  });

  it('survives SIGKILL at random points of ADD and DEL', { timeout: 600_000 }, async () => {
    const hosts = nodes(4, 'kill');
    const conf = netconf('kill', [[{ subnet: '10.43.0.0/22' }]]);
    const host = (i: number): string => (hosts[i % 4] as { hostConfig: string }).hostConfig;
    const ids = Array.from({ length: 80 }, (_, i) => `k${i}`);
    const killAt = (): number => Math.floor(Math.random() * 400);
    await withConcurrency(16, ids.map((id, i) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: host(i) }, killAt())));

    const afterKills = await checkConsistency(inspector(), networkName('kill'));
    expect(isConsistent(afterKills)).toBe(true);
    for (const entry of afterKills.allocations) expect(ids).toContain(entry.owner.containerId);

    // The runtime retries every ADD it saw fail: each container ends with exactly one address.
    const retried = await untilSettled(ids.map((id, i) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: host(i) })));
    const settled = await checkConsistency(inspector(), networkName('kill'));
    expect(isConsistent(settled)).toBe(true);
    expect(settled.allocations.map((entry) => entry.owner.containerId).sort()).toEqual([...ids].sort());
    const held = new Map(settled.allocations.map((entry) => [entry.owner.containerId, entry.address]));
    retried.forEach((exit, i) => expect(addressesOf(exit)).toEqual([held.get(ids[i] as string)]));

    await withConcurrency(16, ids.map((id, i) => () => runPluginProcess({ command: 'DEL', containerId: id, netconf: conf, hostConfig: host(i) }, killAt())));
    await untilSettled(ids.map((id, i) => () => runPluginProcess({ command: 'DEL', containerId: id, netconf: conf, hostConfig: host(i) })));
    const empty = await checkConsistency(inspector(), networkName('kill'));
    expect(isConsistent(empty)).toBe(true);
    expect(empty.allocations).toEqual([]);
  });

  it('rejects the write of a holder stalled past its Lease', { timeout: 60_000 }, async () => {
    const network = networkName('stall');
    const place = { family: 4 as const, subnetFirst: 0x0a2c0000n, prefixLength: 24, block: 0n };
    const key = 'v4-0a2c0000-24-0';
    const owner = (id: string) => ({ containerId: id, ifName: 'eth0', allocatedAt: new Date().toISOString() });
    const stalled = new KubeStore({ client: run.cluster.client, namespace: NAMESPACE, holder: 'node-stalled', cacheDir: mkdtempSync(join(run.root, 'stalled-')) });
    const next = new KubeStore({ client: run.cluster.client, namespace: NAMESPACE, holder: 'node-next', cacheDir: mkdtempSync(join(run.root, 'next-')) });

    const stalledLock = await stalled.lockShard(network, key);
    const base = await stalled.readShard(network, key);
    expect(base).toBeUndefined();

    // The next writer waits for the stalled holder's Lease to expire, then writes.
    const started = Date.now();
    const nextLock = await next.lockShard(network, key);
    expect(Date.now() - started).toBeGreaterThan(1_000);
    await next.writeShard(network, key, withReservation(newShard(network, place), 5, owner('next')), undefined);
    await nextLock.release();

    // The stalled holder wakes up and writes on its old read: the API server refuses it.
    const stale = withReservation(newShard(network, place), 5, owner('stalled'));
    await expect(stalled.writeShard(network, key, stale, base?.version)).rejects.toBeInstanceOf(ConflictError);
    await stalledLock.release();

    const stored = await next.readShard(network, key);
    expect(stored?.data.owners['5']?.containerId).toBe('next');
  });

  it('lists only shards that may have StatefulSet owners', { timeout: 60_000 }, async () => {
    const network = networkName('sticky-label');
    const store = inspector();
    const place = (block: bigint) => ({ family: 4 as const, subnetFirst: 0x0a2e0000n, prefixLength: 16, block });
    const owner = (id: string, sticky?: string) => ({ containerId: id, ifName: 'eth0', allocatedAt: new Date().toISOString(), ...(sticky ? { sticky } : {}) });
    await store.writeShard(network, 'v4-0a2e0000-16-0', withReservation(newShard(network, place(0n)), 5, owner('web-0', 'apps/web-0')), undefined);
    const plain = await store.writeShard(network, 'v4-0a2e0000-16-1', withReservation(newShard(network, place(1n)), 5, owner('job')), undefined);
    await store.writeShard(network, 'v4-0a2e0000-16-2', withReservation(newShard(network, place(2n)), 5, owner('legacy')), undefined);
    // A shard written before the label existed has none.
    const path = `/api/v1/namespaces/${NAMESPACE}/configmaps/${store.shardName(network, 'v4-0a2e0000-16-2')}`;
    const legacy = await run.cluster.client.request<{ metadata: { labels: Record<string, string> } }>('GET', path);
    delete legacy.body.metadata.labels['leasehold.io/sticky'];
    await run.cluster.client.request('PUT', path, { body: legacy.body });

    expect((await store.listShards(network)).sort()).toEqual(['v4-0a2e0000-16-0', 'v4-0a2e0000-16-1', 'v4-0a2e0000-16-2']);
    expect((await store.listShards(network, { sticky: true })).sort()).toEqual(['v4-0a2e0000-16-0', 'v4-0a2e0000-16-2']);

    // The label follows the data: a StatefulSet owner written into the plain shard adds it.
    const current = await store.readShard(network, 'v4-0a2e0000-16-1');
    await store.writeShard(network, 'v4-0a2e0000-16-1', withReservation(current?.data as never, 6, owner('web-1', 'apps/web-1')), plain);
    expect((await store.listShards(network, { sticky: true })).sort()).toEqual(['v4-0a2e0000-16-0', 'v4-0a2e0000-16-1', 'v4-0a2e0000-16-2']);
  });

  it('keeps every allocation across an API server restart', { timeout: 600_000 }, async () => {
    const hosts = nodes(4, 'restart');
    const conf = netconf('restart', [[{ subnet: '10.45.0.0/22' }]]);
    const host = (i: number): string => (hosts[i % 4] as { hostConfig: string }).hostConfig;
    const before = await withConcurrency(8, Array.from({ length: 20 }, (_, i) => () => runPluginProcess({ command: 'ADD', containerId: `r${i}`, netconf: conf, hostConfig: host(i) })));
    expect(before.every((exit) => exit.code === 0)).toBe(true);

    const ids = Array.from({ length: 60 }, (_, i) => `r${i + 20}`);
    const during = withConcurrency(6, ids.map((id, i) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: host(i) })));
    await new Promise((resolve) => setTimeout(resolve, 500));
    restartApiServer();
    const exits = await during;
    for (const exit of exits) {
      if (exit.code !== 0) expect(exit.json?.code).toBe(11);
    }

    await untilSettled(ids.map((id, i) => () => runPluginProcess({ command: 'ADD', containerId: id, netconf: conf, hostConfig: host(i) })));
    const report = await checkConsistency(inspector(), networkName('restart'));
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations).toHaveLength(80);
    const stored = new Map(report.allocations.map((entry) => [entry.owner.containerId, entry.address]));
    before.forEach((exit, i) => expect(stored.get(`r${i}`)).toBe(addressesOf(exit)[0]));
  });
});
