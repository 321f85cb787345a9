import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { parsePrefix } from '../../lib/ipam/address.js';
import {
  type Owner,
  type ShardPlace,
  newShard,
  shardKey,
  withReservation,
} from '../../lib/ipam/shard.js';
import { isConsistent } from '../../lib/pool/consistency.js';
import {
  applyStatefulSet,
  createLease,
  createPod,
  versionsIn,
} from '../../test/e2e/support/kube-objects.js';
import { createNad, ensureNadCrd } from '../../test/e2e/support/pods.js';
import { kubeClient } from '../support/kube.js';
import { nodeObjectName, sceneOf, sceneReport, sceneStore } from '../support/reconciler.js';
import type { PluginWorld } from '../support/world.js';

const HOUR_MS = 3_600_000;

/** Returns the first shard of the network's first range, from its definition in the scenario. */
function firstShard(world: PluginWorld, network: string): ShardPlace {
  const ranges = world.networks.get(network)?.ranges as
    Array<Array<{ subnet: string }>> | undefined;
  const prefix = parsePrefix(ranges?.[0]?.[0]?.subnet ?? '');
  if (!prefix) throw new Error(`network "${network}" has no subnet in this scenario`);
  return {
    family: prefix.family,
    subnetFirst: prefix.address,
    prefixLength: prefix.length,
    block: 0n,
  };
}

Given(
  'a StatefulSet {string} with {int} replicas in the pod namespace',
  async function (this: PluginWorld, name: string, replicas: number) {
    await applyStatefulSet(kubeClient().client, sceneOf(this).pods, name, replicas);
  },
);

When(
  'the StatefulSet {string} is scaled to {int}',
  async function (this: PluginWorld, name: string, replicas: number) {
    await applyStatefulSet(kubeClient().client, sceneOf(this).pods, name, replicas);
  },
);

Given(
  'pod {string} exists on node {string}',
  async function (this: PluginWorld, pod: string, node: string) {
    const scene = sceneOf(this);
    scene.uids.set(
      pod,
      await createPod(kubeClient().client, scene.pods, pod, nodeObjectName(scene, node)),
    );
  },
);

Given(
  'sticky addresses on {string} detached an hour ago for pods {string}',
  async function (this: PluginWorld, network: string, pods: string) {
    const scene = sceneOf(this);
    const place = firstShard(this, network);
    const longAgo = new Date(Date.now() - HOUR_MS).toISOString();
    let shard = newShard(this.storedName(network), place);
    for (const [index, pod] of pods
      .split(',')
      .map((name) => name.trim())
      .entries()) {
      const owner: Owner = {
        containerId: `detached-${pod}`,
        ifName: 'eth0',
        podNamespace: scene.pods,
        podName: pod,
        allocatedAt: longAgo,
        sticky: `${scene.pods}/${pod}`,
        detachedAt: longAgo,
      };
      shard = withReservation(shard, 10 + index, owner);
    }
    await sceneStore(this, 'feature-writer').writeShard(
      this.storedName(network),
      shardKey(place),
      shard,
      undefined,
    );
  },
);

Then(
  'the sticky address of pod {string} on {string} is {word}',
  async function (this: PluginWorld, pod: string, network: string, state: string) {
    const report = await sceneReport(this, network);
    assert.ok(isConsistent(report), JSON.stringify(report));
    const held = report.allocations.some(
      (entry) => entry.owner.sticky === `${sceneOf(this).pods}/${pod}`,
    );
    assert.equal(held, state === 'kept');
  },
);

Then(
  'the dry run lists the addresses of pods {string} to free',
  function (this: PluginWorld, pods: string) {
    const scene = sceneOf(this);
    const expected = pods.split(',').flatMap((pod) => scene.addresses.get(pod.trim()) ?? []);
    const listed = scene.lines
      .filter((line) => line.msg === 'would free address')
      .map((line) => line.address);
    assert.deepEqual(listed.sort(), expected.sort());
    assert.equal(scene.summary?.dryRun, true);
  },
);

Then('the store namespace is unchanged', async function (this: PluginWorld) {
  const scene = sceneOf(this);
  assert.deepEqual(await versionsIn(kubeClient().client, scene.store), scene.versions);
});

Given('an empty shard of {string}', async function (this: PluginWorld, network: string) {
  const place = { ...firstShard(this, network), block: 1n };
  await sceneStore(this, 'feature-writer').writeShard(
    this.storedName(network),
    shardKey(place),
    newShard(this.storedName(network), place),
    undefined,
  );
});

Given(
  'a Lease {string} held by {string}',
  async function (this: PluginWorld, name: string, holder: string) {
    await createLease(kubeClient().client, sceneOf(this).store, name, holder, new Date(), 3_600);
  },
);

Given(
  'a Lease {string} that expired an hour ago',
  async function (this: PluginWorld, name: string) {
    await createLease(
      kubeClient().client,
      sceneOf(this).store,
      name,
      'gone-node',
      new Date(Date.now() - HOUR_MS),
      3,
    );
  },
);

Given('a Lease {string} without a holder', async function (this: PluginWorld, name: string) {
  await createLease(kubeClient().client, sceneOf(this).store, name, undefined, new Date(), 3);
});

Then(
  'the Leases {string} are removed and {string} is kept',
  async function (this: PluginWorld, removed: string, kept: string) {
    const names = Object.keys(await versionsIn(kubeClient().client, sceneOf(this).store));
    for (const name of removed.split(','))
      assert.equal(names.includes(`lease/${name.trim()}`), false, name);
    assert.ok(names.includes(`lease/${kept}`), kept);
  },
);

Then(
  'the store namespace holds {int} shard ConfigMaps',
  async function (this: PluginWorld, shards: number) {
    const names = Object.keys(await versionsIn(kubeClient().client, sceneOf(this).store));
    assert.equal(
      names.filter((name) => name.startsWith('configmap/lh-') && !name.endsWith('-definition'))
        .length,
      shards,
    );
  },
);

Then(
  'the reconciler removed {int} empty shards and {int} Leases',
  function (this: PluginWorld, shards: number, leases: number) {
    const summary = sceneOf(this).summary;
    assert.deepEqual(
      { shards: summary?.emptyShardsRemoved, leases: summary?.leasesRemoved },
      { shards, leases },
    );
  },
);

Given('the NetworkAttachmentDefinition CRD is installed', async function () {
  await ensureNadCrd(kubeClient().client);
});

Given(
  'a NetworkAttachmentDefinition for {string}',
  async function (this: PluginWorld, network: string) {
    const config = {
      cniVersion: '1.0.0',
      name: this.storedName(network),
      type: 'macvlan',
      ipam: { type: 'leasehold' },
    };
    await createNad(kubeClient().client, sceneOf(this).pods, `nad-${network}`, config);
  },
);

Then(
  'the reconciler reports {string} as {word}',
  function (this: PluginWorld, network: string, state: string) {
    const summary = sceneOf(this).summary;
    const unused = summary?.unreferencedNetworks as string[] | undefined;
    assert.equal(summary?.networkAttachmentDefinitions, true);
    assert.equal(unused?.includes(this.storedName(network)), state === 'unused');
  },
);
