import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { CniCode, LeaseholdError } from '../../lib/errors.js';
import type { ShardData } from '../../lib/ipam/shard.js';
import { silentLog } from '../../lib/log.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { Pool } from '../../lib/pool/pool.js';
import type { Versioned } from '../../lib/store/types.js';
import { MemoryStore } from '../../lib/store/memory.js';

/** A store in which one shard's stored data cannot be parsed, as a hand-edited ConfigMap. */
class DamagedStore extends MemoryStore {
  damaged = '';

  override async readShard(network: string, key: string): Promise<Versioned<ShardData> | undefined> {
    if (key === this.damaged) throw new LeaseholdError('STORE_DATA_INVALID', CniCode.STORE_DATA_INVALID, `invalid shard ${key}`);
    return super.readShard(network, key);
  }
}

describe('checkConsistency', () => {
  it('reports a damaged shard as unreadable', async () => {
    const store = new DamagedStore();
    const config = loadConfig({ cniVersion: '1.1.0', name: 'net', ipam: { type: 'leasehold', ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }]] } }, {});
    const pool = new Pool({ store, hints: new MemoryStore(), spec: config.spec, log: silentLog });
    await pool.allocate({ containerId: 'c1', ifName: 'net1' }, []);
    const [first, second] = await store.listShards('net');
    store.damaged = first as string;

    const report = await checkConsistency(store, 'net');
    expect(report.unreadable).toEqual([first]);
    expect(report.allocations.map((allocation) => allocation.shard)).toEqual([second]);
    expect(isConsistent(report)).toBe(false);
  });
});
