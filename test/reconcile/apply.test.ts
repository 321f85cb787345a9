import { describe, expect, it } from 'vitest';
import { type Owner, isTaken, newShard, withReservation } from '../../lib/ipam/shard.js';
import { applyChanges } from '../../lib/reconcile/apply.js';
import { networksOfConfig } from '../../lib/reconcile/networks.js';
import { unreferenced } from '../../lib/reconcile/report.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const place = { family: 4 as const, subnetFirst: 0x0a000000n, prefixLength: 24, block: 0n };

function owner(id: string, extra: Partial<Owner> = {}): Owner {
  return { containerId: id, ifName: 'eth0', allocatedAt: '2026-12-04T10:00:00.000Z', ...extra };
}

const marked = { since: '2026-12-04T11:00:00.000Z', reason: 'pod not found' };

describe('applyChanges', () => {
  it('frees a marked owner that is unchanged', () => {
    const shard = withReservation(newShard('n', place), 5, owner('a', { stale: marked }));
    const { data, applied } = applyChanges(
      shard,
      [{ offset: 5, owner: owner('a', { stale: marked }), action: 'free', reason: 'x' }],
      NOW,
    );
    expect(applied.freed).toHaveLength(1);
    expect(isTaken(data, 5)).toBe(false);
  });

  it('keeps an address re-used since the scan', () => {
    const shard = withReservation(newShard('n', place), 5, owner('b', { stale: marked }));
    const { data, applied } = applyChanges(
      shard,
      [{ offset: 5, owner: owner('a', { stale: marked }), action: 'free', reason: 'x' }],
      NOW,
    );
    expect(applied.freed).toEqual([]);
    expect(data.owners['5']?.containerId).toBe('b');
  });

  it('keeps an owner re-allocated at another time', () => {
    const again = owner('a', { stale: marked, allocatedAt: '2026-12-04T11:59:00.000Z' });
    const shard = withReservation(newShard('n', place), 5, again);
    const { applied } = applyChanges(
      shard,
      [{ offset: 5, owner: owner('a', { stale: marked }), action: 'free', reason: 'x' }],
      NOW,
    );
    expect(applied.freed).toEqual([]);
  });

  it('does not free an owner whose mark was cleared', () => {
    const shard = withReservation(newShard('n', place), 5, owner('a'));
    const { applied } = applyChanges(
      shard,
      [{ offset: 5, owner: owner('a', { stale: marked }), action: 'free', reason: 'x' }],
      NOW,
    );
    expect(applied.freed).toEqual([]);
  });

  it('marks and clears', () => {
    let shard = withReservation(newShard('n', place), 1, owner('a'));
    shard = withReservation(shard, 2, owner('b', { stale: marked }));
    const { data, applied } = applyChanges(
      shard,
      [
        { offset: 1, owner: owner('a'), action: 'mark', reason: 'pod not found' },
        { offset: 2, owner: owner('b'), action: 'clear', reason: 'pod exists' },
      ],
      NOW,
    );
    expect(applied.marked).toBe(1);
    expect(applied.cleared).toBe(1);
    expect(data.owners['1']?.stale).toEqual({
      since: new Date(NOW).toISOString(),
      reason: 'pod not found',
    });
    expect(data.owners['2']?.stale).toBeUndefined();
  });
});

describe('networksOfConfig', () => {
  it('reads the configuration name', () => {
    expect(networksOfConfig(JSON.stringify({ name: 'net1', ipam: { type: 'leasehold' } }))).toEqual(
      ['net1'],
    );
  });
  it('prefers ipam.network_name', () => {
    expect(
      networksOfConfig(
        JSON.stringify({ name: 'net1', ipam: { type: 'leasehold', network_name: 'pool' } }),
      ),
    ).toEqual(['pool']);
  });
  it('searches a configuration list', () => {
    expect(
      networksOfConfig(
        JSON.stringify({
          name: 'list',
          plugins: [{ type: 'bridge', ipam: { type: 'leasehold' } }, { type: 'tuning' }],
        }),
      ),
    ).toEqual(['list']);
  });
  it('ignores other IPAM plugins', () =>
    expect(networksOfConfig(JSON.stringify({ name: 'x', ipam: { type: 'host-local' } }))).toEqual(
      [],
    ));
  it('ignores invalid JSON', () => expect(networksOfConfig('{')).toEqual([]));
});

describe('unreferenced', () => {
  it('counts node pod CIDR networks by name', () => {
    const stored = new Set(['pods@10.244.1.0/24', 'lan', 'old']);
    expect(unreferenced(stored, new Set(['pods', 'lan']))).toEqual(['old']);
  });
});
