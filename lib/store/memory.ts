import { ConflictError } from '../errors.js';
import type { NetworkDefinition } from '../ipam/network.js';
import type { ShardData } from '../ipam/shard.js';
import type { AttachmentHints, ShardLock, ShardStore, Versioned } from './types.js';

/** A store held in process memory, for unit tests of the allocation logic. */
export class MemoryStore implements ShardStore, AttachmentHints {
  readonly shards = new Map<string, Versioned<ShardData>>();
  readonly definitions = new Map<string, NetworkDefinition>();
  readonly hintMap = new Map<string, string[]>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Number of writeShard calls, successful or not. */
  writes = 0;

  private id(network: string, key: string): string {
    return `${network}\n${key}`;
  }

  async readShard(network: string, key: string): Promise<Versioned<ShardData> | undefined> {
    const stored = this.shards.get(this.id(network, key));
    return stored ? structuredClone(stored) : undefined;
  }

  async writeShard(network: string, key: string, data: ShardData, version: string | undefined): Promise<string> {
    this.writes++;
    const current = this.shards.get(this.id(network, key));
    if (current?.version !== version) throw new ConflictError(`shard ${key} changed`);
    const next = String(Number(version ?? '0') + 1);
    this.shards.set(this.id(network, key), { version: next, data: structuredClone(data) });
    return next;
  }

  async listShards(network: string): Promise<string[]> {
    return [...this.shards.keys()].filter((id) => id.startsWith(`${network}\n`)).map((id) => id.slice(network.length + 1));
  }

  async lockShard(network: string, key: string, _waitMs?: number): Promise<ShardLock> {
    const id = this.id(network, key);
    let release = (): void => undefined;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.locks.set(id, previous.then(() => mine));
    await previous;
    return { release: async () => release() };
  }

  async readDefinition(network: string): Promise<NetworkDefinition | undefined> {
    return this.definitions.get(network);
  }

  async createDefinition(network: string, definition: NetworkDefinition): Promise<NetworkDefinition> {
    const existing = this.definitions.get(network);
    if (existing) return existing;
    this.definitions.set(network, definition);
    return definition;
  }

  async ping(): Promise<void> {}

  async read(network: string, containerId: string, ifName: string): Promise<string[] | undefined> {
    return this.hintMap.get(`${network}\n${containerId}\n${ifName}`);
  }

  async write(network: string, containerId: string, ifName: string, keys: string[]): Promise<void> {
    this.hintMap.set(`${network}\n${containerId}\n${ifName}`, [...keys]);
  }

  async lockAttachment(network: string, containerId: string, ifName: string): Promise<() => Promise<void>> {
    const lock = await this.lockShard(`attachment\n${network}`, `${containerId}\n${ifName}`);
    return () => lock.release();
  }

  async remove(network: string, containerId: string, ifName: string): Promise<void> {
    this.hintMap.delete(`${network}\n${containerId}\n${ifName}`);
  }
}
