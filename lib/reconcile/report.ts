import type { Owner } from '../ipam/shard.js';
import type { Log } from '../log.js';
import type { Change } from './plan.js';
import { addressAt, type ListedShard } from './shards.js';
import type { ShardData } from '../ipam/shard.js';

/** Returns the fields that identify an allocation in logs: its address and its owner. */
export function allocationFields(
  shard: ListedShard,
  data: ShardData,
  offset: number,
  owner: Owner,
): Record<string, unknown> {
  return {
    network: shard.network,
    shard: shard.name,
    address: addressAt(data, offset),
    containerId: owner.containerId,
    ifName: owner.ifName,
    pod:
      owner.sticky ?? (owner.podName ? `${owner.podNamespace ?? ''}/${owner.podName}` : undefined),
    podUid: owner.podUid,
    node: owner.node,
  };
}

/**
 * Logs what a dry run would change in one shard: each address it would free (info), mark or
 * clear (debug), and why.
 */
export function reportDryRun(
  log: Log,
  shard: ListedShard,
  data: ShardData,
  changes: Change[],
): void {
  for (const change of changes) {
    const fields = {
      ...allocationFields(shard, data, change.offset, change.owner),
      reason: change.reason,
    };
    if (change.action === 'free') log.info(fields, 'would free address');
    else if (change.action === 'mark') log.debug(fields, 'would mark address stale');
    else log.debug(fields, 'would clear stale mark');
  }
}

/**
 * Returns the networks that have shards but no NetworkAttachmentDefinition, sorted. A network of
 * node pod CIDRs is stored as `name@cidrs`, one per node, and counts as its configured name.
 */
export function unreferenced(stored: Set<string>, referenced: Set<string>): string[] {
  return [...stored].filter((network) => !referenced.has(network.replace(/@.*$/, ''))).sort();
}
