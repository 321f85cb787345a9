import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsistencyReport,
  checkConsistency,
  isConsistent,
} from '../../lib/pool/consistency.js';
import { type PodRuntime, type PodSandbox, errorMessage } from './support/cni-runtime.js';
import { createNamespace } from './support/cluster.js';
import { MultusRuntime, multusBinary } from './support/multus.js';
import { MultusDriver } from './support/multus-driver.js';
import { MACVLAN_PARENT, MultusEnvironment, PodHarness } from './support/multus-environment.js';
import {
  type NetworkStatus,
  createNad,
  createNadObject,
  deletePod,
  networkStatus,
} from './support/pods.js';
import { requireSystem } from './support/system.js';

/** Object and network names carry the run's start time, so runs against a cluster left up do not collide. */
const RUN = Date.now().toString(36);

let env: MultusEnvironment;

beforeAll(async () => {
  requireSystem();
  env = await MultusEnvironment.start();
}, 900_000);

afterAll(() => env?.stop());

describe('NetworkAttachmentDefinition CRD', () => {
  it('accepts every example NAD', async () => {
    const dir = 'examples/nad';
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
      await createNadObject(env.client, load(readFileSync(join(dir, file), 'utf8')));
    }
  });
});

let subnets = 0;

/** Returns the first three octets of a fresh /24, so that no two networks share addresses. */
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
    master: MACVLAN_PARENT,
    mode: 'bridge',
    ipam: { type: 'leasehold', ranges: [[{ subnet: `${prefix}.0/24` }]] },
    ...extra,
  };
}

/** Checks the network's shards and returns the report for further checks. */
async function expectConsistent(network: string): Promise<ConsistencyReport> {
  const report = await checkConsistency(env.inspector(), network);
  expect(isConsistent(report), JSON.stringify(report)).toBe(true);
  return report;
}

function addressesIn(pod: PodSandbox, ifName: string): string[] {
  return env.sandbox.addresses(basename(pod.netns), ifName);
}

async function statusOf(pod: PodSandbox, name: string): Promise<NetworkStatus | undefined> {
  return (await networkStatus(env.client, pod)).find((entry) => entry.name === name);
}

/** Checks that the pod's network-status and its interface both carry exactly this address. */
async function expectAttached(pod: PodSandbox, nad: string, address: string): Promise<void> {
  expect((await statusOf(pod, `${pod.namespace}/${nad}`))?.ips).toEqual([address]);
  expect(addressesIn(pod, 'net1')).toEqual([`${address}/24`]);
}

describe.each(['multus', 'driver'] as const)('pods attached through %s', (path) => {
  let runtime: PodRuntime;
  let pods: PodHarness;
  let namespace: string;

  beforeAll(async () => {
    if (path === 'multus' && !existsSync(multusBinary())) {
      throw new Error(`${multusBinary()} is missing; build it with bash scripts/test-deps.sh`);
    }
    runtime =
      path === 'multus'
        ? new MultusRuntime(env.settings)
        : new MultusDriver(env.settings, env.client);
    pods = new PodHarness(env, runtime, `lhmul-${path}`);
    namespace = `mul-${path}-${RUN}`;
    await createNamespace(env.client, namespace);
  });

  afterAll(() => pods?.stopAll());

  function networkName(test: string): string {
    return `${test}-${path}-${RUN}`;
  }

  function startPod(
    name: string,
    networks: string,
    podNamespace = namespace,
  ): ReturnType<PodHarness['start']> {
    return pods.start(podNamespace, name, networks);
  }

  function stopPod(pod: PodSandbox): Promise<void> {
    return pods.stop(pod);
  }

  it('reports and configures the allocated address', async () => {
    const network = networkName('basic');
    const prefix = nextPrefix();
    await createNad(env.client, namespace, 'basic', macvlanConfig(network, prefix));

    const { pod, added } = await startPod('basic', 'basic');
    expect(added.code, errorMessage(added)).toBe(0);

    const status = await statusOf(pod, `${namespace}/basic`);
    expect(status?.interface).toBe('net1');
    expect(status?.ips).toHaveLength(1);
    const address = status?.ips?.[0] as string;
    expect(address.startsWith(`${prefix}.`)).toBe(true);
    expect(addressesIn(pod, 'net1')).toEqual([`${address}/24`]);
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
    await createNad(env.client, namespace, 'twice', macvlanConfig(network, nextPrefix()));

    const { pod, added } = await startPod('twice', 'twice,twice');
    expect(added.code, errorMessage(added)).toBe(0);

    const statuses = (await networkStatus(env.client, pod)).filter(
      (entry) => entry.name === `${namespace}/twice`,
    );
    expect(statuses.map((entry) => entry.interface)).toEqual(['net1', 'net2']);
    const [first, second] = statuses.map((entry) => entry.ips?.[0]);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first).not.toBe(second);
    expect(addressesIn(pod, 'net1')).toEqual([`${first}/24`]);
    expect(addressesIn(pod, 'net2')).toEqual([`${second}/24`]);

    const report = await expectConsistent(network);
    expect(report.allocations.map((entry) => entry.owner.ifName).sort()).toEqual(['net1', 'net2']);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('honours requested ips', async () => {
    const network = networkName('static');
    const prefix = nextPrefix();
    await createNad(
      env.client,
      namespace,
      'static',
      macvlanConfig(network, prefix, { capabilities: { ips: true } }),
    );

    const { pod, added } = await startPod(
      'static',
      JSON.stringify([{ name: 'static', ips: [`${prefix}.50/24`] }]),
    );
    expect(added.code, errorMessage(added)).toBe(0);

    await expectAttached(pod, 'static', `${prefix}.50`);
    expect((await expectConsistent(network)).allocations.map((entry) => entry.address)).toEqual([
      `${prefix}.50`,
    ]);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('honours ips without the capability', async () => {
    // Multus (v4.2.2, DelegateAdd) also passes requested ips as the CNI_ARGS key IP, which
    // reaches every plugin whatever its capabilities.
    const network = networkName('args');
    const prefix = nextPrefix();
    await createNad(env.client, namespace, 'args', macvlanConfig(network, prefix));

    const request = JSON.stringify([{ name: 'args', ips: [`${prefix}.70/24`] }]);
    const { pod, added } = await startPod('args', request);
    expect(added.code, errorMessage(added)).toBe(0);

    await expectAttached(pod, 'args', `${prefix}.70`);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('fails a requested address in use', async () => {
    const network = networkName('taken');
    const prefix = nextPrefix();
    await createNad(
      env.client,
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
    expect(env.sandbox.hasInterface(basename(pod.netns), 'net1')).toBe(false);
    expect(env.sandbox.hasInterface(basename(pod.netns), 'eth0')).toBe(false);

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
      env.client,
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
    const addresses = (await networkStatus(env.client, second.pod))
      .filter((entry) => entry.name === `${namespace}/free`)
      .map((entry) => entry.ips?.[0]);
    expect(addresses.sort()).toEqual([`${prefix}.10`, `${prefix}.11`]);

    await stopPod(second.pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('frees the addresses of a deleted pod', async () => {
    // With a forced deletion the pod object is gone before the runtime tears the sandbox down.
    const network = networkName('gone');
    await createNad(env.client, namespace, 'gone', macvlanConfig(network, nextPrefix()));
    const { pod, added } = await startPod('gone', 'gone');
    expect(added.code, errorMessage(added)).toBe(0);
    expect((await expectConsistent(network)).allocations).toHaveLength(1);

    await deletePod(env.client, pod);
    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('attaches a dual-stack bridge network', async () => {
    const network = networkName('dual');
    const prefix = nextPrefix();
    const v6Prefix = `fd00:66:${subnets}::`;
    // Debian's bridge plugin supports CNI versions up to 1.0.0.
    await createNad(env.client, namespace, 'dual', {
      cniVersion: '1.0.0',
      name: network,
      type: 'bridge',
      bridge: `lhmbr${path}`,
      ipam: {
        type: 'leasehold',
        ranges: [[{ subnet: `${prefix}.0/24` }], [{ subnet: `${v6Prefix}/64` }]],
      },
    });

    const { pod, added } = await startPod('dual', 'dual');
    expect(added.code, errorMessage(added)).toBe(0);

    const ips = (await statusOf(pod, `${namespace}/dual`))?.ips ?? [];
    expect(ips).toHaveLength(2);
    const [v4, v6] = ips;
    expect(v4).toMatch(new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.`));
    // Leasehold starts its search at a shard picked from the node name, anywhere in the /64.
    expect(v6).toMatch(new RegExp(`^fd00:66:${subnets}:(0:|:)`));
    expect(addressesIn(pod, 'net1').sort()).toEqual([`${v4}/24`, `${v6}/64`].sort());
    expect((await expectConsistent(network)).allocations).toHaveLength(2);

    await stopPod(pod);
    expect((await expectConsistent(network)).allocations).toEqual([]);
  });

  it('shares one pool across namespaces', async () => {
    const network = networkName('shared');
    const prefix = nextPrefix();
    const other = `${namespace}-b`;
    await createNamespace(env.client, other);
    const ranges = [
      [{ subnet: `${prefix}.0/24`, rangeStart: `${prefix}.20`, rangeEnd: `${prefix}.21` }],
    ];
    const config = macvlanConfig(network, prefix, { ipam: { type: 'leasehold', ranges } });
    await createNad(env.client, namespace, 'shared', config);
    await createNad(env.client, other, 'shared', config);

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
