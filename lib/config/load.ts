import { readFileSync } from 'node:fs';
import type { Dns, Route } from '../cni/result.js';
import { CniCode, type ConfigProblem, InvalidConfigError, LeaseholdError } from '../errors.js';
import { type IpAddress, parseAddress, parsePrefix } from '../ipam/address.js';
import type { NetworkSpec } from '../ipam/network.js';
import { DEFAULT_FILE_STORE_DIR, type HostConfig } from './host.js';
import { resolveRangeSets } from './ranges.js';
import { describeIssue, formatPath, type IpamConfig, type NetConf, netConfSchema, type StoreConfig } from './schema.js';

/** Whereabouts keys that configure its own storage; Leasehold ignores them with a warning. */
const WHEREABOUTS_STORAGE_KEYS = [
  'kubernetes',
  'datastore',
  'etcd_host',
  'etcd_username',
  'etcd_password',
  'etcd_key_file',
  'etcd_cert_file',
  'etcd_ca_cert_file',
  'configuration_path',
  'leader_lease_duration',
  'leader_renew_deadline',
  'leader_retry_period',
  'sleep_for_race',
  'enable_overlapping_ranges',
  'node_slice_size',
  'reconciler_cron_expression',
];

/**
 * Default of `ipam.gcMinAgeSeconds`. A runtime builds its list of valid attachments before it
 * calls GC, so an ADD that finishes in between is missing from the list. This age covers that gap.
 */
export const DEFAULT_GC_MIN_AGE_SECONDS = 60;

/** A network configuration, checked and resolved. */
export interface PluginConfig {
  cniVersion: string;
  netconf: NetConf;
  spec: NetworkSpec;
  routes: Route[];
  dns: Dns | undefined;
  store: StoreConfig;
  nodeName: string | undefined;
  /** The network may overlap the cluster's service range and pod CIDRs. */
  allowClusterOverlap: boolean;
  /** The ranges are the node's spec.podCIDRs, read when the store is open (rangeSets is empty until then). */
  nodeLocal: boolean;
  /** StatefulSet pods keep their addresses across restarts and rescheduling. */
  stickyStatefulSets: boolean;
  /** GC keeps allocations younger than this, which the runtime's list may not name yet. */
  gcMinAgeMs: number;
  /** Things worth a log line that do not stop the command. */
  warnings: string[];
}

/** Parses stdin as JSON; anything else is CNI error 6. */
export function decodeStdin(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LeaseholdError('DECODE_FAILED', CniCode.DECODE_FAILURE, `failed to decode the network configuration on stdin: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new LeaseholdError('DECODE_FAILED', CniCode.DECODE_FAILURE, 'failed to decode the network configuration on stdin: expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Returns the configuration's cniVersion, 0.1.0 for configurations written before versions existed. */
export function versionOf(raw: Record<string, unknown>): string {
  const version = raw.cniVersion;
  if (version === undefined || version === '') return '0.1.0';
  if (typeof version !== 'string') {
    throw new LeaseholdError('INCOMPATIBLE_VERSION', CniCode.INCOMPATIBLE_VERSION, `invalid cniVersion ${JSON.stringify(version)}: write it as a string, such as "1.0.0"`);
  }
  return version;
}

export interface LoadOptions {
  /**
   * Ignore problems in the range definitions. DEL uses this: releasing needs only the network
   * name and the store, and a pod whose configuration was broken afterwards must still be freed.
   */
  lenientRanges?: boolean;
}

/** Checks a decoded configuration, reporting every problem at once with its path. */
/** Network names as the CNI specification allows them. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Keys of the ipam section that only ADD, CHECK, GC and STATUS need. */
const ADDRESS_KEYS = ['ranges', 'subnet', 'rangeStart', 'rangeEnd', 'gateway', 'range', 'range_start', 'range_end', 'ipRanges', 'exclude', 'routes', 'dns', 'resolvConf'];

export function loadConfig(raw: Record<string, unknown>, host: HostConfig, options: LoadOptions = {}): PluginConfig {
  if (options.lenientRanges && raw.ipam !== null && typeof raw.ipam === 'object') {
    const ipam = { ...(raw.ipam as Record<string, unknown>) };
    for (const key of ADDRESS_KEYS) delete ipam[key];
    raw = { ...raw, ipam };
  }
  const parsed = netConfSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidConfigError(
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue, raw) })),
    );
  }
  const netconf = parsed.data;
  const ipam = netconf.ipam;
  const problems: ConfigProblem[] = [];
  if (!NETWORK_NAME.test(netconf.name)) {
    problems.push({ path: 'name', message: `invalid network name "${netconf.name.slice(0, 80)}": start with a letter or digit, then use letters, digits, "_", "." or "-"` });
  }
  const rangeProblems: ConfigProblem[] = [];
  const nodeLocal = ipam.rangesFrom === 'nodePodCIDRs';
  // Range keys are range problems: a DEL must still release what an older configuration handed out.
  if (nodeLocal) checkNodeLocal(ipam, rangeProblems);
  const rangeSets = options.lenientRanges || nodeLocal ? [] : resolveRangeSets(ipam, rangeProblems);
  if (!options.lenientRanges) problems.push(...rangeProblems);
  checkStore(ipam.store, problems);
  const routes = checkRoutes(ipam, problems);
  const dns = readDns(ipam, problems);
  const version = versionOf(raw);
  const families = rangeSets.map((set) => set[0]?.family);
  if (version === '0.1.0' || version === '0.2.0') {
    for (const family of [4, 6]) {
      if (families.filter((f) => f === family).length > 1) {
        problems.push({ path: 'ipam.ranges', message: `${version} results hold one IPv${family} address, but ${families.filter((f) => f === family).length} IPv${family} range sets are configured; use cniVersion 0.3.0 or later` });
      }
    }
  }
  if (problems.length > 0) throw new InvalidConfigError(uniqueProblems(problems));

  return {
    cniVersion: version,
    netconf,
    spec: { name: ipam.network_name ?? netconf.name, rangeSets },
    routes,
    dns,
    store: ipam.store ?? host.store ?? { type: 'file', dir: DEFAULT_FILE_STORE_DIR },
    nodeName: host.nodeName,
    allowClusterOverlap: ipam.allowClusterOverlap === true,
    nodeLocal,
    stickyStatefulSets: ipam.stickyStatefulSets === true,
    gcMinAgeMs: (ipam.gcMinAgeSeconds ?? DEFAULT_GC_MIN_AGE_SECONDS) * 1000,
    warnings: collectWarnings(ipam),
  };
}

/**
 * Keys that name ranges or their gateway, which a network built from the node's pod CIDRs must not
 * set: its gateway is host-local's default in each CIDR.
 */
const RANGE_KEYS = ['ranges', 'subnet', 'rangeStart', 'rangeEnd', 'gateway', 'range', 'range_start', 'range_end', 'ipRanges'] as const;

function checkNodeLocal(ipam: IpamConfig, problems: ConfigProblem[]): void {
  for (const key of RANGE_KEYS) {
    if (ipam[key] !== undefined) {
      problems.push({ path: `ipam.${key}`, message: 'set next to ipam.rangesFrom "nodePodCIDRs", which takes the ranges from the node; remove one of them' });
    }
  }
  if (ipam.store !== undefined && ipam.store.type !== 'kubernetes') {
    problems.push({ path: 'ipam.store.type', message: `"${ipam.store.type}" cannot read the node's pod CIDRs for ipam.rangesFrom "nodePodCIDRs"; use the kubernetes store` });
  }
  // Each node's pool is its own address space, so a kept address would stay, unused, in the old
  // node's pool while the pod takes a new one on the next node.
  if (ipam.stickyStatefulSets === true) {
    problems.push({ path: 'ipam.stickyStatefulSets', message: 'cannot be combined with ipam.rangesFrom "nodePodCIDRs": a pod moved to another node must take an address from that node\'s pod CIDRs; remove one of them' });
  }
}

/** Drops repeats: an exclusion shared by every range is checked once per range. */
function uniqueProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Keys of the ipam section that Leasehold reads. */
const KNOWN_KEYS = new Set(['type', ...ADDRESS_KEYS, 'network_name', 'store', 'log_file', 'log_level', 'allowClusterOverlap', 'rangesFrom', 'stickyStatefulSets', 'gcMinAgeSeconds']);

function collectWarnings(ipam: IpamConfig): string[] {
  const storage = WHEREABOUTS_STORAGE_KEYS.filter((key) => key in ipam).map(
    (key) => `ignoring whereabouts storage key ipam.${key}: Leasehold keeps allocations in its own store (ipam.store)`,
  );
  const unknown = Object.keys(ipam)
    .filter((key) => !KNOWN_KEYS.has(key) && !WHEREABOUTS_STORAGE_KEYS.includes(key))
    .map((key) => `ignoring unknown key ipam.${key}`);
  return [...storage, ...unknown];
}

function checkStore(store: StoreConfig | undefined, problems: ConfigProblem[]): void {
  const paths: Array<[string, string | undefined]> =
    store?.type === 'file' ? [['ipam.store.dir', store.dir]] : [['ipam.store.kubeconfig', store?.kubeconfig]];
  for (const [path, value] of paths) {
    if (value === undefined) continue;
    if (!value.startsWith('/')) problems.push({ path, message: `"${value}" is relative; use an absolute path` });
    else if (/^\/(proc|sys)(\/|$)/.test(value)) problems.push({ path, message: `"${value}" is in a kernel file system; use a directory on disk` });
  }
}

function checkRoutes(ipam: IpamConfig, problems: ConfigProblem[]): Route[] {
  const routes: Route[] = [];
  (ipam.routes ?? []).forEach((route, index) => {
    const path = `ipam.routes[${index}]`;
    const dst = parsePrefix(route.dst);
    if (!dst) {
      problems.push({ path: `${path}.dst`, message: `invalid route destination "${route.dst}": expected CIDR such as 0.0.0.0/0` });
      return;
    }
    if (route.gw !== undefined) {
      const gw = parseAddress(route.gw);
      if (!gw || gw.family !== dst.family) {
        problems.push({ path: `${path}.gw`, message: `invalid gateway "${route.gw}": expected an IPv${dst.family} address` });
        return;
      }
    }
    const out: Route = { dst: route.dst };
    for (const key of ['gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      if (route[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = route[key];
    }
    routes.push(out);
  });
  return routes;
}

function readDns(ipam: IpamConfig, problems: ConfigProblem[]): Dns | undefined {
  let dns: Dns | undefined;
  if (ipam.resolvConf !== undefined) {
    try {
      dns = parseResolvConf(readFileSync(ipam.resolvConf, 'utf8'));
    } catch (error) {
      problems.push({ path: 'ipam.resolvConf', message: `failed to read "${ipam.resolvConf}": ${(error as Error).message}` });
      return undefined;
    }
  }
  if (ipam.dns !== undefined) {
    const { nameservers, domain, search, options } = ipam.dns;
    dns = { ...dns };
    if (nameservers !== undefined) dns.nameservers = nameservers;
    if (domain !== undefined) dns.domain = domain;
    if (search !== undefined) dns.search = search;
    if (options !== undefined) dns.options = options;
  }
  (dns?.nameservers ?? []).forEach((server, index) => {
    if (!parseAddress(server)) {
      problems.push({ path: `ipam.dns.nameservers[${index}]`, message: `invalid nameserver "${server}": expected an IP address` });
    }
  });
  return dns;
}

/** Reads nameserver, domain, search and options lines of a resolv.conf file. */
export function parseResolvConf(text: string): Dns {
  const dns: Dns = {};
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [keyword, ...values] = fields;
    if (keyword === 'nameserver' && values[0]) (dns.nameservers ??= []).push(values[0]);
    else if (keyword === 'domain' && values[0]) dns.domain = values[0];
    else if (keyword === 'search') dns.search = values;
    else if (keyword === 'options') (dns.options ??= []).push(...values);
  }
  return dns;
}

/** A requested address and where it came from, for messages. */
export interface RequestedAddress extends IpAddress {
  source: string;
  /** The prefix length the request carried, if any; it must match the range's. */
  prefixLength?: number;
}

/**
 * Collects the addresses a runtime requests. `runtimeConfig.ips` and `args.cni.ips` are merged;
 * the CNI_ARGS `IP` key is read only when neither is present, because the CNI conventions let
 * `args` override CNI_ARGS.
 */
export function requestedAddresses(netconf: NetConf, cniArgs: Map<string, string>): RequestedAddress[] {
  const sources: Array<{ path: string; text: string }> = [];
  (netconf.runtimeConfig?.ips ?? []).forEach((text, i) => sources.push({ path: `runtimeConfig.ips[${i}]`, text }));
  (netconf.args?.cni?.ips ?? []).forEach((text, i) => sources.push({ path: `args.cni.ips[${i}]`, text }));
  const fromEnv = sources.length === 0 ? cniArgs.get('IP') : undefined;
  if (fromEnv) {
    fromEnv.split(',').forEach((text) => sources.push({ path: 'CNI_ARGS IP', text: text.trim() }));
  }
  const problems: ConfigProblem[] = [];
  const addresses: RequestedAddress[] = [];
  for (const { path, text } of sources) {
    const address = parseAddress(text) ?? parsePrefix(text);
    if (!address) {
      problems.push({ path, message: `invalid requested address "${text}": expected an IP address, optionally with a prefix length` });
      continue;
    }
    const value = 'value' in address ? address.value : address.address;
    if (addresses.some((seen) => seen.family === address.family && seen.value === value)) continue;
    const entry: RequestedAddress = { family: address.family, value, source: path };
    if ('length' in address) entry.prefixLength = address.length;
    addresses.push(entry);
  }
  if (problems.length > 0) {
    if (fromEnv) throw new LeaseholdError('INVALID_ENVIRONMENT', CniCode.INVALID_ENVIRONMENT, problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    throw new InvalidConfigError(problems);
  }
  return addresses;
}
