import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newShard, shardKey, withReservation, type Owner } from '../../lib/ipam/shard.js';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import { KubeStore } from '../../lib/kube/store.js';
import { silentLog } from '../../lib/log.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { RECONCILER_HOLDER } from '../../lib/reconcile/main.js';
import { type RunHooks, reconcileOnce } from '../../lib/reconcile/run.js';
import type { RunSummary } from '../../lib/reconcile/summary.js';
import {
  type LocalCluster,
  createNamespace,
  scratchDir,
  simulatedNode,
  startCluster,
} from './support/cluster.js';
import {
  applyManifests,
  applyStatefulSet,
  createLease,
  createNode,
  createPod,
  createPodNamespace,
  deleteNode,
  deletePod,
  runReconcilerProcess,
  serviceAccountKubeconfig,
  serviceAccountToken,
  setPodPhase,
  versionsIn,
} from './support/kube-objects.js';
import { runReconcilerInPod } from './support/in-pod.js';
import { addressesOf, runPluginProcess } from './support/plugin-process.js';
import { applyNadCrd, createNad, hasNadCrd } from './support/pods.js';
import { requireSystem } from './support/system.js';

/** Object names carry the run's start time, so runs against a cluster left up do not collide. */
const RUN = Date.now().toString(36);
let cluster: LocalCluster;
let root: string;
const nodes: string[] = [];

beforeAll(async () => {
  requireSystem();
  cluster = startCluster();
  root = scratchDir('leasehold-reconcile-');
}, 900_000);

afterAll(async () => {
  for (const node of nodes) await deleteNode(cluster.client, node);
  cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One test's world: its own store namespace (the reconciler walks every shard there), its own
 * pod namespace, a Ready node and a network whose range runs from rangeStart to rangeEnd.
 */
/** The reconciler's RBAC manifests, by the kind in their file names. */
const RECONCILER_MANIFESTS = [
  'serviceaccount',
  'role',
  'rolebinding',
  'clusterrole',
  'clusterrolebinding',
];

class Scene {
  readonly store: string;
  readonly pods: string;
  readonly node: string;
  readonly network: string;
  private readonly hostConfig: string;

  constructor(
    readonly name: string,
    private readonly rangeStart: string,
    private readonly rangeEnd: string,
  ) {
    this.store = `lh-rec-${name}-${RUN}`;
    this.pods = `pods-${name}-${RUN}`;
    this.node = `${name}-${RUN}-n1`;
    this.network = `rec-${name}-${RUN}`;
    this.hostConfig = simulatedNode(root, this.node, cluster.kubeconfig, this.store).hostConfig;
  }

  async setUp(): Promise<void> {
    await createNamespace(cluster.client, this.store);
    await createPodNamespace(cluster.client, this.pods);
    await this.addNode(this.node, true);
  }

  async addNode(name: string, ready: boolean): Promise<void> {
    nodes.push(name);
    await createNode(cluster.client, name, ready);
  }

  netconf(): Record<string, unknown> {
    const range = {
      subnet: `${this.rangeStart.split('.').slice(0, 3).join('.')}.0/24`,
      rangeStart: this.rangeStart,
      rangeEnd: this.rangeEnd,
    };
    return {
      cniVersion: '1.1.0',
      name: this.network,
      type: 'macvlan',
      ipam: { type: 'leasehold', ranges: [[range]] },
    };
  }

  /** Calls ADD for a pod, as the runtime does when it starts the pod's sandbox. */
  async add(
    pod: string,
    uid: string,
    containerId = `${pod}-${uid.slice(0, 8)}`,
  ): Promise<string | undefined> {
    const exit = await runPluginProcess({
      command: 'ADD',
      containerId,
      netconf: this.netconf(),
      hostConfig: this.hostConfig,
      env: { CNI_ARGS: `K8S_POD_NAMESPACE=${this.pods};K8S_POD_NAME=${pod};K8S_POD_UID=${uid}` },
    });
    return exit.code === 0 ? addressesOf(exit)[0] : undefined;
  }

  /** Creates a Running pod on the scene's node and adds it; returns its UID and address. */
  async startPod(pod: string, node = this.node): Promise<{ uid: string; address: string }> {
    const uid = await createPod(cluster.client, this.pods, pod, node);
    const address = await this.add(pod, uid);
    expect(address, `ADD for ${pod}`).toBeDefined();
    return { uid, address: address as string };
  }

  inspector(): KubeStore {
    return new KubeStore({
      client: cluster.client,
      namespace: this.store,
      holder: 'test-inspector',
      cacheDir: mkdtempSync(join(root, 'inspect-')),
    });
  }

  /** Owner records by pod name, after checking that the shards are consistent. */
  async owners(): Promise<Map<string, Owner>> {
    const report = await checkConsistency(this.inspector(), this.network);
    expect(isConsistent(report), JSON.stringify(report)).toBe(true);
    return new Map(
      report.allocations.map((entry) => [
        entry.owner.sticky ?? entry.owner.podName ?? entry.owner.containerId,
        entry.owner,
      ]),
    );
  }

  /** Runs the built reconciler once against the scene's store namespace. */
  async reconcile(flags: string[] = []): Promise<Record<string, unknown>> {
    const exit = await runReconcilerProcess(cluster.kubeconfig, [
      '--namespace',
      this.store,
      '--min-age',
      '0s',
      '--grace-period',
      '0s',
      ...flags,
    ]);
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    expect(exit.summary).toBeDefined();
    return exit.summary as Record<string, unknown>;
  }

  /** Runs the reconciler in this process, so a hook can act between its steps. */
  reconcileWith(hooks: RunHooks, gracePeriodMs = 0): Promise<RunSummary> {
    const store = new KubeStore({
      client: cluster.client,
      namespace: this.store,
      holder: RECONCILER_HOLDER,
      cacheDir: mkdtempSync(join(root, 'rec-')),
    });
    const settings = { namespace: this.store, dryRun: false, gracePeriodMs, minAgeMs: 0 };
    return reconcileOnce({ client: cluster.client, store, log: silentLog, settings, hooks });
  }
}

describe('reconciler against the API server', () => {
  it('frees addresses of pods deleted without DEL', async () => {
    const scene = new Scene('gone', '10.60.0.10', '10.60.0.12');
    await scene.setUp();
    const started = await Promise.all(['p1', 'p2', 'p3'].map((pod) => scene.startPod(pod)));
    expect(await scene.add('p4', 'uid-p4')).toBeUndefined();
    for (const pod of ['p1', 'p2', 'p3']) await deletePod(cluster.client, scene.pods, pod);
    const young = await scene.reconcile(['--min-age', '1h']);
    expect(young).toMatchObject({ examined: 3, suspected: 0, marked: 0 });
    await sleep(1_000);

    const first = await scene.reconcile(['--grace-period', '2s', '--min-age', '1s']);
    expect(first).toMatchObject({ examined: 3, suspected: 3, marked: 3, freed: 0, errors: 0 });
    for (const owner of (await scene.owners()).values())
      expect(owner.stale?.reason).toBe('pod not found');

    const early = await scene.reconcile(['--grace-period', '1h']);
    expect(early).toMatchObject({ marked: 0, freed: 0 });
    await sleep(2_000);
    const second = await scene.reconcile(['--grace-period', '2s', '--min-age', '1s']);
    expect(second).toMatchObject({ freed: 3, errors: 0 });
    expect((await scene.owners()).size).toBe(0);

    const uid = await createPod(cluster.client, scene.pods, 'p5', scene.node);
    const again = await scene.add('p5', uid);
    expect(started.map((pod) => pod.address)).toContain(again);
    expect([...(await scene.owners()).keys()]).toEqual(['p5']);
  });

  it('keeps a pod created after the pod list', async () => {
    const scene = new Scene('window', '10.60.1.10', '10.60.1.20');
    await scene.setUp();
    let address: string | undefined;
    const first = await scene.reconcileWith({
      afterPodList: async () => {
        address = (await scene.startPod('late')).address;
      },
    });
    expect(address).toBeDefined();
    expect(first).toMatchObject({ examined: 1, freed: 0, errors: 0 });
    expect((await scene.owners()).get('late')?.stale).toBeDefined();

    const second = await scene.reconcile();
    expect(second).toMatchObject({ cleared: 1, freed: 0 });
    const owner = (await scene.owners()).get('late');
    expect(owner?.stale).toBeUndefined();
    expect(owner?.podName).toBe('late');
  });

  it('frees the old UID of a recreated pod', async () => {
    const scene = new Scene('recreate', '10.60.2.10', '10.60.2.20');
    await scene.setUp();
    const old = await scene.startPod('web');
    let fresh: { uid: string; address: string } | undefined;
    await scene.reconcileWith({
      afterPodList: async () => {
        await deletePod(cluster.client, scene.pods, 'web');
        fresh = await scene.startPod('web');
      },
    });
    expect(fresh).toBeDefined();
    for (let run = 0; run < 2; run++) await scene.reconcile();

    const report = await checkConsistency(scene.inspector(), scene.network);
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations.map((entry) => entry.owner.podUid)).toEqual([fresh?.uid]);
    expect(report.allocations.map((entry) => entry.address)).toEqual([fresh?.address]);
    expect(report.allocations[0]?.owner.stale).toBeUndefined();
    expect(old.uid).not.toBe(fresh?.uid);
  });

  it('re-reads a pod missing from the list', async () => {
    const scene = new Scene('race', '10.60.3.10', '10.60.3.20');
    await scene.setUp();
    const key = `${scene.pods}/alive`;
    const { uid } = await scene.startPod('alive');
    const hide = { afterPodList: (pods: Map<string, unknown>) => void pods.delete(key) };

    const first = await scene.reconcileWith(hide);
    expect(first).toMatchObject({ marked: 1, freed: 0 });
    const second = await scene.reconcileWith(hide);
    expect(second).toMatchObject({ suspected: 1, cleared: 1, freed: 0, errors: 0 });
    const owner = (await scene.owners()).get('alive');
    expect(owner?.podUid).toBe(uid);
    expect(owner?.stale).toBeUndefined();
  });

  it('keeps pods of NotReady nodes and frees Failed pods', async () => {
    const scene = new Scene('nodes', '10.60.4.10', '10.60.4.20');
    await scene.setUp();
    const down = `${scene.node}-down`;
    await scene.addNode(down, false);
    await scene.startPod('on-down', down);
    await scene.startPod('failed-on-down', down);
    await setPodPhase(cluster.client, scene.pods, 'failed-on-down', 'Failed');
    await scene.startPod('failed-on-unknown', `${scene.node}-unknown`);
    await setPodPhase(cluster.client, scene.pods, 'failed-on-unknown', 'Failed');
    await scene.startPod('failed');
    await setPodPhase(cluster.client, scene.pods, 'failed', 'Failed');
    await scene.startPod('succeeded');
    await setPodPhase(cluster.client, scene.pods, 'succeeded', 'Succeeded');
    await scene.startPod('running');

    expect(await scene.reconcile()).toMatchObject({ examined: 6, marked: 2 });
    expect(await scene.reconcile()).toMatchObject({ freed: 2, errors: 0 });
    expect([...(await scene.owners()).keys()].sort()).toEqual([
      'failed-on-down',
      'failed-on-unknown',
      'on-down',
      'running',
    ]);
  });

  it('keeps sticky addresses the StatefulSet covers', async () => {
    const scene = new Scene('sticky', '10.60.5.10', '10.60.5.20');
    await scene.setUp();
    await applyStatefulSet(cluster.client, scene.pods, 'web', 2);
    await createPod(cluster.client, scene.pods, 'web-0', scene.node);
    const place = { family: 4 as const, subnetFirst: 0x0a3c0500n, prefixLength: 24, block: 0n };
    const long = new Date(Date.now() - 3_600_000).toISOString();
    const sticky = (ordinal: number, extra: Partial<Owner> = {}): Owner => ({
      containerId: `c-web-${ordinal}`,
      ifName: 'eth0',
      podNamespace: scene.pods,
      podName: `web-${ordinal}`,
      podUid: `old-uid-${ordinal}`,
      node: scene.node,
      allocatedAt: long,
      sticky: `${scene.pods}/web-${ordinal}`,
      ...extra,
    });
    let shard = newShard(scene.network, place);
    shard = withReservation(shard, 10, sticky(0));
    shard = withReservation(shard, 11, sticky(1, { detachedAt: long }));
    shard = withReservation(shard, 12, sticky(2, { detachedAt: long }));
    shard = withReservation(shard, 13, sticky(3, { detachedAt: new Date().toISOString() }));
    await scene.inspector().writeShard(scene.network, shardKey(place), shard, undefined);

    const minAge = ['--min-age', '1h'];
    expect(await scene.reconcile(minAge)).toMatchObject({ examined: 4, marked: 1 });
    expect(await scene.reconcile(minAge)).toMatchObject({ freed: 1 });
    expect([...(await scene.owners()).keys()].sort()).toEqual(
      [0, 1, 3].map((ordinal) => `${scene.pods}/web-${ordinal}`),
    );

    await applyStatefulSet(cluster.client, scene.pods, 'web', 1);
    expect(await scene.reconcile(minAge)).toMatchObject({ marked: 1 });
    expect(await scene.reconcile(minAge)).toMatchObject({ freed: 1, errors: 0 });
    expect([...(await scene.owners()).keys()].sort()).toEqual(
      [0, 3].map((ordinal) => `${scene.pods}/web-${ordinal}`),
    );
  });
});

describe('reconciler clean-up and reports', () => {
  it('dry run changes nothing and lists frees', async () => {
    const scene = new Scene('dry', '10.60.6.10', '10.60.6.20');
    await scene.setUp();
    const addresses = [];
    for (const pod of ['d1', 'd2']) addresses.push((await scene.startPod(pod)).address);
    for (const pod of ['d1', 'd2']) await deletePod(cluster.client, scene.pods, pod);
    expect(await scene.reconcile()).toMatchObject({ marked: 2 });
    await sleep(4_000);

    const before = await versionsIn(cluster.client, scene.store);
    const exit = await runReconcilerProcess(cluster.kubeconfig, [
      '--namespace',
      scene.store,
      '--dry-run',
      '--grace-period',
      '0s',
      '--min-age',
      '0s',
    ]);
    expect(exit.code).toBe(0);
    expect(exit.summary).toMatchObject({
      dryRun: true,
      freed: 2,
      marked: 0,
      emptyShardsRemoved: 0,
      leasesRemoved: 0,
    });
    const wouldFree = exit.lines.filter((line) => line.msg === 'would free address');
    expect(wouldFree.map((line) => line.address).sort()).toEqual(addresses.sort());
    expect(wouldFree.every((line) => line.reason === 'pod not found')).toBe(true);
    expect(exit.lines.some((line) => line.msg === 'would remove Leases nobody holds')).toBe(true);
    expect(await versionsIn(cluster.client, scene.store)).toEqual(before);
    expect((await scene.owners()).size).toBe(2);
  });

  it('removes empty shards and unheld Leases', async () => {
    const scene = new Scene('clean', '10.60.7.10', '10.60.7.20');
    await scene.setUp();
    const inspector = scene.inspector();
    const empty = { family: 4 as const, subnetFirst: 0x0a3c0700n, prefixLength: 24, block: 0n };
    const used = { ...empty, subnetFirst: 0x0a3c0800n };
    const keeper: Owner = {
      containerId: 'no-pod',
      ifName: 'eth0',
      allocatedAt: new Date().toISOString(),
    };
    await inspector.writeShard(
      scene.network,
      shardKey(empty),
      newShard(scene.network, empty),
      undefined,
    );
    await inspector.writeShard(
      scene.network,
      shardKey(used),
      withReservation(newShard(scene.network, used), 3, keeper),
      undefined,
    );
    const hourAgo = new Date(Date.now() - 3_600_000);
    await createLease(cluster.client, scene.store, 'lh-expired', 'node-x', hourAgo, 3);
    await createLease(cluster.client, scene.store, 'lh-unheld', undefined, new Date(), 3);
    await createLease(cluster.client, scene.store, 'lh-held', 'node-y', new Date(), 3_600);

    const dry = await runReconcilerProcess(cluster.kubeconfig, [
      '--namespace',
      scene.store,
      '--dry-run',
    ]);
    expect(dry.summary).toMatchObject({ emptyShardsRemoved: 0, leasesRemoved: 0 });
    expect(dry.lines.filter((line) => line.msg === 'would remove empty shard')).toHaveLength(1);
    expect(Object.keys(await versionsIn(cluster.client, scene.store)).sort()).toEqual(
      [
        `configmap/${inspector.shardName(scene.network, shardKey(empty))}`,
        `configmap/${inspector.shardName(scene.network, shardKey(used))}`,
        'lease/lh-expired',
        'lease/lh-held',
        'lease/lh-unheld',
      ].sort(),
    );

    expect(await scene.reconcile()).toMatchObject({
      emptyShardsRemoved: 1,
      leasesRemoved: 2,
      errors: 0,
    });
    const left = Object.keys(await versionsIn(cluster.client, scene.store)).sort();
    expect(left).toEqual([
      `configmap/${inspector.shardName(scene.network, shardKey(used))}`,
      'lease/lh-held',
    ]);
    expect((await scene.owners()).size).toBe(1);
  });

  it('reports networks no NAD uses', async () => {
    const scene = new Scene('nads', '10.60.9.10', '10.60.9.20');
    await scene.setUp();

    const used = `${scene.network}-used`;
    const unused = `${scene.network}-unused`;
    const pooled = `${scene.network}-pool`;
    const inspector = scene.inspector();

    const owner: Owner = {
      containerId: 'no-pod',
      ifName: 'eth0',
      allocatedAt: new Date().toISOString(),
    };

    for (const [index, network] of [used, unused, pooled].entries()) {
      const place = {
        family: 4 as const,
        subnetFirst: 0x0a3d0000n + BigInt(index * 256),
        prefixLength: 24,
        block: 0n,
      };
      await inspector.writeShard(
        network,
        shardKey(place),
        withReservation(newShard(network, place), 1, owner),
        undefined,
      );
    }

    if (!(await hasNadCrd(cluster.client))) {
      expect(await scene.reconcile()).toMatchObject({
        networkAttachmentDefinitions: false,
        unreferencedNetworks: [],
        errors: 0,
      });
      await applyNadCrd(cluster.client);
    }

    await createNad(cluster.client, scene.pods, 'by-name', {
      cniVersion: '1.0.0',
      name: used,
      type: 'macvlan',
      ipam: { type: 'leasehold' },
    });
    await createNad(cluster.client, scene.pods, 'by-pool', {
      cniVersion: '1.0.0',
      name: 'other',
      plugins: [{ type: 'bridge', ipam: { type: 'leasehold', network_name: pooled } }],
    });

    expect(await scene.reconcile()).toMatchObject({
      networkAttachmentDefinitions: true,
      unreferencedNetworks: [unused],
      errors: 0,
    });

    for (const network of [used, unused, pooled]) {
      expect(isConsistent(await checkConsistency(inspector, network))).toBe(true);
    }
  });
});

describe('reconciler RBAC', () => {
  it('needs nothing beyond its manifests', async () => {
    const scene = new Scene('rbac', '10.60.10.10', '10.60.10.20');
    await scene.setUp();
    const files = RECONCILER_MANIFESTS.map((kind) => `manifests/reconciler-${kind}.yaml`);
    await applyManifests(cluster.client, files, scene.store, RUN);
    const kubeconfig = join(root, 'reconciler.kubeconfig');
    await serviceAccountKubeconfig(
      cluster.client,
      cluster.kubeconfig,
      scene.store,
      'leasehold-reconciler',
      kubeconfig,
    );
    await scene.startPod('kept');
    await scene.startPod('gone');
    await deletePod(cluster.client, scene.pods, 'gone');
    const flags = ['--namespace', scene.store, '--min-age', '0s', '--grace-period', '0s'];

    const runs = [];
    for (let run = 0; run < 3; run++) runs.push(await runReconcilerProcess(kubeconfig, flags));
    for (const exit of runs)
      expect(exit.lines.filter((line) => line.level === 50 || line.level === 40)).toEqual([]);
    expect(runs.map((exit) => exit.code)).toEqual([0, 0, 0]);
    expect(runs[0]?.summary).toMatchObject({ marked: 1, errors: 0 });
    expect(runs[1]?.summary).toMatchObject({ freed: 1, errors: 0 });
    expect([...(await scene.owners()).keys()]).toEqual(['kept']);
  });

  it('runs as its CronJob in a pod', async () => {
    const scene = new Scene('inpod', '10.60.11.10', '10.60.11.20');
    await scene.setUp();
    const files = RECONCILER_MANIFESTS.map((kind) => `manifests/reconciler-${kind}.yaml`);
    // Cluster-scoped names take their own suffix, so this binding is not the previous test's.
    await applyManifests(cluster.client, files, scene.store, `${RUN}-pod`);
    const admin = connectionFromKubeconfig(cluster.kubeconfig);
    const account = {
      token: await serviceAccountToken(cluster.client, scene.store, 'leasehold-reconciler'),
      ca: admin.ca as Buffer,
      namespace: scene.store,
    };
    await scene.startPod('kept');
    await scene.startPod('gone');
    await deletePod(cluster.client, scene.pods, 'gone');
    const flagValues = { '--namespace': scene.store, '--min-age': '0s', '--grace-period': '0s' };

    const runs = [];
    for (let run = 0; run < 2; run++)
      runs.push(await runReconcilerInPod(admin.server, account, flagValues));
    expect(runs.map((exit) => exit.stderr)).toEqual(['', '']);
    expect(runs.map((exit) => exit.code)).toEqual([0, 0]);
    expect(runs[0]?.summary).toMatchObject({ marked: 1, errors: 0 });
    expect(runs[1]?.summary).toMatchObject({ freed: 1, errors: 0 });
    expect([...(await scene.owners()).keys()]).toEqual(['kept']);
  });
});

describe('reconciler command line', () => {
  it('rejects an invalid flag with status 2', async () => {
    const exit = await runReconcilerProcess(cluster.kubeconfig, ['--grace-period', 'ten minutes']);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toBe(
      'leasehold-reconcile: invalid value "ten minutes" for --grace-period: give a whole number with a unit, such as 30s, 10m or 1h\n',
    );
    expect(exit.lines).toEqual([]);
  });

  it('rejects an unknown flag with status 2', async () => {
    const exit = await runReconcilerProcess(cluster.kubeconfig, ['--force']);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(
      /^leasehold-reconcile: Unknown option '--force'; run with --help for the flags\n$/,
    );
  });

  it('exits 1 when the API server is unreachable', async () => {
    const kubeconfig = join(root, 'unreachable.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        'current-context': 'dead',
        contexts: [{ name: 'dead', context: { cluster: 'dead', user: 'dead' } }],
        clusters: [
          {
            name: 'dead',
            cluster: { server: 'https://127.0.0.1:9', 'insecure-skip-tls-verify': true },
          },
        ],
        users: [{ name: 'dead', user: { token: 'none' } }],
      }),
    );
    const exit = await runReconcilerProcess(kubeconfig, []);
    expect(exit.code).toBe(1);
    expect(exit.summary).toMatchObject({ errors: 1 });
    expect(exit.lines.find((line) => line.msg === 'reconcile run failed')?.err).toMatch(
      /127\.0\.0\.1:9/,
    );
  });
});
