import type { NetworkDefinition } from '../ipam/network.js';
import type { ShardData } from '../ipam/shard.js';

/** A stored object and the version it was read at, for a later compare-and-swap. */
export interface Versioned<T> {
  version: string;
  data: T;
}

/** A held lock on one shard. */
export interface ShardLock {
  release(): Promise<void>;
}

/**
 * Storage of allocations. The address space of a network is split into fixed-size shards; each
 * shard is read with a version and written only by compare-and-swap on that version. Locks are
 * scoped to one shard and only keep writers from colliding: correctness rests on the
 * compare-and-swap, because a lock can expire while its holder is paused.
 */
/** A narrowing of a shard listing. */
export interface ShardFilter {
  /** Only shards that may have an owner with a StatefulSet pod key (`sticky`). */
  sticky?: boolean;
}

export interface ShardStore {
  /** Reads a shard; undefined when it was never written (every address in it is free). */
  readShard(network: string, key: string): Promise<Versioned<ShardData> | undefined>;

  /**
   * Reads a shard from a local copy when the store keeps one. The copy may be stale, so it only
   * serves as the base of a compare-and-swap, never as the answer to a question.
   */
  readShardCached?(network: string, key: string): Promise<Versioned<ShardData> | undefined>;

  /**
   * Writes a shard if its stored version is still `version` (undefined: if it does not exist).
   * Returns the new version; throws ConflictError when another writer got there first.
   */
  writeShard(network: string, key: string, data: ShardData, version: string | undefined): Promise<string>;

  /**
   * Keys of every shard the network has written. With `filter`, a store may leave out shards
   * that cannot match it, and may return more shards than match, never fewer.
   */
  listShards(network: string, filter?: ShardFilter): Promise<string[]>;

  /**
   * Waits for the lock of one shard; throws LockBusyError, a StoreUnavailableError, when the
   * wait times out. With `waitMs` 0 it waits only briefly for writers on this node and not at all
   * for writers on other nodes.
   */
  lockShard(network: string, key: string, waitMs?: number): Promise<ShardLock>;

  /** Reads the network's recorded definition; undefined when none is recorded yet. */
  readDefinition(network: string): Promise<NetworkDefinition | undefined>;

  /** Records the definition once; returns the one already recorded when another writer won. */
  createDefinition(network: string, definition: NetworkDefinition): Promise<NetworkDefinition>;

  /** Fails with StoreUnavailableError when the store cannot serve requests. */
  ping(): Promise<void>;
}

/**
 * Node-local record of the shards that may contain an attachment's addresses. Written before
 * every shard write, so a repeated ADD or a DEL finds the attachment without scanning the network.
 */
export interface AttachmentHints {
  read(network: string, containerId: string, ifName: string): Promise<string[] | undefined>;
  write(network: string, containerId: string, ifName: string, keys: string[]): Promise<void>;
  remove(network: string, containerId: string, ifName: string): Promise<void>;
  /** Waits until no other command of this host works on the attachment; returns the release. */
  lockAttachment(network: string, containerId: string, ifName: string): Promise<() => Promise<void>>;
}
