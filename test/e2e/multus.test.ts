import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeStore } from '../../lib/kube/store.js';
import {
  type ConsistencyReport,
  checkConsistency,
  isConsistent,
} from '../../lib/pool/consistency.js';
import {
  type PodRuntime,
  type PodSandbox,
  type RuntimeSettings,
  errorMessage,
} from './support/cni-runtime.js';
import {
  type LocalCluster,
  createNamespace,
  scratchDir,
  simulatedNode,
  startCluster,
} from './support/cluster.js';
import { LoopbackRelay } from './support/loopback-relay.js';
import { MultusRuntime, multusBinary } from './support/multus.js';
import { MultusDriver } from './support/multus-driver.js';
import {
  type NetworkStatus,
  applyNadCrd,
  createNad,
  createNadObject,
  createPod,
  networkStatus,
} from './support/pods.js';
import { Sandbox, requireSystem, run } from './support/system.js';

/** Namespace of the shard ConfigMaps and Leases. */
const STORE_NAMESPACE = 'leasehold-multus';
/** Object and network names carry the run's start time, so runs against a cluster left up do not collide. */
const RUN = Date.now().toString(36);
const PARENT = 'lhmparent0';

let cluster: LocalCluster;
let sandbox: Sandbox;
let root: string;
let settings: RuntimeSettings;
let relay: LoopbackRelay | undefined;

beforeAll(async () => {
  requireSystem();
  cluster = startCluster();
  await createNamespace(cluster.client, STORE_NAMESPACE);
  await applyNadCrd(cluster.client);
  root = scratchDir('leasehold-multus-');

  sandbox = new Sandbox('lhmul');
  // A veth end is the macvlan parent: it needs no kernel module beyond veth.
  sandbox.inHost('ip', ['link', 'add', PARENT, 'type', 'veth', 'peer', 'name', 'lhmparent1']);
  sandbox.inHost('ip', ['link', 'set', PARENT, 'up']);
  sandbox.inHost('ip', ['link', 'set', 'lhmparent1', 'up']);
  // The plugins run in the sandbox's host namespace, whose loopback is not the machine's.
  const apiPort = Number(new URL(cluster.client.server).port);
  relay = await LoopbackRelay.start(apiPort, sandbox.host, root);

  const node = simulatedNode(root, 'node-1', cluster.kubeconfig, STORE_NAMESPACE);
  settings = {
    hostNamespace: sandbox.host,
    binDir: sandbox.binDir,
    cacheDir: join(root, 'cache'),
    kubeconfig: cluster.kubeconfig,
    defaultNetwork: {
      cniVersion: '1.0.0',
      name: 'cluster-default',
      plugins: [
        {
          type: 'bridge',
          bridge: 'lhmbr0',
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '10.65.0.0/16' }]],
            dataDir: join(root, 'host-local'),
          },
        },
      ],
    },
    env: { LEASEHOLD_CONFIG_FILE: node.hostConfig },
  };
}, 900_000);

afterAll(() => {
  relay?.stop();
  sandbox?.cleanup();
  cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('NetworkAttachmentDefinition CRD', () => {
  it('accepts every example NAD', async () => {
    const dir = 'examples/nad';
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
      await createNadObject(cluster.client, load(readFileSync(join(dir, file), 'utf8')));
    }
  });
});

let subnets = 0;

/** A fresh /24 per network, as its first three octets, so that no two tests share addresses. */
function nextPrefix(): string {
  subnets++;
  return `10.66.${subnets}`;
}

function macvlanConfig(
  network: string,
  prefix: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: network,
    type: 'macvlan',
    master: PARENT,
    mode: 'bridge',
    ipam: { type: 'leasehold', ranges: [[{ subnet: `${prefix}.0/24` }]] },
    ...extra,
  };
}

function inspector(): KubeStore {
  return new KubeStore({
    client: cluster.client,
    namespace: STORE_NAMESPACE,
    holder: 'test',
    cacheDir: scratchDir('leasehold-inspect-'),
  });
}

/** Checks the network's shards and returns the report for further checks. */
async function expectConsistent(network: string): Promise<ConsistencyReport> {
  const report = await checkConsistency(inspector(), network);
  expect(isConsistent(report), JSON.stringify(report)).toBe(true);
  return report;
}

function netnsName(pod: PodSandbox): string {
  return basename(pod.netns);
}

describe.each(['multus', 'driver'] as const)('pods attached through %s', (path) => {
  let runtime: PodRuntime;
  let namespace: string;
  const started: PodSandbox[] = [];

  beforeAll(async () => {
    if (path === 'multus' && !existsSync(multusBinary())) {
      throw new Error(`${multusBinary()} is missing; build it with bash scripts/test-deps.sh`);
    }
    runtime =
      path === 'multus' ? new MultusRuntime(settings) : new MultusDriver(settings, cluster.client);
    namespace = `mul-${path}-${RUN}`;
    await createNamespace(cluster.client, namespace);
  });

  afterAll(async () => {
    for (const pod of started) await stopPod(pod);
  });

  function networkName(test: string): string {
    return `${test}-${path}-${RUN}`;
  }

  /** Creates the pod through the API and its sandbox's network namespace, and calls ADD. */
  async function startPod(
    name: string,
    networks: string,
    podNamespace = namespace,
  ): Promise<{ pod: PodSandbox; added: Awaited<ReturnType<PodRuntime['add']>> }> {
    const ref = await createPod(cluster.client, podNamespace, name, networks);
    const containerId = randomBytes(32).toString('hex');
    const netns = sandbox.addNamespace(`lhmul-${path}-${name}`);
    const pod: PodSandbox = { ...ref, containerId, netns };
    started.push(pod);
    return { pod, added: await runtime.add(pod) };
  }

  /** Calls DEL and removes the sandbox's network namespace. */
  async function stopPod(pod: PodSandbox): Promise<void> {
    const index = started.indexOf(pod);
    if (index < 0) return;
    started.splice(index, 1);
    const deleted = await runtime.del(pod);
    expect(deleted.code, errorMessage(deleted)).toBe(0);
    run('ip', ['netns', 'del', netnsName(pod)]);
  }

  async function statusOf(pod: PodSandbox, name: string): Promise<NetworkStatus | undefined> {
    return (await networkStatus(cluster.client, pod)).find((entry) => entry.name === name);
  }

  it('reports and configures the allocated address', async () => {
    const network = networkName('basic');
    const prefix = nextPrefix();
    await createNad(cluster.client, namespace, 'basic', macvlanConfig(network, prefix));

    const { pod, added } = await startPod('basic', 'basic');
    expect(added.code, errorMessage(added)).toBe(0);

    const status = await statusOf(pod, `${namespace}/basic`);
    expect(status?.interface).toBe('net1');
    expect(status?.ips).toHaveLength(1);
    const address = status?.ips?.[0] as string;
    expect(address.startsWith(`${prefix}.`)).toBe(true);
    expect(sandbox.addresses(netnsName(pod), 'net1')).toEqual([`${address}/24`]);
    expect((await statusOf(pod, 'cluster-default'))?.default).toBe(true);

    const report = await expectConsistent(network);
    expect(report.allocations.map((entry) => entry.address)).toEqual([address]);
    expect(report.allocations[0]?.owner).toMatchObject({
      podNamespace: namespace,
      podName: 'basic',
      podUid: pod.uid,
      containerId: pod.containerId,
      ifName: 'net1',
    });

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('gives one NAD attached twice two addresses', async () => {
    const network = networkName('twice');
    await createNad(cluster.client, namespace, 'twice', macvlanConfig(network, nextPrefix()));

    const { pod, added } = await startPod('twice', 'twice,twice');
    expect(added.code, errorMessage(added)).toBe(0);

    const statuses = (await networkStatus(cluster.client, pod)).filter(
      (entry) => entry.name === `${namespace}/twice`,
    );
    expect(statuses.map((entry) => entry.interface)).toEqual(['net1', 'net2']);
    const [first, second] = statuses.map((entry) => entry.ips?.[0]);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first).not.toBe(second);
    expect(sandbox.addresses(netnsName(pod), 'net1')).toEqual([`${first}/24`]);
    expect(sandbox.addresses(netnsName(pod), 'net2')).toEqual([`${second}/24`]);

    const report = await expectConsistent(network);
    expect(report.allocations.map((entry) => entry.owner.ifName).sort()).toEqual(['net1', 'net2']);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('honours requested ips', async () => {
    const network = networkName('static');
    const prefix = nextPrefix();
    await createNad(
      cluster.client,
      namespace,
      'static',
      macvlanConfig(network, prefix, { capabilities: { ips: true } }),
    );

    const { pod, added } = await startPod(
      'static',
      JSON.stringify([{ name: 'static', ips: [`${prefix}.50/24`] }]),
    );
    expect(added.code, errorMessage(added)).toBe(0);

    expect((await statusOf(pod, `${namespace}/static`))?.ips).toEqual([`${prefix}.50`]);
    expect(sandbox.addresses(netnsName(pod), 'net1')).toEqual([`${prefix}.50/24`]);
    expect((await expectConsistent(network)).allocations.map((entry) => entry.address)).toEqual([
      `${prefix}.50`,
    ]);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('honours ips without the capability', async () => {
    // Multus also passes requested ips as the CNI_ARGS key IP, which libcni passes to every plugin.
    const network = networkName('args');
    const prefix = nextPrefix();
    await createNad(cluster.client, namespace, 'args', macvlanConfig(network, prefix));

    const request = JSON.stringify([{ name: 'args', ips: [`${prefix}.70/24`] }]);
    const { pod, added } = await startPod('args', request);
    expect(added.code, errorMessage(added)).toBe(0);

    expect((await statusOf(pod, `${namespace}/args`))?.ips).toEqual([`${prefix}.70`]);
    expect(sandbox.addresses(netnsName(pod), 'net1')).toEqual([`${prefix}.70/24`]);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('fails a requested address in use', async () => {
    const network = networkName('taken');
    const prefix = nextPrefix();
    await createNad(
      cluster.client,
      namespace,
      'taken',
      macvlanConfig(network, prefix, { capabilities: { ips: true } }),
    );
    const request = JSON.stringify([{ name: 'taken', ips: [`${prefix}.60/24`] }]);

    const holder = await startPod('taken-1', request);
    expect(holder.added.code, errorMessage(holder.added)).toBe(0);
    const { pod, added } = await startPod('taken-2', request);
    expect(added.code).not.toBe(0);
    // The source in the message shows that the request came as runtimeConfig.ips.
    expect(errorMessage(added)).toContain(
      `requested address ${prefix}.60 (runtimeConfig.ips[0]) is in use on network "${network}" by pod ${namespace}/taken-1`,
    );
    // The failed ADD removed what it had attached, the default network too.
    expect(sandbox.hasInterface(netnsName(pod), 'net1')).toBe(false);
    expect(sandbox.hasInterface(netnsName(pod), 'eth0')).toBe(false);

    const report = await expectConsistent(network);
    expect(report.allocations.map((entry) => entry.owner.podName)).toEqual(['taken-1']);

    await stopPod(pod);
    await stopPod(holder.pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('frees every address on DEL', async () => {
    const network = networkName('free');
    const prefix = nextPrefix();
    // Two addresses only: a second pod gets both back only if DEL freed both.
    const ranges = [
      [{ subnet: `${prefix}.0/24`, rangeStart: `${prefix}.10`, rangeEnd: `${prefix}.11` }],
    ];
    await createNad(
      cluster.client,
      namespace,
      'free',
      macvlanConfig(network, prefix, { ipam: { type: 'leasehold', ranges } }),
    );

    const first = await startPod('free-1', 'free,free');
    expect(first.added.code, errorMessage(first.added)).toBe(0);
    expect((await expectConsistent(network)).allocations).toHaveLength(2);

    await stopPod(first.pod);
    const afterDel = await expectConsistent(network);
    expect(afterDel.allocations).toEqual([]);
    expect(afterDel.shards).toBe(1);

    const second = await startPod('free-2', 'free,free');
    expect(second.added.code, errorMessage(second.added)).toBe(0);
    const addresses = (await networkStatus(cluster.client, second.pod))
      .filter((entry) => entry.name === `${namespace}/free`)
      .map((entry) => entry.ips?.[0]);
    expect(addresses.sort()).toEqual([`${prefix}.10`, `${prefix}.11`]);

    await stopPod(second.pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('shares one pool across namespaces', async () => {
    const network = networkName('shared');
    const prefix = nextPrefix();
    const other = `${namespace}-b`;
    await createNamespace(cluster.client, other);
    const ranges = [
      [{ subnet: `${prefix}.0/24`, rangeStart: `${prefix}.20`, rangeEnd: `${prefix}.21` }],
    ];
    const config = macvlanConfig(network, prefix, { ipam: { type: 'leasehold', ranges } });
    await createNad(cluster.client, namespace, 'shared', config);
    await createNad(cluster.client, other, 'shared', config);

    const a = await startPod('shared-a', 'shared');
    const b = await startPod('shared-b', 'shared', other);
    expect(a.added.code, errorMessage(a.added)).toBe(0);
    expect(b.added.code, errorMessage(b.added)).toBe(0);

    const addressA = (await statusOf(a.pod, `${namespace}/shared`))?.ips?.[0];
    const addressB = (await statusOf(b.pod, `${other}/shared`))?.ips?.[0];
    expect([addressA, addressB].sort()).toEqual([`${prefix}.20`, `${prefix}.21`]);
    const report = await expectConsistent(network);
    expect(report.allocations.map((entry) => entry.owner.podNamespace).sort()).toEqual(
      [namespace, other].sort(),
    );

    await stopPod(a.pod);
    await stopPod(b.pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });
});
