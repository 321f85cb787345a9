import { describe, expect, it } from 'vitest';
import type { Owner } from '../../lib/ipam/shard.js';
import {
  type OwnerWorld,
  decideOwner,
  nextAction,
  statefulSetOrdinal,
} from '../../lib/reconcile/decide.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const MIN_AGE_MS = 5 * 60_000;
const GRACE_MS = 10 * 60_000;
const OLD = new Date(NOW - 60 * 60_000).toISOString();

function owner(extra: Partial<Owner> = {}): Owner {
  return {
    containerId: 'c1',
    ifName: 'eth0',
    podNamespace: 'ns',
    podName: 'p1',
    podUid: 'u1',
    node: 'n1',
    allocatedAt: OLD,
    ...extra,
  };
}

const running = { uid: 'u1', phase: 'Running', nodeName: 'n1' };

interface Case {
  name: string;
  owner: Owner;
  world: OwnerWorld;
  stale: boolean;
}

const cases: Case[] = [
  {
    name: 'running pod on Ready node',
    owner: owner(),
    world: { pod: running, nodeReady: true },
    stale: false,
  },
  {
    name: 'pod not found',
    owner: owner(),
    world: { pod: undefined, nodeReady: undefined },
    stale: true,
  },
  {
    name: 'pod with another UID',
    owner: owner(),
    world: { pod: { ...running, uid: 'u2' }, nodeReady: true },
    stale: true,
  },
  {
    name: 'mirror pod of the static pod',
    owner: owner({ podUid: 'static-hash' }),
    world: { pod: { ...running, uid: 'u2', mirrorOf: 'static-hash' }, nodeReady: true },
    stale: false,
  },
  {
    name: 'mirror pod of another static pod',
    owner: owner({ podUid: 'static-hash' }),
    world: { pod: { ...running, uid: 'u2', mirrorOf: 'other-hash' }, nodeReady: true },
    stale: true,
  },
  {
    name: 'pod Succeeded',
    owner: owner(),
    world: { pod: { ...running, phase: 'Succeeded' }, nodeReady: true },
    stale: true,
  },
  {
    name: 'pod Failed',
    owner: owner(),
    world: { pod: { ...running, phase: 'Failed' }, nodeReady: true },
    stale: true,
  },
  {
    name: 'pending pod',
    owner: owner(),
    world: { pod: { ...running, phase: 'Pending' }, nodeReady: true },
    stale: false,
  },
  {
    name: 'young allocation of a gone pod',
    owner: owner({ allocatedAt: new Date(NOW - 60_000).toISOString() }),
    world: { pod: undefined, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'allocation exactly min-age old',
    owner: owner({ allocatedAt: new Date(NOW - MIN_AGE_MS).toISOString() }),
    world: { pod: undefined, nodeReady: undefined },
    stale: true,
  },
  {
    name: 'unreadable allocation time',
    owner: owner({ allocatedAt: 'yesterday' }),
    world: { pod: undefined, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'Failed pod on NotReady node',
    owner: owner(),
    world: { pod: { ...running, phase: 'Failed' }, nodeReady: false },
    stale: false,
  },
  {
    name: 'Failed pod on unknown node',
    owner: owner(),
    world: { pod: { ...running, phase: 'Failed' }, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'gone pod of a NotReady node',
    owner: owner(),
    world: { pod: undefined, nodeReady: false },
    stale: true,
  },
  {
    name: 'owner without pod name',
    owner: owner({ podName: undefined }),
    world: { pod: undefined, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'owner without UID, pod present',
    owner: owner({ podUid: undefined }),
    world: { pod: { ...running, uid: 'u9' }, nodeReady: true },
    stale: false,
  },
];

const sticky = (extra: Partial<Owner> = {}): Owner =>
  owner({ sticky: 'ns/web-2', podName: 'web-2', ...extra });

const stickyCases: Case[] = [
  {
    name: 'sticky pod exists with another UID',
    owner: sticky(),
    world: { pod: { ...running, uid: 'u7' }, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'sticky ordinal within replicas',
    owner: sticky(),
    world: { pod: undefined, nodeReady: undefined, statefulSet: { replicas: 3, ordinalsStart: 0 } },
    stale: false,
  },
  {
    name: 'sticky ordinal at replicas',
    owner: sticky(),
    world: { pod: undefined, nodeReady: undefined, statefulSet: { replicas: 2, ordinalsStart: 0 } },
    stale: true,
  },
  {
    name: 'sticky ordinal below ordinals.start',
    owner: sticky(),
    world: { pod: undefined, nodeReady: undefined, statefulSet: { replicas: 5, ordinalsStart: 3 } },
    stale: true,
  },
  {
    name: 'sticky ordinal within shifted ordinals',
    owner: sticky(),
    world: { pod: undefined, nodeReady: undefined, statefulSet: { replicas: 1, ordinalsStart: 2 } },
    stale: false,
  },
  {
    name: 'sticky StatefulSet gone',
    owner: sticky(),
    world: { pod: undefined, nodeReady: undefined },
    stale: true,
  },
  {
    name: 'sticky name without ordinal',
    owner: sticky({ sticky: 'ns/web' }),
    world: { pod: undefined, nodeReady: undefined },
    stale: true,
  },
  {
    name: 'sticky detached recently, allocated long ago',
    owner: sticky({ detachedAt: new Date(NOW - 60_000).toISOString() }),
    world: { pod: undefined, nodeReady: undefined },
    stale: false,
  },
  {
    name: 'sticky detached long ago',
    owner: sticky({ detachedAt: OLD }),
    world: { pod: undefined, nodeReady: undefined },
    stale: true,
  },
];

describe('decideOwner', () => {
  for (const entry of [...cases, ...stickyCases]) {
    it(entry.name, () => {
      expect(decideOwner(entry.owner, entry.world, NOW, MIN_AGE_MS).stale).toBe(entry.stale);
    });
  }

  it('gives a reason for every verdict', () => {
    for (const entry of [...cases, ...stickyCases]) {
      expect(decideOwner(entry.owner, entry.world, NOW, MIN_AGE_MS).reason).not.toBe('');
    }
  });
});

describe('nextAction', () => {
  const stale = { stale: true, reason: 'pod not found' };
  const live = { stale: false, reason: 'pod exists' };
  const markedAt = (ms: number): Owner =>
    owner({ stale: { since: new Date(NOW - ms).toISOString(), reason: 'pod not found' } });

  it('keeps a live unmarked owner', () =>
    expect(nextAction(owner(), live, NOW, GRACE_MS)).toBe('keep'));
  it('marks a first stale verdict', () =>
    expect(nextAction(owner(), stale, NOW, GRACE_MS)).toBe('mark'));
  it('waits within the grace period', () =>
    expect(nextAction(markedAt(GRACE_MS - 1), stale, NOW, GRACE_MS)).toBe('wait'));
  it('frees once the grace period passed', () =>
    expect(nextAction(markedAt(GRACE_MS), stale, NOW, GRACE_MS)).toBe('free'));
  it('clears the mark of a live owner', () =>
    expect(nextAction(markedAt(GRACE_MS * 2), live, NOW, GRACE_MS)).toBe('clear'));
  it('marks again over a future mark', () =>
    expect(nextAction(markedAt(-60_000), stale, NOW, GRACE_MS)).toBe('mark'));
  it('marks again over an unreadable mark', () => {
    expect(nextAction(owner({ stale: { since: 'soon', reason: 'x' } }), stale, NOW, GRACE_MS)).toBe(
      'mark',
    );
  });
});

describe('statefulSetOrdinal', () => {
  it('splits name and ordinal', () =>
    expect(statefulSetOrdinal('db-web-12')).toEqual({ name: 'db-web', ordinal: 12 }));
  it('rejects a name without ordinal', () => expect(statefulSetOrdinal('web')).toBeUndefined());
});
