import { describe, expect, it } from 'vitest';
import { loadConfig, type RequestedAddress } from '../../lib/config/load.js';
import { LeaseholdError } from '../../lib/errors.js';
import { silentLog } from '../../lib/log.js';
import { formatAddress, parseAddress } from '../../lib/ipam/address.js';
import { newShard, shardInconsistencies, withReservation } from '../../lib/ipam/shard.js';
import { type Allocation, Pool } from '../../lib/pool/pool.js';
import { MAX_SHARD_BYTES } from '../../lib/pool/reserve.js';
import { MemoryStore } from '../../lib/store/memory.js';

const log = silentLog;

function poolFor(
  ipam: Record<string, unknown>,
  store = new MemoryStore(),
  nodeName?: string,
): { pool: Pool; store: MemoryStore } {
  const config = loadConfig(
    { cniVersion: '1.1.0', name: 'net', ipam: { type: 'leasehold', ...ipam } },
    {},
  );
  const pool = new Pool({
    store,
    hints: store,
    spec: config.spec,
    log,
    ...(nodeName ? { nodeName } : {}),
  });
  return { pool, store };
}

const text = (allocations: Allocation[]): string[] =>
  allocations.map((a) => formatAddress(a.family, a.address));

function requested(address: string, source = 'runtimeConfig.ips[0]'): RequestedAddress {
  const parsed = parseAddress(address);
  if (!parsed) throw new Error(address);
  return { ...parsed, source };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeaseholdError) return error.code;
    throw error;
  }
  return undefined;
}

describe('Pool.allocate', () => {
  it('hands out distinct addresses to concurrent callers', async () => {
    const { pool, store } = poolFor({ ranges: [[{ subnet: '10.0.0.0/22' }]] });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        pool.allocate({ containerId: `c${i}`, ifName: 'eth0' }, []),
      ),
    );
    const addresses = results.flatMap(text);
    expect(new Set(addresses).size).toBe(300);
    for (const { data } of store.shards.values()) {
      expect(shardInconsistencies(data)).toEqual({ bitsWithoutOwner: [], ownersWithoutBit: [] });
    }
  });

  it('gives exactly the range size before exhaustion', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/28' }]] });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        pool.allocate({ containerId: `c${i}`, ifName: 'eth0' }, []),
      ),
    );
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(13);
    expect(rejected.map((outcome) => (outcome.reason as LeaseholdError).code)).toEqual(
      Array(7).fill('POOL_EXHAUSTED'),
    );
  });

  it('moves to the next range of the set when one is full', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }]] });
    const first = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    const second = await pool.allocate({ containerId: 'b', ifName: 'eth0' }, []);
    expect(text(first)).toEqual(['10.0.0.2']);
    expect(text(second)).toEqual(['10.0.1.2']);
  });

  it('touches one shard in a /8 and a /64', async () => {
    const { pool, store } = poolFor({
      ranges: [[{ subnet: '10.0.0.0/8' }], [{ subnet: 'fd00::/64' }]],
    });
    const allocations = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    expect(text(allocations)).toEqual(['10.0.0.2', 'fd00::2']);
    expect(store.shards.size).toBe(2);
    expect(store.writes).toBe(2);
  });

  it('spreads nodes across shards', async () => {
    const store = new MemoryStore();
    const a = poolFor({ ranges: [[{ subnet: '10.0.0.0/16' }]] }, store, 'node-a').pool;
    const b = poolFor({ ranges: [[{ subnet: '10.0.0.0/16' }]] }, store, 'node-b').pool;
    await a.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    await b.allocate({ containerId: 'b', ifName: 'eth0' }, []);
    expect(store.shards.size).toBe(2);
  });

  it('skips a fully excluded block without a read', async () => {
    const { pool, store } = poolFor({
      ranges: [[{ subnet: '10.0.0.0/16' }]],
      exclude: ['10.0.0.0/17'],
    });
    const allocations = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    expect(text(allocations)).toEqual(['10.0.128.0']);
    expect(store.shards.size).toBe(1);
  });

  it('returns held addresses on a repeated call', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] });
    const first = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    const second = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    expect(text(second)).toEqual(text(first));
  });

  it('keeps attachments of one container apart by interface', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] });
    const eth0 = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    const net1 = await pool.allocate({ containerId: 'a', ifName: 'net1' }, []);
    expect(text(eth0)).not.toEqual(text(net1));
  });

  it('releases earlier sets when a later one fails', async () => {
    const { pool, store } = poolFor({
      ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/30' }]],
    });
    await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    expect(await codeOf(pool.allocate({ containerId: 'b', ifName: 'eth0' }, []))).toBe(
      'POOL_EXHAUSTED',
    );
    const owners = [...store.shards.values()].flatMap(({ data }) => Object.values(data.owners));
    expect(owners.map((owner) => owner.containerId)).toEqual(['a', 'a']);
  });
});

describe('stale local copies', () => {
  /** A store whose local copy of every shard marks all addresses as taken. */
  class StaleStore extends MemoryStore {
    async readShardCached(network: string, key: string) {
      const real = await this.readShard(network, key);
      const place = { family: 4 as const, subnetFirst: 0x0a000000n, prefixLength: 30, block: 0n };
      let shard = newShard(network, place);
      for (let offset = 0; offset < 4; offset++)
        shard = withReservation(shard, offset, {
          containerId: 'ghost',
          ifName: 'eth0',
          allocatedAt: '',
        });
      return { version: real?.version ?? '0', data: shard };
    }
  }

  it('confirms "full" with the store before giving up', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/30' }]] }, new StaleStore());
    expect(text(await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []))).toEqual([
      '10.0.0.2',
    ]);
  });

  it('confirms "taken" with the store before refusing a requested address', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/30' }]] }, new StaleStore());
    expect(
      text(await pool.allocate({ containerId: 'a', ifName: 'eth0' }, [requested('10.0.0.2')])),
    ).toEqual(['10.0.0.2']);
  });
});

describe('requested addresses', () => {
  const ipam = {
    ranges: [[{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }], [{ subnet: 'fd00::/64' }]],
    exclude: ['10.0.0.100/30'],
  };

  it('hands out the requested address', async () => {
    const { pool } = poolFor(ipam);
    const allocations = await pool.allocate({ containerId: 'a', ifName: 'eth0' }, [
      requested('10.0.0.50'),
    ]);
    expect(text(allocations)).toEqual(['10.0.0.50', 'fd00::2']);
  });

  it.each([
    ['10.0.0.1', 'ADDRESS_NOT_AVAILABLE', 'it is the gateway'],
    ['10.0.0.101', 'ADDRESS_NOT_AVAILABLE', 'it is excluded'],
    ['10.0.0.255', 'ADDRESS_NOT_AVAILABLE', 'network or broadcast address'],
    ['10.9.0.1', 'ADDRESS_NOT_AVAILABLE', 'outside every range'],
  ])('rejects %s', async (address, code, reason) => {
    const { pool, store } = poolFor(ipam);
    const error = await pool
      .allocate({ containerId: 'a', ifName: 'eth0' }, [requested(address)])
      .catch((e: LeaseholdError) => e);
    expect((error as LeaseholdError).code).toBe(code);
    expect((error as LeaseholdError).message).toContain(address);
    expect((error as LeaseholdError).message).toContain(reason);
    expect(store.writes).toBe(0);
  });

  it('rejects a taken address and names its owner', async () => {
    const { pool } = poolFor(ipam);
    await pool.allocate(
      { containerId: 'a', ifName: 'eth0', podNamespace: 'ns', podName: 'web-0' },
      [requested('10.0.0.50')],
    );
    const error = await pool
      .allocate({ containerId: 'b', ifName: 'eth0' }, [requested('10.0.0.50')])
      .catch((e: LeaseholdError) => e);
    expect((error as LeaseholdError).code).toBe('ADDRESS_IN_USE');
    expect((error as LeaseholdError).message).toContain('pod ns/web-0');
  });

  it('rejects two addresses for one set', async () => {
    const { pool } = poolFor(ipam);
    const result = pool.allocate({ containerId: 'a', ifName: 'eth0' }, [
      requested('10.0.0.5'),
      requested('10.0.0.6', 'args.cni.ips[1]'),
    ]);
    expect(await codeOf(result)).toBe('ADDRESS_NOT_AVAILABLE');
  });
});

describe('shard size', () => {
  /** An attachment whose owner record is about 1.4 KB. */
  const LONG_NAMED = {
    containerId: 'x'.repeat(1000),
    ifName: 'eth0',
    podName: 'q'.repeat(253),
    podNamespace: 'n'.repeat(63),
  };

  /** Writes a first shard of 10.0.0.0/21 whose owners, with long names, fill it to the limit. */
  async function crowdedStore(): Promise<MemoryStore> {
    const store = new MemoryStore();
    const place = { family: 4 as const, subnetFirst: 0x0a000000n, prefixLength: 21, block: 0n };
    let shard = newShard('net', place);
    for (
      let offset = 1;
      Buffer.byteLength(JSON.stringify(shard)) < MAX_SHARD_BYTES - 1500;
      offset++
    ) {
      const owner = {
        containerId: `${'c'.repeat(1000)}${offset}`,
        ifName: 'eth0',
        podName: 'p'.repeat(253),
        podNamespace: 'n'.repeat(63),
        allocatedAt: new Date().toISOString(),
      };
      shard = withReservation(shard, offset, owner);
    }
    await store.writeShard('net', 'v4-0a000000-21-0', shard, undefined);
    return store;
  }

  it('moves on when a shard has no room for the owner', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/21' }]] }, await crowdedStore());
    const allocations = await pool.allocate(LONG_NAMED, []);
    expect(text(allocations)[0]?.startsWith('10.0.4.')).toBe(true);
  });

  it('rejects a requested address in a full shard', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/21' }]] }, await crowdedStore());
    expect(await codeOf(pool.allocate(LONG_NAMED, [requested('10.0.3.200')]))).toBe(
      'SHARD_TOO_LARGE',
    );
  });
});

describe('Pool.release and garbageCollect', () => {
  it('frees through the hint, then through a scan', async () => {
    const { pool, store } = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] });
    await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    await pool.allocate({ containerId: 'b', ifName: 'eth0' }, []);
    store.hintMap.clear();
    expect(text(await pool.release({ containerId: 'a', ifName: 'eth0' }))).toEqual(['10.0.0.2']);
    expect(text(await pool.release({ containerId: 'a', ifName: 'eth0' }))).toEqual([]);
  });

  it('collects what the runtime no longer lists', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] });
    for (const id of ['a', 'b', 'c']) await pool.allocate({ containerId: id, ifName: 'eth0' }, []);
    const { released, failures } = await pool.garbageCollect(new Set(['b/eth0']));
    expect(failures).toEqual([]);
    expect(released.map((a) => a.owner.containerId).sort()).toEqual(['a', 'c']);
    expect(text(await pool.find({ containerId: 'b', ifName: 'eth0' }, true))).toEqual(['10.0.0.3']);
  });

  it('keeps allocations younger than the minimum age', async () => {
    const { pool } = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] });
    await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    const { released } = await pool.garbageCollect(new Set(), 60_000);
    expect(released).toEqual([]);
    expect(text(await pool.find({ containerId: 'a', ifName: 'eth0' }, true))).toEqual(['10.0.0.2']);
  });
});

describe('shared stores', () => {
  it('collects only what this node allocated', async () => {
    const store = new MemoryStore();
    const a = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] }, store, 'node-a').pool;
    const b = poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] }, store, 'node-b').pool;
    await a.allocate({ containerId: 'on-a', ifName: 'eth0' }, []);
    await b.allocate({ containerId: 'on-b', ifName: 'eth0' }, []);
    const { released } = await a.garbageCollect(new Set());
    expect(released.map((allocation) => allocation.owner.containerId)).toEqual(['on-a']);
    expect(text(await b.find({ containerId: 'on-b', ifName: 'eth0' }, true))).toHaveLength(1);
  });

  it('treats an owner record without its bit as taken', async () => {
    const { pool, store } = poolFor({ ranges: [[{ subnet: '10.0.0.0/29' }]] });
    await pool.allocate({ containerId: 'a', ifName: 'eth0' }, []);
    for (const [key, shard] of store.shards) {
      shard.data.bitmap = Buffer.alloc(1).toString('base64');
      store.shards.set(key, shard);
    }
    const next = await pool.allocate({ containerId: 'b', ifName: 'eth0' }, []);
    expect(text(next)).toEqual(['10.0.0.3']);
  });
});

describe('Pool.checkDefinition', () => {
  it('rejects other ranges under the same name', async () => {
    const store = new MemoryStore();
    await poolFor({ ranges: [[{ subnet: '10.0.0.0/24' }]] }, store).pool.checkDefinition();
    const other = poolFor({ ranges: [[{ subnet: '10.0.0.0/25' }]] }, store).pool;
    const error = await other.checkDefinition().catch((e: LeaseholdError) => e);
    expect((error as LeaseholdError).cniCode).toBe(7);
    expect((error as LeaseholdError).message).toContain('already defined');
  });

  it('accepts the same ranges spelled another way', async () => {
    const store = new MemoryStore();
    await poolFor({ ranges: [[{ subnet: 'fd00:0::/64' }]] }, store).pool.checkDefinition();
    await poolFor({ ranges: [[{ subnet: 'FD00::/64' }]] }, store).pool.checkDefinition();
  });
});
