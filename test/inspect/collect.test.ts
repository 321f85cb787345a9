import { describe, expect, it } from 'vitest';
import { type Owner, newShard, withReservation } from '../../lib/ipam/shard.js';
import { Inventory } from '../../lib/inspect/collect.js';
import { allConsistent, formatText } from '../../lib/inspect/format.js';
import { parseInspectFlags } from '../../lib/inspect/options.js';

const place = { family: 4 as const, subnetFirst: 0x0a000000n, prefixLength: 24, block: 0n };

function owner(pod: string, extra: Partial<Owner> = {}): Owner {
  return { containerId: `c-${pod}`, ifName: 'net1', podNamespace: 'default', podName: pod, podUid: `u-${pod}`, allocatedAt: '2026-12-04T10:00:00Z', ...extra };
}

describe('Inventory', () => {
  it('lists allocations in address order', () => {
    let shard = newShard('lan', place);
    shard = withReservation(shard, 10, owner('b'));
    shard = withReservation(shard, 2, owner('a'));
    const inventory = new Inventory();
    inventory.add('lan', 'shard-0', shard);
    const [lan] = inventory.list();
    expect(lan?.allocations.map((entry) => entry.address)).toEqual(['10.0.0.2', '10.0.0.10']);
    expect(allConsistent(inventory.list())).toBe(true);
  });

  it('reports every kind of problem', () => {
    const shard = withReservation(newShard('lan', place), 5, owner('a'));
    const ownerless = withReservation(newShard('lan', place), 6, owner('x'));
    delete ownerless.owners['6'];
    const bitless = { ...newShard('lan', place), owners: { '7': owner('y') } };
    const inventory = new Inventory();
    inventory.add('lan', 'one', shard);
    inventory.add('lan', 'two', shard);
    inventory.add('lan', 'three', ownerless);
    inventory.add('lan', 'four', bitless);
    inventory.add('lan', 'five', undefined, 'not JSON');
    const [lan] = inventory.list();
    expect(lan?.duplicates).toEqual(['10.0.0.5']);
    expect(lan?.bitsWithoutOwner).toEqual(['10.0.0.6']);
    expect(lan?.ownersWithoutBit).toEqual(['10.0.0.7']);
    expect(lan?.unreadable).toEqual(['five: not JSON']);
    expect(allConsistent(inventory.list())).toBe(false);
  });

  it('filters by network', () => {
    const inventory = new Inventory();
    inventory.add('lan', 's', withReservation(newShard('lan', place), 1, owner('a')));
    inventory.add('san', 's', withReservation(newShard('san', place), 1, owner('b')));
    expect(inventory.list('san').map((entry) => entry.network)).toEqual(['san']);
  });
});

describe('formatText', () => {
  it('shows owners and their marks', () => {
    const inventory = new Inventory();
    const kept = owner('db-0', { sticky: 'default/db-0', detachedAt: '2026-12-04T11:00:00Z', stale: { since: '2026-12-04T12:00:00Z', reason: 'pod not found' } });
    inventory.add('lan', 's', withReservation(newShard('lan', place), 3, kept));
    const text = formatText(inventory.list());
    expect(text).toContain('network lan: 1 addresses in 1 shards');
    expect(text).toMatch(/10\.0\.0\.3 +default\/db-0 +u-db-0 +net1/);
    expect(text).toContain('kept for default/db-0; detached 2026-12-04T11:00:00Z; stale since 2026-12-04T12:00:00Z (pod not found)');
  });

  it('says when nothing is allocated', () => {
    expect(formatText([])).toBe('no allocations found\n');
  });
});

describe('parseInspectFlags', () => {
  it('rejects a file store with a kubeconfig', () => {
    expect(() => parseInspectFlags(['--store-dir', '/s', '--kubeconfig', '/k'])).toThrow(/--store-dir reads a file store/);
  });

  it('rejects unknown flags and empty values', () => {
    expect(() => parseInspectFlags(['--all'])).toThrow(/--help/);
    expect(() => parseInspectFlags(['--network', ''])).toThrow(/invalid value "" for --network/);
  });

  it('defaults to the leasehold namespace', () => {
    expect(parseInspectFlags([])).toMatchObject({ namespace: 'leasehold', json: false });
  });
});
