import type { Owner } from '../ipam/shard.js';

/** A pod's state as the pod list reports it. */
export interface PodState {
  uid: string;
  /** Pod phase: Pending, Running, Succeeded, Failed or Unknown. */
  phase: string;
  /** `spec.nodeName`; empty while the pod is not scheduled. */
  nodeName: string;
  /**
   * For the mirror pod of a static pod, the UID the kubelet gave the static pod and passes to the
   * runtime: the `kubernetes.io/config.mirror` annotation. The mirror pod's own UID differs.
   */
  mirrorOf?: string;
}

/** The part of a StatefulSet that decides which ordinals it covers. */
export interface StatefulSetState {
  replicas: number;
  /** `spec.ordinals.start`, 0 when unset. */
  ordinalsStart: number;
}

/**
 * The cluster's state for one owner. `pod` is undefined when the pod is absent, and `nodeReady`
 * when its node is unknown. For sticky owners, `statefulSet` is the StatefulSet named by the pod
 * name, undefined when absent or not looked up.
 */
export interface OwnerWorld {
  pod: PodState | undefined;
  nodeReady: boolean | undefined;
  statefulSet?: StatefulSetState | undefined;
}

/** The verdict on one owner: stale owners may be marked and, after the grace period, freed. */
export interface Verdict {
  stale: boolean;
  reason: string;
}

const FINISHED_PHASES = new Set(['Succeeded', 'Failed']);

function live(reason: string): Verdict {
  return { stale: false, reason };
}

function stale(reason: string): Verdict {
  return { stale: true, reason };
}

/** Splits `web-3` into the StatefulSet name `web` and ordinal 3; undefined without an ordinal. */
export function statefulSetOrdinal(podName: string): { name: string; ordinal: number } | undefined {
  const match = /^(.+)-(\d+)$/.exec(podName);
  if (!match) return undefined;
  return { name: match[1] as string, ordinal: Number(match[2]) };
}

/** Returns the owner's age in milliseconds; a detached sticky address counts from its DEL. */
export function ownerAgeMs(owner: Owner, now: number): number {
  const since = owner.sticky && owner.detachedAt ? owner.detachedAt : owner.allocatedAt;
  return now - Date.parse(since);
}

/**
 * Decides whether an owner record is stale, from the state of the cluster. Pure: every input is
 * an argument, so each rule has a unit test. Doubt keeps the address: an unreadable time, an
 * owner without a pod name, or a pod whose node is not Ready.
 */
export function decideOwner(
  owner: Owner,
  world: OwnerWorld,
  now: number,
  minAgeMs: number,
): Verdict {
  const age = ownerAgeMs(owner, now);
  if (!Number.isFinite(age)) return live('allocation time is not readable');
  if (age < minAgeMs) return live('younger than the minimum age');
  if (owner.sticky) return decideSticky(owner.sticky, world);
  if (!owner.podNamespace || !owner.podName) return live('no pod recorded');

  const pod = world.pod;
  if (!pod) return stale('pod not found');
  if (owner.podUid && pod.uid !== owner.podUid && pod.mirrorOf !== owner.podUid)
    return stale('pod replaced by one with another UID');
  // A node that stopped reporting may still run the pod: its phase cannot be trusted.
  if (world.nodeReady !== true) return live('pod on a node that is not Ready');
  if (FINISHED_PHASES.has(pod.phase)) return stale(`pod ${pod.phase}`);
  return live('pod exists');
}

/** Decides a sticky owner: it stays while its pod exists or its StatefulSet covers the ordinal. */
function decideSticky(sticky: string, world: OwnerWorld): Verdict {
  if (world.pod) return live('sticky pod exists');
  const podName = sticky.slice(sticky.indexOf('/') + 1);
  const parsed = statefulSetOrdinal(podName);
  const set = world.statefulSet;
  if (!parsed) return stale('sticky pod not found and its name has no ordinal');
  if (!set) return stale('sticky pod and StatefulSet not found');
  if (parsed.ordinal >= set.ordinalsStart && parsed.ordinal < set.ordinalsStart + set.replicas) {
    return live('StatefulSet covers the ordinal');
  }
  return stale('StatefulSet scaled below the ordinal');
}

/** The step a run takes for one owner. */
export type Action = 'keep' | 'mark' | 'clear' | 'wait' | 'free';

/**
 * Turns a verdict and the owner's mark into the step to take: a first stale verdict marks, a
 * mark at least `gracePeriodMs` old frees, and a live owner with a mark has it cleared.
 */
export function nextAction(
  owner: Owner,
  verdict: Verdict,
  now: number,
  gracePeriodMs: number,
): Action {
  if (!verdict.stale) return owner.stale ? 'clear' : 'keep';
  if (!owner.stale) return 'mark';
  const since = Date.parse(owner.stale.since);
  // An unreadable or future mark is rewritten rather than trusted.
  if (!Number.isFinite(since) || since > now) return 'mark';
  return now - since >= gracePeriodMs ? 'free' : 'wait';
}
