import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { formatAddress } from '../../lib/ipam/address.js';
import { shardInconsistencies } from '../../lib/ipam/shard.js';
import { silentLog } from '../../lib/log.js';
import { type Allocation, type Attachment, Pool } from '../../lib/pool/pool.js';
import { MemoryStore } from '../../lib/store/memory.js';

function poolOn(store: MemoryStore, nodeName: string, ranges: unknown = [[{ subnet: '10.1.0.0/24' }]]): Pool {
  const config = loadConfig({ cniVersion: '1.1.0', name: 'db', ipam: { type: 'leasehold', ranges } }, {});
  return new Pool({ store, hints: new MemoryStore(), spec: config.spec, log: silentLog, nodeName });
}

const text = (allocations: Allocation[]): string[] => allocations.map((a) => formatAddress(a.family, a.address));

function pod(containerId: string, uid: string, ifName = 'net1'): Attachment {
  return { containerId, ifName, podNamespace: 'data', podName: 'db-0', podUid: uid, sticky: 'data/db-0' };
}

function owners(store: MemoryStore): Array<Record<string, unknown>> {
  return [...store.shards.values()].flatMap(({ data }) => Object.values(data.owners) as unknown as Array<Record<string, unknown>>);
}

describe('addresses kept for StatefulSet pods', () => {
  it('returns the address to a recreated pod', async () => {
    const store = new MemoryStore();
    const first = await poolOn(store, 'node-a').allocate(pod('c1', 'u1'), []);
    await poolOn(store, 'node-a').allocate({ containerId: 'other', ifName: 'net1' }, []);
    await poolOn(store, 'node-a').release(pod('c1', 'u1'));
    expect(owners(store).find((owner) => owner.sticky)?.detachedAt).toBeTypeOf('string');

    const second = await poolOn(store, 'node-b').allocate(pod('c2', 'u2'), []);
    expect(text(second)).toEqual(text(first));
    const owner = owners(store).find((entry) => entry.sticky);
    expect(owner).toMatchObject({ containerId: 'c2', podUid: 'u2', node: 'node-b' });
    expect(owner?.detachedAt).toBeUndefined();
  });

  it('takes over from a container without DEL', async () => {
    const store = new MemoryStore();
    const first = await poolOn(store, 'node-a').allocate(pod('c1', 'u1'), []);
    const second = await poolOn(store, 'node-b').allocate(pod('c2', 'u2'), []);
    expect(text(second)).toEqual(text(first));
    expect(await poolOn(store, 'node-a').find(pod('c1', 'u1'), true)).toEqual([]);
  });

  it('leaves a live container of the same pod its address', async () => {
    const store = new MemoryStore();
    const first = await poolOn(store, 'node-a').allocate(pod('c1', 'u1'), []);
    const second = await poolOn(store, 'node-b').allocate(pod('c2', 'u1'), []);
    expect(text(second)).not.toEqual(text(first));
    expect(text(await poolOn(store, 'node-a').find(pod('c1', 'u1'), true))).toEqual(text(first));
  });

  it('hands one kept address to one of concurrent ADDs', async () => {
    const store = new MemoryStore();
    await poolOn(store, 'n').allocate(pod('c0', 'u0'), []);
    await poolOn(store, 'n').release(pod('c0', 'u0'));
    const results = await Promise.all(['c1', 'c2', 'c3'].map((id, index) => poolOn(store, `node-${index}`).allocate(pod(id, 'u1'), [])));
    const addresses = results.flatMap(text);
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const { data } of store.shards.values()) {
      expect(shardInconsistencies(data)).toEqual({ bitsWithoutOwner: [], ownersWithoutBit: [] });
    }
  });

  it('keeps one address per interface', async () => {
    const store = new MemoryStore();
    const onNet1 = await poolOn(store, 'n').allocate(pod('c1', 'u1', 'net1'), []);
    const onNet2 = await poolOn(store, 'n').allocate(pod('c1', 'u1', 'net2'), []);
    expect(text(onNet1)).not.toEqual(text(onNet2));
    await poolOn(store, 'n').release(pod('c1', 'u1', 'net1'));
    await poolOn(store, 'n').release(pod('c1', 'u1', 'net2'));
    expect(text(await poolOn(store, 'n').allocate(pod('c2', 'u2', 'net2'), []))).toEqual(text(onNet2));
    expect(text(await poolOn(store, 'n').allocate(pod('c2', 'u2', 'net1'), []))).toEqual(text(onNet1));
  });

  it('restores the kept address on a failed ADD', async () => {
    const store = new MemoryStore();
    const ranges = [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/30' }]];
    await poolOn(store, 'n').allocate(pod('c1', 'u1'), []);
    await poolOn(store, 'n').release(pod('c1', 'u1'));
    // The second set has one usable address; taking it makes the next ADD fail there.
    await poolOn(store, 'n', ranges.slice(1)).allocate({ containerId: 'x', ifName: 'net1' }, []);
    await expect(poolOn(store, 'n', ranges).allocate(pod('c2', 'u2'), [])).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
    const kept = owners(store).filter((owner) => owner.sticky);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ containerId: 'c1', detachedAt: expect.any(String) });
    for (const { data } of store.shards.values()) {
      expect(shardInconsistencies(data)).toEqual({ bitsWithoutOwner: [], ownersWithoutBit: [] });
    }
  });

  it('detaches rather than frees in GC', async () => {
    const store = new MemoryStore();
    await poolOn(store, 'n').allocate(pod('c1', 'u1'), []);
    await poolOn(store, 'n').allocate({ containerId: 'plain', ifName: 'net1' }, []);
    const { released } = await poolOn(store, 'n').garbageCollect(new Set());
    expect(released).toHaveLength(2);
    expect(owners(store)).toEqual([expect.objectContaining({ containerId: 'c1', detachedAt: expect.any(String) })]);
    expect((await poolOn(store, 'n').garbageCollect(new Set())).released).toEqual([]);
  });
});
