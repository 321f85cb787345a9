import { formatAddress } from '../ipam/address.js';
import {
  type ShardData,
  blockFirst,
  placeFromShard,
  shardInconsistencies,
  shardProblem,
} from '../ipam/shard.js';
import type { KubeClient } from '../kube/client.js';
import { ANNOTATION_NETWORK, type ConfigMap, LABELS } from '../kube/store.js';
import { forEachItem } from './cluster.js';

/**
 * Shard ConfigMaps per LIST page. A full shard is up to a few hundred KiB, so small pages keep
 * the reconciler's memory near one page of shards whatever the cluster's size.
 */
export const SHARD_PAGE_LIMIT = 10;

/** One shard ConfigMap as listed: its names, version and parsed content. */
export interface ListedShard {
  name: string;
  resourceVersion: string;
  /** The exact network name, from the `leasehold.io/network-name` annotation. */
  network: string;
  key: string;
  /** The parsed shard, or the reason it could not be parsed. */
  data: ShardData | undefined;
  problem: string | undefined;
}

function parse(configMap: ConfigMap): ListedShard {
  const listed: ListedShard = {
    name: configMap.metadata.name,
    resourceVersion: configMap.metadata.resourceVersion ?? '',
    network: configMap.metadata.annotations?.[ANNOTATION_NETWORK] ?? '',
    key: configMap.metadata.labels?.[LABELS.shard] ?? '',
    data: undefined,
    problem: undefined,
  };
  try {
    const data: unknown = JSON.parse(configMap.data?.shard ?? '');
    listed.problem = shardProblem(data);
    if (!listed.problem) listed.data = data as ShardData;
  } catch (error) {
    listed.problem = `not JSON: ${(error as Error).message}`;
  }
  if (!listed.network || !listed.key)
    listed.problem ??= 'no network-name annotation or shard label';
  return listed;
}

/**
 * Calls `visit` with every shard ConfigMap of the namespace, one small page at a time.
 *
 * NOTE: a walk that outlasts its continue token fails with 410 Gone. A token lives until the
 * API server compacts etcd, every 5 minutes by default. The run then counts an error, and the
 * next run walks from the start.
 */
export async function forEachShard(
  client: KubeClient,
  namespace: string,
  visit: (shard: ListedShard) => Promise<void>,
): Promise<void> {
  const selector = encodeURIComponent(`${LABELS.kind}=shard`);
  const path = `/api/v1/namespaces/${namespace}/configmaps?labelSelector=${selector}`;
  await forEachItem<ConfigMap>(client, path, SHARD_PAGE_LIMIT, (item) => visit(parse(item)));
}

/** Returns true when the shard has no owner records and no set bits. */
export function isEmptyShard(data: ShardData): boolean {
  if (Object.keys(data.owners).length > 0) return false;
  return shardInconsistencies(data).bitsWithoutOwner.length === 0;
}

/** Returns the address at `offset` of the shard, for reports and logs. */
export function addressAt(data: ShardData, offset: number): string {
  const place = placeFromShard(data);
  if (!place) return `offset ${offset}`;
  return formatAddress(place.family, blockFirst(place) + BigInt(offset));
}
