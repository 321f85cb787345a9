import * as z from 'zod/mini';

/**
 * Shape of the network configuration a runtime streams on stdin. Only types are checked here;
 * address semantics (host bits, overlaps, families) are checked in ranges.ts so that every
 * problem can be reported at once with its path.
 */

const text = z.string();
const nonEmpty = z.string().check(z.minLength(1));
const count = z.number().check(z.int(), z.nonnegative());

export const rangeSchema = z.strictObject({
  subnet: text,
  rangeStart: z.optional(text),
  rangeEnd: z.optional(text),
  gateway: z.optional(text),
  exclude: z.optional(z.array(text)),
});

/** One entry of the whereabouts `ipRanges` list. */
export const whereaboutsRangeSchema = z.strictObject({
  range: text,
  range_start: z.optional(text),
  range_end: z.optional(text),
  exclude: z.optional(z.array(text)),
  gateway: z.optional(text),
});

export const routeSchema = z.looseObject({
  dst: text,
  gw: z.optional(text),
  mtu: z.optional(count),
  advmss: z.optional(count),
  priority: z.optional(count),
  table: z.optional(count),
  scope: z.optional(count),
});

export const dnsSchema = z.looseObject({
  nameservers: z.optional(z.array(text)),
  domain: z.optional(text),
  search: z.optional(z.array(text)),
  options: z.optional(z.array(text)),
});

export const fileStoreSchema = z.strictObject({
  type: z.literal('file'),
  dir: z.optional(nonEmpty),
});

export const kubernetesStoreSchema = z.strictObject({
  type: z.literal('kubernetes'),
  kubeconfig: z.optional(nonEmpty),
  namespace: z.optional(nonEmpty),
  nodeName: z.optional(nonEmpty),
});

export const storeSchema = z.discriminatedUnion('type', [fileStoreSchema, kubernetesStoreSchema]);

export type StoreConfig = z.infer<typeof storeSchema>;

export const ipamSchema = z.looseObject({
  type: z.optional(text),
  // Native syntax, as host-local reads it.
  ranges: z.optional(z.array(z.array(rangeSchema))),
  subnet: z.optional(text),
  rangeStart: z.optional(text),
  rangeEnd: z.optional(text),
  // Whereabouts syntax.
  range: z.optional(text),
  range_start: z.optional(text),
  range_end: z.optional(text),
  ipRanges: z.optional(z.array(whereaboutsRangeSchema)),
  network_name: z.optional(nonEmpty),
  // Shared by both.
  gateway: z.optional(text),
  exclude: z.optional(z.array(text)),
  routes: z.optional(z.array(routeSchema)),
  dns: z.optional(dnsSchema),
  resolvConf: z.optional(text),
  store: z.optional(storeSchema),
  // Kubernetes behaviour.
  allowClusterOverlap: z.optional(z.boolean()),
  rangesFrom: z.optional(z.literal('nodePodCIDRs')),
  stickyStatefulSets: z.optional(z.boolean()),
  gcMinAgeSeconds: z.optional(count),
  log_file: z.optional(text),
  log_level: z.optional(text),
});

export type IpamConfig = z.infer<typeof ipamSchema>;

const attachmentSchema = z.looseObject({
  containerID: text,
  ifname: text,
});

export const netConfSchema = z.looseObject({
  cniVersion: z.optional(text),
  name: nonEmpty,
  type: z.optional(text),
  ipam: ipamSchema,
  args: z.optional(
    z.looseObject({
      cni: z.optional(z.looseObject({ ips: z.optional(z.array(text)) })),
    }),
  ),
  runtimeConfig: z.optional(z.looseObject({ ips: z.optional(z.array(text)) })),
  prevResult: z.optional(z.unknown()),
  'cni.dev/valid-attachments': z.optional(z.array(attachmentSchema)),
  'cni.dev/attachments': z.optional(z.array(attachmentSchema)),
});

export type NetConf = z.infer<typeof netConfSchema>;

/** Turns a zod issue into a sentence that names the expected value. */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = valueAt(root, issue.path);
      return input === undefined ? `missing: expected ${issue.expected}` : `invalid value: expected ${issue.expected}, got ${describeInput(input)}`;
    }
    case 'unrecognized_keys':
      return `unknown keys ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options)
        ? `invalid value: expected one of ${issue.options.map((option) => JSON.stringify(option)).join(', ')}`
        : 'invalid value';
    case 'invalid_value':
      return `invalid value: expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string' ? 'invalid value: must not be empty' : `invalid value: must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `invalid value: must be at most ${String(issue.maximum)}`;
    case 'custom':
      return `invalid value: ${issue.message}`;
    default:
      return `invalid value (${issue.code})`;
  }
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  if (typeof input === 'number' && !Number.isInteger(input)) return `${input}`;
  return typeof input;
}

/** Formats a zod issue path the way the configuration reference writes it: `ipam.ranges[1][0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
