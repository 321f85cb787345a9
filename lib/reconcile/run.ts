import { toLeaseholdError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeStore } from '../kube/store.js';
import type { Log } from '../log.js';
import { writeChanges } from './apply.js';
import { deleteEmptyShard, removeUnheldLeases } from './cleanup.js';
import { type NodeIndex, type PodIndex, listNodes, listPods } from './cluster.js';
import { referencedNetworks } from './networks.js';
import {
  type PlanSettings,
  type WorldSource,
  freshSource,
  listedSource,
  planShard,
} from './plan.js';
import { allocationFields, reportDryRun, unreferenced } from './report.js';
import { type ListedShard, forEachShard, isEmptyShard } from './shards.js';
import { type RunSummary, emptySummary } from './summary.js';

/** Settings of one run. */
export interface RunSettings {
  namespace: string;
  dryRun: boolean;
  gracePeriodMs: number;
  minAgeMs: number;
}

/** Test hooks: points where a test changes the cluster, or the run's view of it, mid-run. */
export interface RunHooks {
  /** Called after the pod LIST, before the node LIST and the shard walk. */
  afterPodList?: (pods: PodIndex) => Promise<void> | void;
}

/** The dependencies of a run: the API client, the store for shard writes, and a logger. */
export interface RunContext {
  client: KubeClient;
  store: KubeStore;
  log: Log;
  settings: RunSettings;
  hooks?: RunHooks;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

interface Walk {
  context: RunContext;
  summary: RunSummary;
  listed: WorldSource;
  fresh: WorldSource;
  plan: PlanSettings;
  networks: Set<string>;
}

/**
 * Runs the reconciler once: lists pods and nodes, walks every shard and marks, clears or frees
 * owner records, removes empty shards and unheld Leases, and reports unused networks. A failure
 * in one shard is counted and the walk goes on; a failed LIST ends the run.
 */
export async function reconcileOnce(context: RunContext): Promise<RunSummary> {
  const clock = context.now ?? Date.now;
  const started = clock();
  const summary = emptySummary(context.settings.dryRun);
  const requestsBefore = context.client.requests;
  try {
    const pods = await listPods(context.client);
    await context.hooks?.afterPodList?.(pods);
    const nodes = await listNodes(context.client);
    const walk = startWalk(context, summary, pods, nodes, clock());
    await forEachShard(context.client, context.settings.namespace, (shard) =>
      visitShard(walk, shard),
    );
    await cleanUpLeases(context, summary, clock());
    await reportNetworks(context, summary, walk.networks);
  } catch (error) {
    summary.errors++;
    const failure = toLeaseholdError(error);
    context.log.error({ err: failure.message, code: failure.code }, 'reconcile run failed');
  }
  summary.durationMs = clock() - started;
  summary.requests = context.client.requests - requestsBefore;
  return summary;
}

function startWalk(
  context: RunContext,
  summary: RunSummary,
  pods: PodIndex,
  nodes: NodeIndex,
  now: number,
): Walk {
  const { gracePeriodMs, minAgeMs } = context.settings;
  return {
    context,
    summary,
    listed: listedSource(context.client, pods, nodes),
    fresh: freshSource(context.client, nodes),
    plan: { now, gracePeriodMs, minAgeMs },
    networks: new Set(),
  };
}

async function visitShard(walk: Walk, shard: ListedShard): Promise<void> {
  const { context, summary } = walk;
  if (shard.network) walk.networks.add(shard.network);
  if (!shard.data) {
    summary.errors++;
    context.log.warn(
      { shard: shard.name, problem: shard.problem },
      'skipping a shard that cannot be read',
    );
    return;
  }
  try {
    if (isEmptyShard(shard.data)) {
      await removeEmptyShard(context, summary, shard);
      return;
    }
    await reconcileShard(walk, shard, shard.data);
  } catch (error) {
    summary.errors++;
    const failure = toLeaseholdError(error);
    context.log.warn(
      { shard: shard.name, err: failure.message, code: failure.code },
      'failed to reconcile a shard; the next run tries again',
    );
  }
}

async function reconcileShard(
  walk: Walk,
  shard: ListedShard,
  data: NonNullable<ListedShard['data']>,
): Promise<void> {
  const { context, summary } = walk;
  const { changes, suspected } = await planShard(data.owners, walk.listed, walk.fresh, walk.plan);
  summary.examined += Object.keys(data.owners).length;
  summary.suspected += suspected;
  if (changes.length === 0) return;
  if (context.settings.dryRun) {
    reportDryRun(context.log, shard, data, changes);
    summary.freed += changes.filter((change) => change.action === 'free').length;
    return;
  }
  const applied = await writeChanges(
    context.store,
    shard.network,
    shard.key,
    changes,
    walk.plan.now,
  );
  summary.marked += applied.marked;
  summary.cleared += applied.cleared;
  summary.freed += applied.freed.length;
  const reasons = new Map(changes.map((change) => [change.offset, change.reason]));
  for (const { offset, owner } of applied.freed) {
    const fields = allocationFields(shard, data, offset, owner);
    context.log.info({ ...fields, reason: reasons.get(offset) }, 'freed stale address');
  }
}

async function removeEmptyShard(
  context: RunContext,
  summary: RunSummary,
  shard: ListedShard,
): Promise<void> {
  if (context.settings.dryRun) {
    context.log.info({ shard: shard.name }, 'would remove empty shard');
    return;
  }
  if (
    await deleteEmptyShard(
      context.client,
      context.settings.namespace,
      shard.name,
      shard.resourceVersion,
    )
  ) {
    summary.emptyShardsRemoved++;
    context.log.info({ shard: shard.name, network: shard.network }, 'removed empty shard');
  }
}

async function cleanUpLeases(context: RunContext, summary: RunSummary, now: number): Promise<void> {
  const names = await removeUnheldLeases(
    context.client,
    context.settings.namespace,
    now,
    context.settings.dryRun,
  );
  if (context.settings.dryRun) {
    if (names.length > 0)
      context.log.info({ leases: names.length }, 'would remove Leases nobody holds');
    return;
  }
  summary.leasesRemoved = names.length;
}

async function reportNetworks(
  context: RunContext,
  summary: RunSummary,
  stored: Set<string>,
): Promise<void> {
  const referenced = await referencedNetworks(context.client);
  if (!referenced) {
    summary.networkAttachmentDefinitions = false;
    context.log.warn(
      {},
      'the NetworkAttachmentDefinition CRD is not installed, so no network was checked for use',
    );
    return;
  }
  summary.unreferencedNetworks = unreferenced(stored, referenced);
  for (const network of summary.unreferencedNetworks) {
    context.log.info({ network }, 'network has shards but no NetworkAttachmentDefinition uses it');
  }
}
