import { parseFlagValues } from '../cli/flags.js';
import { InvalidFlagError } from '../errors.js';
import { DEFAULT_NAMESPACE } from '../kube/store.js';

/** Settings of the reconciler command, from its flags. */
export interface ReconcileOptions {
  kubeconfig: string | undefined;
  namespace: string;
  once: boolean;
  dryRun: boolean;
  gracePeriodMs: number;
  minAgeMs: number;
  intervalMs: number;
  help: boolean;
}

export const DEFAULTS = { gracePeriod: '10m', minAge: '5m', interval: '5m' } as const;

export const USAGE = `Usage: leasehold-reconcile [flags]

Frees addresses whose pods are gone without a CNI DEL, removes empty shards and Leases nobody
holds, and reports networks no NetworkAttachmentDefinition uses.

  --kubeconfig PATH      kubeconfig to use (default: in-cluster service account, then $KUBECONFIG)
  --namespace NAME       namespace of the store's ConfigMaps and Leases (default: ${DEFAULT_NAMESPACE})
  --once                 run once and exit; without it, run every --interval
  --dry-run              log what would be freed and why, and change nothing
  --grace-period DUR     time between marking an address stale and freeing it (default: ${DEFAULTS.gracePeriod})
  --min-age DUR          never judge an allocation younger than this (default: ${DEFAULTS.minAge})
  --interval DUR         time between runs without --once (default: ${DEFAULTS.interval})
  --help                 print this text

DUR is a whole number with a unit, or several: 500ms, 30s, 10m, 1h, 1h30m.
`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a duration such as `30s`, `10m` or `1h30m` into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

function duration(flag: string, value: string, allowZero: boolean): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new InvalidFlagError(
      `invalid value "${value}" for --${flag}: give a whole number with a unit, such as 30s, 10m or 1h`,
    );
  if (!allowZero && ms === 0)
    throw new InvalidFlagError(`invalid value "${value}" for --${flag}: it must be longer than 0s`);
  return ms;
}

/** Parses the reconciler's flags; throws InvalidFlagError naming the flag, the value and the fix. */
export function parseFlags(argv: string[]): ReconcileOptions {
  const values = parseFlagValues(argv, FLAGS);
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new InvalidFlagError(
      `invalid value "${namespace}" for --namespace: give a namespace name (lowercase letters, digits and dashes, at most 63)`,
    );
  }
  if (values.kubeconfig === '')
    throw new InvalidFlagError(
      'invalid value "" for --kubeconfig: give the path of a kubeconfig file',
    );
  return {
    kubeconfig: values.kubeconfig,
    namespace,
    once: values.once ?? false,
    dryRun: values['dry-run'] ?? false,
    gracePeriodMs: duration('grace-period', values['grace-period'] ?? DEFAULTS.gracePeriod, true),
    minAgeMs: duration('min-age', values['min-age'] ?? DEFAULTS.minAge, true),
    intervalMs: duration('interval', values.interval ?? DEFAULTS.interval, false),
    help: values.help ?? false,
  };
}

const FLAGS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  once: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'grace-period': { type: 'string' },
  'min-age': { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean' },
} as const;
