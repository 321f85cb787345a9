import type { Owner } from '../ipam/shard.js';
import type { KubeClient } from '../kube/client.js';
import { type NodeIndex, type PodIndex, getPod, getStatefulSet, splitKey } from './cluster.js';
import {
  type Action,
  type OwnerWorld,
  type StatefulSetState,
  decideOwner,
  nextAction,
  statefulSetOrdinal,
} from './decide.js';

/** The step planned for one owner record of a shard. */
export interface Change {
  offset: number;
  /** The owner record as scanned; a change applies only while the record is still this one. */
  owner: Owner;
  action: Exclude<Action, 'keep' | 'wait'>;
  reason: string;
}

/** A source of pods and StatefulSets for the decision: the run's lists, or fresh GETs. */
export interface WorldSource {
  pod(key: string): Promise<ReturnType<PodIndex['get']>>;
  statefulSet(namespace: string, name: string): Promise<StatefulSetState | undefined>;
  nodeReady(name: string): boolean | undefined;
}

/** Reads from the run's pod and node lists; StatefulSets are read once per run and kept. */
export function listedSource(client: KubeClient, pods: PodIndex, nodes: NodeIndex): WorldSource {
  const statefulSets = new Map<string, Promise<StatefulSetState | undefined>>();
  return {
    pod: async (key) => pods.get(key),
    statefulSet: (namespace, name) => {
      const key = `${namespace}/${name}`;
      let cached = statefulSets.get(key);
      if (!cached) {
        cached = getStatefulSet(client, namespace, name);
        statefulSets.set(key, cached);
      }
      return cached;
    },
    nodeReady: (name) => nodes.get(name),
  };
}

/** Reads every pod and StatefulSet afresh: the re-check immediately before freeing. */
export function freshSource(client: KubeClient, nodes: NodeIndex): WorldSource {
  return {
    pod: (key) => getPod(client, key),
    statefulSet: (namespace, name) => getStatefulSet(client, namespace, name),
    nodeReady: (name) => nodes.get(name),
  };
}

/** Gathers what the decision needs about one owner. */
export async function ownerWorld(owner: Owner, source: WorldSource): Promise<OwnerWorld> {
  if (owner.sticky) {
    const pod = await source.pod(owner.sticky);
    const parts = splitKey(owner.sticky);
    const parsed = parts && statefulSetOrdinal(parts.name);
    // The StatefulSet matters only when the pod is gone.
    const statefulSet =
      !pod && parts && parsed ? await source.statefulSet(parts.namespace, parsed.name) : undefined;
    return { pod, nodeReady: undefined, statefulSet };
  }
  if (!owner.podNamespace || !owner.podName) return { pod: undefined, nodeReady: undefined };
  const pod = await source.pod(`${owner.podNamespace}/${owner.podName}`);
  const node = pod?.nodeName || owner.node;
  return { pod, nodeReady: node ? source.nodeReady(node) : undefined };
}

/** Settings of a run that the plan depends on. */
export interface PlanSettings {
  now: number;
  minAgeMs: number;
  gracePeriodMs: number;
}

/** Decides the owner from the run's lists; a planned free is confirmed with fresh GETs. */
export async function planOwner(
  offset: number,
  owner: Owner,
  listed: WorldSource,
  fresh: WorldSource,
  settings: PlanSettings,
): Promise<{ change: Change | undefined; suspected: boolean }> {
  const verdict = decideOwner(
    owner,
    await ownerWorld(owner, listed),
    settings.now,
    settings.minAgeMs,
  );
  const action = nextAction(owner, verdict, settings.now, settings.gracePeriodMs);
  if (action === 'keep' || action === 'wait')
    return { change: undefined, suspected: verdict.stale };
  if (action !== 'free')
    return { change: { offset, owner, action, reason: verdict.reason }, suspected: verdict.stale };

  // The pod list may have missed a pod (a page race, or a pod created since): read it again.
  const recheck = decideOwner(
    owner,
    await ownerWorld(owner, fresh),
    settings.now,
    settings.minAgeMs,
  );
  if (!recheck.stale)
    return { change: { offset, owner, action: 'clear', reason: recheck.reason }, suspected: true };
  return { change: { offset, owner, action: 'free', reason: recheck.reason }, suspected: true };
}

/**
 * Pods read in parallel before freeing. Each free needs a GET, so a shard full of stale
 * owners would otherwise cost a thousand round trips one after another.
 */
export const RECHECK_CONCURRENCY = 8;

/** Plans every owner of a shard; returns the changes and the number of owners found stale. */
export async function planShard(
  owners: Record<string, Owner>,
  listed: WorldSource,
  fresh: WorldSource,
  settings: PlanSettings,
): Promise<{ changes: Change[]; suspected: number }> {
  const entries = Object.entries(owners);
  const changes: Change[] = [];
  let suspected = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const [offset, owner] = entries[next++] as [string, Owner];
      const planned = await planOwner(Number(offset), owner, listed, fresh, settings);
      if (planned.suspected) suspected++;
      if (planned.change) changes.push(planned.change);
    }
  };
  await Promise.all(Array.from({ length: RECHECK_CONCURRENCY }, worker));
  return { changes, suspected };
}
