import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAddress } from '../ipam/address.js';
import { type ShardData, shardProblem } from '../ipam/shard.js';
import type { KubeClient } from '../kube/client.js';
import { type ConsistencyReport, addShard, emptyReport } from '../pool/consistency.js';
import { forEachShard } from '../reconcile/shards.js';
import { networkSlug } from '../store/names.js';

/** The allocations of one network and what is wrong with its shards. */
export type NetworkInventory = ConsistencyReport;

function byAddress(a: { address: string }, b: { address: string }): number {
  const [x, y] = [parseAddress(a.address), parseAddress(b.address)];
  if (!x || !y || x.family !== y.family) return a.address.localeCompare(b.address);
  if (x.value === y.value) return 0;
  return x.value < y.value ? -1 : 1;
}

/** Every network's allocations, gathered one shard at a time. */
export class Inventory {
  private readonly networks = new Map<string, NetworkInventory>();
  private readonly seen = new Map<string, Set<string>>();

  private entry(network: string): NetworkInventory {
    let found = this.networks.get(network);
    if (!found) {
      found = emptyReport(network);
      this.networks.set(network, found);
      this.seen.set(network, new Set());
    }
    return found;
  }

  /** Adds one shard; `problem` is the reason its content could not be read. */
  add(network: string, shard: string, data: ShardData | undefined, problem?: string): void {
    const entry = this.entry(network);
    if (data && !problem) {
      addShard(entry, this.seen.get(network) as Set<string>, shard, data);
      return;
    }
    entry.shards++;
    entry.unreadable.push(`${shard}: ${problem ?? 'unreadable'}`);
  }

  /** Returns the networks by name, each with its allocations in address order. */
  list(network?: string): NetworkInventory[] {
    return [...this.networks.values()]
      .filter((entry) => network === undefined || entry.network === network)
      .sort((a, b) => a.network.localeCompare(b.network))
      .map((entry) => ({ ...entry, allocations: [...entry.allocations].sort(byAddress) }));
  }
}

/** Adds every shard ConfigMap of the store namespace. */
export async function collectFromKube(client: KubeClient, namespace: string, inventory: Inventory): Promise<void> {
  await forEachShard(client, namespace, async (shard) => {
    inventory.add(shard.network || `(no network name: ${shard.name})`, shard.name, shard.data, shard.problem);
  });
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Adds every shard file of a file store: one directory per network, with a `shards` directory.
 * With `network`, only that network's directory is read, so its damaged shards count as its own.
 */
export async function collectFromDir(dir: string, inventory: Inventory, network?: string): Promise<void> {
  const slugs = network === undefined ? await entries(dir) : [networkSlug(network)];
  for (const slug of slugs) {
    for (const name of (await entries(join(dir, slug, 'shards'))).filter((file) => file.endsWith('.json'))) {
      const path = join(dir, slug, 'shards', name);
      let data: ShardData | undefined;
      let problem: string | undefined;
      try {
        data = (JSON.parse(await readFile(path, 'utf8')) as { data?: ShardData }).data;
        problem = shardProblem(data);
      } catch (error) {
        problem = `not JSON: ${(error as Error).message}`;
      }
      const owner = problem ? (network ?? `(unreadable: ${slug})`) : (data as ShardData).network;
      inventory.add(owner, path, problem ? undefined : data, problem);
    }
  }
}
