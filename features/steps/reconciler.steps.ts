import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import type { Owner } from '../../lib/ipam/shard.js';
import { KubeStore } from '../../lib/kube/store.js';
import { silentLog } from '../../lib/log.js';
import { isConsistent } from '../../lib/pool/consistency.js';
import { RECONCILER_HOLDER } from '../../lib/reconcile/main.js';
import { type RunHooks, reconcileOnce } from '../../lib/reconcile/run.js';
import {
  createNode,
  createPod,
  deletePod,
  runReconcilerProcess,
  setPodPhase,
  versionsIn,
} from '../../test/e2e/support/kube-objects.js';
import { kubeClient } from '../support/kube.js';
import { nodeObjectName, sceneOf, sceneReport } from '../support/reconciler.js';
import type { PluginWorld } from '../support/world.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates a pod bound to the node and calls ADD for it, as the runtime does at sandbox start. */
async function startPod(
  world: PluginWorld,
  pod: string,
  node: string,
  network: string,
  owner?: Parameters<typeof createPod>[5],
): Promise<void> {
  const scene = sceneOf(world);
  const uid = await createPod(kubeClient().client, scene.pods, pod, nodeObjectName(scene, node), 'Running', owner);
  addPod(world, pod, uid, node, network);
}

/** Calls ADD for a pod with the UID its runtime passes in CNI_ARGS. */
function addPod(world: PluginWorld, pod: string, uid: string, node: string, network: string): void {
  const scene = sceneOf(world);
  scene.uids.set(pod, uid);
  world.node = node;
  world.cniArgs = `K8S_POD_NAMESPACE=${scene.pods};K8S_POD_NAME=${pod};K8S_POD_UID=${uid}`;
  const invocation = world.callFor('ADD', `${pod}-${uid.slice(0, 8)}`, network);
  world.cniArgs = '';
  assert.equal(invocation.exitCode, 0, invocation.stdout);
  const ip = (invocation.json?.ips as Array<{ address: string }>)[0]?.address.split(
    '/',
  )[0] as string;
  scene.addresses.set(pod, [...(scene.addresses.get(pod) ?? []), ip]);
}

/** Runs the built reconciler once against the scenario's store namespace. */
async function runBinary(world: PluginWorld, flags: string[]): Promise<void> {
  const scene = sceneOf(world);
  const exit = await runReconcilerProcess(kubeClient().kubeconfig, [
    '--namespace',
    scene.store,
    '--min-age',
    '0s',
    ...flags,
  ]);
  assert.equal(exit.code, 0, exit.stderr);
  scene.summary = exit.summary;
  scene.lines = exit.lines;
}

/** Runs the reconciler in this process, so that a hook acts between its pod list and its shard walk. */
async function runInProcess(world: PluginWorld, hooks: RunHooks): Promise<void> {
  const scene = sceneOf(world);
  const { client } = kubeClient();
  const store = new KubeStore({
    client,
    namespace: scene.store,
    holder: RECONCILER_HOLDER,
    cacheDir: join(world.dir, 'reconciler'),
  });
  const settings = { namespace: scene.store, dryRun: false, gracePeriodMs: 0, minAgeMs: 0 };
  const summary = await reconcileOnce({ client, store, log: silentLog, settings, hooks });
  scene.summary = { ...summary };
}

/** Returns the owner records of a network by pod (or sticky name), after the consistency check. */
async function ownersOf(world: PluginWorld, network: string): Promise<Map<string, Owner>> {
  const report = await sceneReport(world, network);
  assert.ok(isConsistent(report), JSON.stringify(report));
  return new Map(
    report.allocations.map((entry) => [
      entry.owner.sticky ?? entry.owner.podName ?? entry.owner.containerId,
      entry.owner,
    ]),
  );
}

Given('node {string} is {word}', async function (this: PluginWorld, node: string, state: string) {
  const scene = sceneOf(this);
  scene.nodes.set(node, nodeObjectName(scene, node));
  await createNode(kubeClient().client, nodeObjectName(scene, node), state === 'Ready');
});

function startPodStep(this: PluginWorld, pod: string, node: string, network: string): Promise<void> {
  return startPod(this, pod, node, network);
}

Given('pod {string} runs on node {string} with an address on {string}', startPodStep);

Given(
  'static pod {string} runs on node {string} with an address on {string}',
  async function (this: PluginWorld, pod: string, node: string, network: string) {
    // The kubelet sets a static pod's UID to a hash of its manifest and passes that UID to the
    // runtime. The mirror pod it creates in the API server has a UID of its own and carries the
    // hash in the kubernetes.io/config.mirror annotation.
    const scene = sceneOf(this);
    const hash = `static-${scene.suffix}-${pod}`;
    await createPod(kubeClient().client, scene.pods, pod, nodeObjectName(scene, node), 'Running', undefined, {
      'kubernetes.io/config.mirror': hash,
    });
    addPod(this, pod, hash, node, network);
  },
);

When('pod {string} starts on node {string} with an address on {string}', startPodStep);

Given(
  'StatefulSet pod {string} runs on node {string} with an address on {string}',
  async function (this: PluginWorld, pod: string, node: string, network: string) {
    const name = pod.replace(/-\d+$/, '');
    const path = `/apis/apps/v1/namespaces/${sceneOf(this).pods}/statefulsets/${name}`;
    const statefulSet = await kubeClient().client.request<{ metadata: { uid: string } }>('GET', path);
    const owner = { kind: 'StatefulSet', apiVersion: 'apps/v1', name, uid: statefulSet.body.metadata.uid };
    await startPod(this, pod, node, network, owner);
  },
);

When(
  'pod {string} is deleted after a DEL on {string}',
  async function (this: PluginWorld, pod: string, network: string) {
    const scene = sceneOf(this);
    const uid = scene.uids.get(pod) as string;
    this.cniArgs = `K8S_POD_NAMESPACE=${scene.pods};K8S_POD_NAME=${pod};K8S_POD_UID=${uid}`;
    const invocation = this.callFor('DEL', `${pod}-${uid.slice(0, 8)}`, network);
    this.cniArgs = '';
    assert.equal(invocation.exitCode, 0, invocation.stdout);
    await deletePod(kubeClient().client, scene.pods, pod);
  },
);

When('pod {string} is deleted without a DEL', async function (this: PluginWorld, pod: string) {
  await deletePod(kubeClient().client, sceneOf(this).pods, pod);
});

When('pod {string} is {word}', async function (this: PluginWorld, pod: string, phase: string) {
  await setPodPhase(kubeClient().client, sceneOf(this).pods, pod, phase);
});

When(
  'the reconciler runs with a grace period of {string}',
  function (this: PluginWorld, grace: string) {
    return runBinary(this, ['--grace-period', grace]);
  },
);

When('{int} seconds pass', function (seconds: number) {
  return sleep(seconds * 1000);
});

When(
  'the reconciler runs while pod {string} starts on node {string} with an address on {string}',
  function (this: PluginWorld, pod: string, node: string, network: string) {
    return runInProcess(this, { afterPodList: () => startPod(this, pod, node, network) });
  },
);

When(
  'the reconciler runs while pod {string} is recreated on node {string} with an address on {string}',
  function (this: PluginWorld, pod: string, node: string, network: string) {
    const scene = sceneOf(this);
    return runInProcess(this, {
      afterPodList: async () => {
        await deletePod(kubeClient().client, scene.pods, pod);
        await startPod(this, pod, node, network);
      },
    });
  },
);

When(
  'the reconciler runs without pod {string} in its pod list',
  function (this: PluginWorld, pod: string) {
    const key = `${sceneOf(this).pods}/${pod}`;
    return runInProcess(this, { afterPodList: (pods) => void pods.delete(key) });
  },
);

When('the reconciler runs a dry run', async function (this: PluginWorld) {
  const scene = sceneOf(this);
  scene.versions = await versionsIn(kubeClient().client, scene.store);
  await runBinary(this, ['--dry-run', '--grace-period', '0s']);
});

Then(
  'the reconciler marked {int}, cleared {int} and freed {int} addresses',
  function (this: PluginWorld, marked: number, cleared: number, freed: number) {
    const summary = sceneOf(this).summary;
    assert.deepEqual(
      {
        marked: summary?.marked,
        cleared: summary?.cleared,
        freed: summary?.freed,
        errors: summary?.errors,
      },
      { marked, cleared, freed, errors: 0 },
    );
  },
);

Then(
  'pod {string} holds its address on {string}',
  async function (this: PluginWorld, pod: string, network: string) {
    const scene = sceneOf(this);
    const owner = (await ownersOf(this, network)).get(pod);
    assert.equal(owner?.podUid, scene.uids.get(pod), `pod ${pod} holds no address`);
  },
);

Then(
  'pod {string} holds no address on {string}',
  async function (this: PluginWorld, pod: string, network: string) {
    assert.equal((await ownersOf(this, network)).has(pod), false);
  },
);

Then(
  'the address of pod {string} on {string} is {word}',
  async function (this: PluginWorld, pod: string, network: string, state: string) {
    const owner = (await ownersOf(this, network)).get(pod);
    assert.ok(owner, `pod ${pod} holds no address`);
    assert.equal(owner.stale !== undefined, state === 'marked', JSON.stringify(owner));
  },
);

Then(
  'pod {string} got an address that pod {string} held',
  function (this: PluginWorld, pod: string, previous: string) {
    const scene = sceneOf(this);
    assert.ok(
      scene.addresses.get(previous)?.includes(scene.addresses.get(pod)?.at(-1) as string),
      JSON.stringify([...scene.addresses]),
    );
  },
);

Then(
  'the store of {string} is consistent and holds {int} addresses',
  async function (this: PluginWorld, network: string, count: number) {
    assert.equal((await ownersOf(this, network)).size, count);
  },
);
