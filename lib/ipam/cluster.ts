import type { ConfigProblem } from '../errors.js';
import { type Interval, formatPrefix, intervalsOverlap, parsePrefix, prefixInterval } from './address.js';
import type { NetworkSpec } from './network.js';

/** One of the cluster's own ranges, with where it was read from for messages. */
export interface ClusterRange {
  /** CIDR such as 10.96.0.0/12. */
  cidr: string;
  /** Origin of the range for messages, such as `ServiceCIDR "kubernetes"` or `spec.podCIDRs of node n1`. */
  source: string;
}

/** The ranges a secondary network must stay out of. */
export interface ClusterNetworks {
  services: ClusterRange[];
  pods: ClusterRange[];
}

export interface OverlapOptions {
  /** Skip the pod CIDRs: a network built from the node's own pod CIDRs overlaps them on purpose. */
  ignorePods?: boolean;
}

const FIX = 'choose a range outside it, or set ipam.allowClusterOverlap to true if the overlap is intended';

interface Placed {
  family: number;
  interval: Interval;
}

function place(cidr: string): Placed | undefined {
  const prefix = parsePrefix(cidr);
  return prefix ? { family: prefix.family, interval: prefixInterval(prefix) } : undefined;
}

/**
 * Returns a problem for every range of the network whose subnet overlaps the cluster's service
 * range or a node's pod CIDR. The subnet counts, not only rangeStart to rangeEnd, because the
 * interface gets a route for the whole subnet and would capture the cluster's traffic.
 */
export function clusterOverlaps(spec: NetworkSpec, cluster: ClusterNetworks, options: OverlapOptions = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const range of spec.rangeSets.flat()) {
    const subnet = formatPrefix(range.family, range.subnetFirst, range.prefixLength);
    const own = place(subnet) as Placed;
    const path = `${range.path}.subnet`;
    const services = cluster.services.filter((entry) => overlaps(own, entry));
    for (const entry of services) {
      problems.push({ path, message: `subnet ${subnet} overlaps the cluster's service range ${entry.cidr} (${entry.source}); ${FIX}` });
    }
    if (options.ignorePods) continue;
    const pods = cluster.pods.filter((entry) => overlaps(own, entry));
    if (pods.length > 0) {
      const [first] = pods as [ClusterRange];
      const more = pods.length > 1 ? ` and ${pods.length - 1} more pod CIDRs` : '';
      problems.push({ path, message: `subnet ${subnet} overlaps the cluster's pod CIDR ${first.cidr} (${first.source})${more}; ${FIX}` });
    }
  }
  return problems;
}

function overlaps(own: Placed, entry: ClusterRange): boolean {
  const other = place(entry.cidr);
  return other !== undefined && other.family === own.family && intervalsOverlap(own.interval, other.interval);
}
