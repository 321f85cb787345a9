import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { CniCode, InvalidConfigError, LeaseholdError } from '../errors.js';
import { parsePrefix } from '../ipam/address.js';
import { describeIssue, formatPath, storeSchema } from './schema.js';

/** Path an installer writes the host configuration to, unless LEASEHOLD_CONFIG_FILE names another. */
export const DEFAULT_HOST_CONFIG_FILE = '/etc/cni/net.d/leasehold.d/leasehold.conf';

export const DEFAULT_FILE_STORE_DIR = '/var/lib/cni/leasehold';

const cidr = z.string().check(z.refine((text) => parsePrefix(text) !== undefined, { message: 'expected a CIDR such as 10.96.0.0/12' }));

const hostConfigSchema = z.strictObject({
  store: z.optional(storeSchema),
  /** Name of this node; the Kubernetes store starts each node in its own shard. */
  nodeName: z.optional(z.string().check(z.minLength(1))),
  logFile: z.optional(z.string().check(z.minLength(1))),
  /** Node-local directory for attachment hints and caches of the Kubernetes store. */
  stateDir: z.optional(z.string().check(z.minLength(1))),
  logLevel: z.optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  /** The cluster's service ranges, for API servers without ServiceCIDR objects. */
  serviceCIDRs: z.optional(z.array(cidr)),
  /** The cluster's pod ranges (the controller-manager's --cluster-cidr); saves reading every Node. */
  clusterCIDRs: z.optional(z.array(cidr)),
});

/** Settings that belong to the host rather than to a network: the store and logging. */
export type HostConfig = z.infer<typeof hostConfigSchema>;

/**
 * Reads the host configuration file. A missing file means no host settings. A file that exists
 * but cannot be read or parsed is an error, because silently falling back to another store would
 * split the allocations of one network across two stores.
 */
export function readHostConfig(env: NodeJS.ProcessEnv): HostConfig {
  const path = env.LEASEHOLD_CONFIG_FILE || DEFAULT_HOST_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LeaseholdError('HOST_CONFIG_UNREADABLE', CniCode.IO_FAILURE, `failed to read host configuration ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfigError([{ path, message: `invalid JSON: ${(error as Error).message}` }]);
  }
  const result = hostConfigSchema.safeParse(parsed);
  if (!result.success) {
    throw new InvalidConfigError(
      result.error.issues.map((issue) => ({ path: `${path}: ${formatPath(issue.path)}`, message: describeIssue(issue, parsed) })),
    );
  }
  return result.data;
}
