import { After, Before } from '@cucumber/cucumber';
import { join } from 'node:path';
import { KubeStore } from '../../lib/kube/store.js';
import { type ConsistencyReport, checkConsistency } from '../../lib/pool/consistency.js';
import { createNamespace } from '../../test/e2e/support/cluster.js';
import { createPodNamespace, deleteNode, deletePod } from '../../test/e2e/support/kube-objects.js';
import { kubeClient } from './kube.js';
import type { PluginWorld } from './world.js';

/** The state of one reconciler scenario: the objects it created and the last run it observed. */
export interface ReconcilerScene {
  /** Store namespace of this scenario alone: the reconciler walks every shard there. */
  store: string;
  /** Namespace of the scenario's pods. */
  pods: string;
  suffix: string;
  /** Node objects created, by the scenario's node name. */
  nodes: Map<string, string>;
  /** Every address a pod was given, by pod name; kept after the pod loses it. */
  addresses: Map<string, string[]>;
  uids: Map<string, string>;
  /** The last run's summary and log lines. */
  summary: Record<string, unknown> | undefined;
  lines: Array<Record<string, unknown>>;
  /** resourceVersions of the store's objects before a dry run. */
  versions: Record<string, string> | undefined;
}

const scenes = new WeakMap<PluginWorld, ReconcilerScene>();

/** Returns the scenario's reconciler state. */
export function sceneOf(world: PluginWorld): ReconcilerScene {
  const scene = scenes.get(world);
  if (!scene) throw new Error('reconciler steps need the @reconciler tag on the scenario');
  return scene;
}

/** Returns the Node object's name for a scenario node: nodes are cluster-wide, so names get the suffix. */
export function nodeObjectName(scene: ReconcilerScene, node: string): string {
  return `${node}-${scene.suffix}`;
}

/** Returns a store client in the scenario's namespace, for reading and writing shards directly. */
export function sceneStore(world: PluginWorld, holder: string): KubeStore {
  const scene = sceneOf(world);
  return new KubeStore({
    client: kubeClient().client,
    namespace: scene.store,
    holder,
    cacheDir: join(world.dir, holder),
  });
}

/** Checks the consistency of a network's shards in the scenario's store. */
export function sceneReport(world: PluginWorld, network: string): Promise<ConsistencyReport> {
  return checkConsistency(sceneStore(world, 'feature-inspector'), world.storedName(network));
}

// Runs after the @kubernetes hook, which sets up this.kube: every reconciler scenario gets its
// own store namespace, so the reconciler never reads another scenario's allocations.
Before({ tags: '@reconciler', timeout: 60_000 }, async function (this: PluginWorld) {
  if (!this.kube) throw new Error('@reconciler scenarios need the @kubernetes tag');
  const { client } = kubeClient();
  const suffix = this.kube.suffix;
  const scene: ReconcilerScene = {
    store: `lh-rec-${suffix}`,
    pods: `lh-rec-pods-${suffix}`,
    suffix,
    nodes: new Map(),
    addresses: new Map(),
    uids: new Map(),
    summary: undefined,
    lines: [],
    versions: undefined,
  };
  this.kube.namespace = scene.store;
  await createNamespace(client, scene.store);
  await createPodNamespace(client, scene.pods);
  scenes.set(this, scene);
});

After({ tags: '@reconciler', timeout: 60_000 }, async function (this: PluginWorld) {
  const scene = scenes.get(this);
  if (!scene) return;
  const { client } = kubeClient();
  // Pods of nodes without a kubelet are only removed by a deletion with no grace period.
  for (const pod of scene.uids.keys()) await deletePod(client, scene.pods, pod);
  for (const node of scene.nodes.values()) await deleteNode(client, node);
  for (const namespace of [scene.pods, scene.store]) {
    await client.request('DELETE', `/api/v1/namespaces/${namespace}`, { expect: [404, 409] });
  }
});
