import type { ConfigProblem } from '../errors.js';
import {
  type Family,
  type Interval,
  formatAddress,
  formatPrefix,
  intervalsOverlap,
  networkAddress,
  parseAddress,
  parsePrefix,
  prefixInterval,
  prefixSize,
} from '../ipam/address.js';
import {
  type AddressRange,
  availableCount,
  defaultRangeEnd,
  defaultRangeStart,
  describeRange,
  reservedAddresses,
} from '../ipam/network.js';
import type { IpamConfig } from './schema.js';

/** A range as written, before resolution: native and whereabouts syntax both end up here. */
interface RangeInput {
  path: string;
  /** Key that contains the subnet, for messages: `subnet` or `range`. */
  subnetKey: string;
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  exclude: Array<{ path: string; text: string }>;
  /** Whereabouts lets `range` carry host bits (the implied start) or a `first-last/len` form. */
  whereabouts: boolean;
  /** Host-local fills in the first address as gateway when none is given; whereabouts does not. */
  defaultGateway: boolean;
}

/**
 * Resolves the range sets of an `ipam` section into address values, reporting every problem
 * found with its path. Returns undefined range sets when any problem was found.
 */
export function resolveRangeSets(ipam: IpamConfig, problems: ConfigProblem[]): AddressRange[][] {
  const inputs = collectRangeInputs(ipam, problems);
  const sets: AddressRange[][] = [];
  for (const setInputs of inputs) {
    const set: AddressRange[] = [];
    for (const input of setInputs) {
      const range = resolveRange(input, problems);
      if (range) set.push(range);
    }
    if (set.length === setInputs.length) checkSetFamilies(set, problems);
    sets.push(set);
  }
  checkOverlaps(sets.flat(), problems);
  return sets;
}

function collectRangeInputs(ipam: IpamConfig, problems: ConfigProblem[]): RangeInput[][] {
  const native = ipam.ranges !== undefined || ipam.subnet !== undefined;
  const whereabouts = ipam.range !== undefined || ipam.ipRanges !== undefined;
  if (ipam.ranges !== undefined) {
    for (const key of ['subnet', 'rangeStart', 'rangeEnd'] as const) {
      if (ipam[key] !== undefined) problems.push({ path: `ipam.${key}`, message: `ignored next to ipam.ranges; move it into a range of ipam.ranges` });
    }
  }
  if (native) {
    for (const key of ['range_start', 'range_end'] as const) {
      if (ipam[key] !== undefined) problems.push({ path: `ipam.${key}`, message: `whereabouts key next to native ranges; use rangeStart or rangeEnd inside ipam.ranges` });
    }
  }
  if (native && whereabouts) {
    problems.push({
      path: 'ipam.ranges',
      message:
        'both native ranges (ranges/subnet) and whereabouts ranges (range/ipRanges) are set; keep one of them',
    });
    return [];
  }
  if (!native && !whereabouts) {
    problems.push({
      path: 'ipam.ranges',
      message: 'missing: set ipam.ranges, for example [[{"subnet": "10.10.0.0/24"}]]',
    });
    return [];
  }
  return native ? nativeInputs(ipam, problems) : whereaboutsInputs(ipam);
}

function excludeList(list: string[] | undefined, path: string): RangeInput['exclude'] {
  return (list ?? []).map((text, index) => ({ path: `${path}[${index}]`, text }));
}

function nativeInputs(ipam: IpamConfig, problems: ConfigProblem[]): RangeInput[][] {
  const shared = excludeList(ipam.exclude, 'ipam.exclude');
  if (ipam.ranges === undefined) {
    const input: RangeInput = {
      path: 'ipam',
      subnetKey: 'subnet',
      subnet: ipam.subnet as string,
      exclude: shared,
      whereabouts: false,
      defaultGateway: true,
    };
    copyOptional(input, ipam.rangeStart, ipam.rangeEnd, ipam.gateway);
    return [[input]];
  }
  if (ipam.ranges.length === 0) {
    problems.push({ path: 'ipam.ranges', message: 'empty: give at least one range set' });
  }
  return ipam.ranges.map((set, i) => {
    if (set.length === 0) {
      problems.push({ path: `ipam.ranges[${i}]`, message: 'empty range set: give at least one range' });
    }
    return set.map((range, j) => {
      const path = `ipam.ranges[${i}][${j}]`;
      const input: RangeInput = {
        path,
        subnetKey: 'subnet',
        subnet: range.subnet,
        exclude: [...excludeList(range.exclude, `${path}.exclude`), ...shared],
        whereabouts: false,
        defaultGateway: true,
      };
      copyOptional(input, range.rangeStart, range.rangeEnd, range.gateway);
      return input;
    });
  });
}

function whereaboutsInputs(ipam: IpamConfig): RangeInput[][] {
  const sets: RangeInput[][] = [];
  if (ipam.range !== undefined) {
    const input: RangeInput = {
      path: 'ipam',
      subnetKey: 'range',
      subnet: ipam.range,
      exclude: excludeList(ipam.exclude, 'ipam.exclude'),
      whereabouts: true,
      defaultGateway: false,
    };
    copyOptional(input, ipam.range_start, ipam.range_end, ipam.gateway);
    sets.push([input]);
  }
  (ipam.ipRanges ?? []).forEach((entry, k) => {
    const path = `ipam.ipRanges[${k}]`;
    const input: RangeInput = {
      path,
      subnetKey: 'range',
      subnet: entry.range,
      exclude: [...excludeList(entry.exclude, `${path}.exclude`), ...excludeList(ipam.exclude, 'ipam.exclude')],
      whereabouts: true,
      defaultGateway: false,
    };
    copyOptional(input, entry.range_start, entry.range_end, entry.gateway ?? ipam.gateway);
    sets.push([input]);
  });
  return sets;
}

function copyOptional(input: RangeInput, start?: string, end?: string, gateway?: string): void {
  if (start !== undefined) input.rangeStart = start;
  if (end !== undefined) input.rangeEnd = end;
  if (gateway !== undefined && gateway !== '') input.gateway = gateway;
}

function keyPath(input: RangeInput, native: string, whereabouts: string): string {
  return `${input.path}.${input.whereabouts ? whereabouts : native}`;
}

interface ParsedSubnet {
  family: Family;
  first: bigint;
  length: number;
  impliedStart?: bigint;
  impliedEnd?: bigint;
}

function parseSubnet(input: RangeInput, problems: ConfigProblem[]): ParsedSubnet | undefined {
  const path = `${input.path}.${input.subnetKey}`;
  let text = input.subnet;
  let impliedEnd: bigint | undefined;
  const dash = text.indexOf('-');
  if (input.whereabouts && dash > 0) {
    // Whereabouts writes "first-last/len": the subnet is that of the first address.
    const slash = text.indexOf('/');
    const last = parseAddress(text.slice(dash + 1, slash < 0 ? undefined : slash));
    if (!last || slash < 0) {
      problems.push({ path, message: `invalid range "${input.subnet}": expected CIDR or first-last/prefix` });
      return undefined;
    }
    impliedEnd = last.value;
    text = text.slice(0, dash) + text.slice(slash);
  }
  const prefix = parsePrefix(text);
  if (!prefix) {
    problems.push({ path, message: `invalid subnet "${input.subnet}": expected CIDR such as 10.10.0.0/24` });
    return undefined;
  }
  const first = networkAddress(prefix.family, prefix.address, prefix.length);
  const parsed: ParsedSubnet = { family: prefix.family, first, length: prefix.length };
  if (first !== prefix.address) {
    if (!input.whereabouts) {
      const fixed = formatPrefix(prefix.family, first, prefix.length);
      // Reported, but resolution goes on with the masked subnet so later problems show too.
      problems.push({ path, message: `subnet "${input.subnet}" has host bits set; use "${fixed}"` });
    } else {
      parsed.impliedStart = prefix.address;
    }
  }
  if (impliedEnd !== undefined) {
    const last = first + prefixSize(prefix.family, prefix.length) - 1n;
    if (impliedEnd < first || impliedEnd > last) {
      const subnet = formatPrefix(prefix.family, first, prefix.length);
      problems.push({ path, message: `range end ${formatAddress(prefix.family, impliedEnd)} in "${input.subnet}" is outside subnet ${subnet}` });
      return undefined;
    }
    parsed.impliedStart = prefix.address;
    parsed.impliedEnd = impliedEnd;
  }
  return parsed;
}

function parseMember(
  text: string | undefined,
  path: string,
  subnet: ParsedSubnet,
  problems: ConfigProblem[],
): bigint | undefined {
  if (text === undefined) return undefined;
  const address = parseAddress(text);
  const subnetText = formatPrefix(subnet.family, subnet.first, subnet.length);
  if (!address) {
    problems.push({ path, message: `invalid address "${text}"` });
    return undefined;
  }
  if (address.family !== subnet.family) {
    problems.push({ path, message: `"${text}" is IPv${address.family} but subnet ${subnetText} is IPv${subnet.family}` });
    return undefined;
  }
  const bounds = prefixInterval({ family: subnet.family, address: subnet.first, length: subnet.length });
  if (address.value < bounds.first || address.value > bounds.last) {
    problems.push({ path, message: `"${text}" is outside subnet ${subnetText}` });
    return undefined;
  }
  return address.value;
}

function resolveRange(input: RangeInput, problems: ConfigProblem[]): AddressRange | undefined {
  const before = problems.length;
  const subnet = parseSubnet(input, problems);
  if (!subnet) return undefined;

  const startPath = keyPath(input, 'rangeStart', 'range_start');
  const endPath = keyPath(input, 'rangeEnd', 'range_end');
  const start =
    parseMember(input.rangeStart, startPath, subnet, problems) ??
    subnet.impliedStart ??
    defaultRangeStart(subnet.family, subnet.first, subnet.length);
  const end =
    parseMember(input.rangeEnd, endPath, subnet, problems) ??
    subnet.impliedEnd ??
    defaultRangeEnd(subnet.family, subnet.first, subnet.length);
  const gatewayPath = keyPath(input, 'gateway', 'gateway');
  let gateway = parseMember(input.gateway, gatewayPath, subnet, problems);
  if (gateway !== undefined && reservedOf(subnet).includes(gateway)) {
    problems.push({ path: gatewayPath, message: `gateway ${formatAddress(subnet.family, gateway)} is the network or broadcast address of ${formatPrefix(subnet.family, subnet.first, subnet.length)}` });
  }
  if (gateway === undefined && input.gateway === undefined && input.defaultGateway) {
    // Host-local claims the first address of the subnet as gateway when none is given.
    if (subnet.length <= (subnet.family === 4 ? 30 : 126)) gateway = subnet.first + 1n;
  }
  const exclude = resolveExclusions(input.exclude, subnet.family, problems);

  if (start > end) {
    const startText = formatAddress(subnet.family, start);
    const endText = formatAddress(subnet.family, end);
    problems.push({ path: startPath, message: `range start ${startText} is after range end ${endText}` });
  }
  if (problems.length > before) return undefined;

  const range: AddressRange = {
    family: subnet.family,
    subnetFirst: subnet.first,
    prefixLength: subnet.length,
    rangeStart: start,
    rangeEnd: end,
    gateway,
    exclude,
    path: input.path,
  };
  if (availableCount(range) === 0n) {
    problems.push({
      path: input.path,
      message: `range ${describeRange(range)} has no usable address once the gateway, reserved and excluded addresses are removed`,
    });
    return undefined;
  }
  return range;
}

function reservedOf(subnet: ParsedSubnet): bigint[] {
  return reservedAddresses({ family: subnet.family, subnetFirst: subnet.first, prefixLength: subnet.length } as AddressRange);
}

function resolveExclusions(
  list: RangeInput['exclude'],
  family: Family,
  problems: ConfigProblem[],
): Interval[] {
  const intervals: Interval[] = [];
  for (const { path, text } of list) {
    const address = parseAddress(text);
    const prefix = address ? undefined : parsePrefix(text);
    if (!address && !prefix) {
      problems.push({ path, message: `invalid exclusion "${text}": expected an address or CIDR` });
      continue;
    }
    if (address && address.family === family) intervals.push({ first: address.value, last: address.value });
    if (prefix && prefix.family === family) intervals.push(prefixInterval(prefix));
  }
  return intervals;
}

function checkSetFamilies(set: AddressRange[], problems: ConfigProblem[]): void {
  const first = set[0];
  for (const range of set.slice(1)) {
    if (first && range.family !== first.family) {
      problems.push({
        path: range.path,
        message: `IPv${range.family} range in a set that starts with IPv${first.family} (${first.path}); put each family in its own range set`,
      });
    }
  }
}

function checkOverlaps(ranges: AddressRange[], problems: ConfigProblem[]): void {
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i] as AddressRange;
      const b = ranges[j] as AddressRange;
      if (a.family !== b.family) continue;
      const spanA = { first: a.rangeStart, last: a.rangeEnd };
      const spanB = { first: b.rangeStart, last: b.rangeEnd };
      if (intervalsOverlap(spanA, spanB)) {
        problems.push({
          path: b.path,
          message: `range ${describeRange(b)} overlaps ${a.path} ${describeRange(a)}`,
        });
      }
    }
  }
}
