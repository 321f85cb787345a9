import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { type ClusterApi, checkClusterOverlap, eventReason, nodeLocalSpec, stickyKey } from '../../lib/plugin/cluster.js';
import { failureOf } from '../support/failure.js';

function fakeCluster(overrides: Partial<ClusterApi> = {}): ClusterApi {
  return {
    networks: async () => ({ services: [{ cidr: '10.96.0.0/12', source: 'ServiceCIDR "kubernetes"' }], pods: [{ cidr: '10.244.3.0/24', source: 'spec.podCIDRs of node n3' }] }),
    nodePodCIDRs: async () => ['10.244.3.0/24', 'fd00:10:244:3::/64'],
    pod: async () => ({ uid: 'u1', statefulSet: 'db' }),
    recordEvent: async () => undefined,
    ...overrides,
  };
}

function config(ipam: Record<string, unknown>): ReturnType<typeof loadConfig> {
  return loadConfig({ cniVersion: '1.1.0', name: 'pods', ipam: { type: 'leasehold', ...ipam } }, {});
}

describe('checkClusterOverlap', () => {
  it('refuses an overlapping network with code 7 naming both ranges', async () => {
    const error = await failureOf(checkClusterOverlap(config({ subnet: '10.96.5.0/24' }), fakeCluster(), {}));
    expect(error).toMatchObject({ code: 'CLUSTER_OVERLAP', cniCode: 7 });
    expect(error.message).toContain('10.96.5.0/24 overlaps the cluster\'s service range 10.96.0.0/12');
    expect(eventReason(error)).toBe('NetworkOverlapsCluster');
  });

  it('lets a network opt in', async () => {
    await checkClusterOverlap(config({ subnet: '10.96.5.0/24', allowClusterOverlap: true }), fakeCluster(), {});
  });

  it('uses the host configuration without an API server', async () => {
    const error = await failureOf(checkClusterOverlap(config({ subnet: '10.50.0.0/24' }), undefined, { clusterCIDRs: ['10.48.0.0/14'] }));
    expect(error.message).toContain('pod CIDR 10.48.0.0/14 (clusterCIDRs in the host configuration)');
  });
});

describe('nodeLocalSpec', () => {
  it('makes one set per pod CIDR', async () => {
    const spec = await nodeLocalSpec(config({ rangesFrom: 'nodePodCIDRs' }), fakeCluster(), 'n3');
    expect(spec.name).toBe('pods@10.244.3.0/24,fd00:10:244:3::/64');
    expect(spec.rangeSets.map((set) => set.map((range) => range.family))).toEqual([[4], [6]]);
  });

  it('asks to retry while the node has no pod CIDRs', async () => {
    const error = await failureOf(nodeLocalSpec(config({ rangesFrom: 'nodePodCIDRs' }), fakeCluster({ nodePodCIDRs: async () => [] }), 'n3'));
    expect(error.cniCode).toBe(11);
    expect(error.message).toContain('node "n3" has no spec.podCIDRs yet');
  });

  it('needs the Kubernetes store', async () => {
    const error = await failureOf(nodeLocalSpec(config({ rangesFrom: 'nodePodCIDRs' }), undefined, undefined));
    expect(error.cniCode).toBe(7);
  });

  it('refuses range keys beside it', () => {
    expect(() => config({ rangesFrom: 'nodePodCIDRs', subnet: '10.0.0.0/24' })).toThrow(/ipam.subnet: set next to ipam.rangesFrom/);
  });

  it('refuses a gateway beside it', () => {
    expect(() => config({ rangesFrom: 'nodePodCIDRs', gateway: '10.0.0.254' })).toThrow(/ipam.gateway: set next to ipam.rangesFrom/);
  });

  it('refuses stickyStatefulSets beside it', () => {
    expect(() => config({ rangesFrom: 'nodePodCIDRs', stickyStatefulSets: true })).toThrow(/ipam.stickyStatefulSets: .*another node/);
  });

  it('lets DEL pass with range keys beside it', () => {
    const raw = { cniVersion: '1.1.0', name: 'pods', ipam: { type: 'leasehold', rangesFrom: 'nodePodCIDRs', gateway: '10.0.0.254' } };
    expect(loadConfig(raw, {}, { lenientRanges: true }).nodeLocal).toBe(true);
  });
});

describe('stickyKey', () => {
  const attachment = { containerId: 'c', ifName: 'net1', podNamespace: 'data', podName: 'db-0' };

  it('keys a StatefulSet pod by namespace and name when the network opts in', async () => {
    expect(await stickyKey(config({ subnet: '10.1.0.0/24', stickyStatefulSets: true }), fakeCluster(), attachment)).toBe('data/db-0');
  });

  it('ignores other pods and networks that do not opt in', async () => {
    const plain = fakeCluster({ pod: async () => ({ uid: 'u' }) });
    expect(await stickyKey(config({ subnet: '10.1.0.0/24', stickyStatefulSets: true }), plain, attachment)).toBeUndefined();
    expect(await stickyKey(config({ subnet: '10.1.0.0/24' }), fakeCluster(), attachment)).toBeUndefined();
  });

  it('ignores a replaced pod of the name', async () => {
    const sticky = config({ subnet: '10.1.0.0/24', stickyStatefulSets: true });
    expect(await stickyKey(sticky, fakeCluster(), { ...attachment, podUid: 'u0' })).toBeUndefined();
    expect(await stickyKey(sticky, fakeCluster(), { ...attachment, podUid: 'u1' })).toBe('data/db-0');
  });
});
