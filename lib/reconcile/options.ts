import { durationFlag, namespaceFlag, parseFlagValues } from '../cli/flags.js';
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

/** Parses the reconciler's flags; throws InvalidFlagError naming the flag, the value and the fix. */
export function parseFlags(argv: string[]): ReconcileOptions {
  const values = parseFlagValues(argv, FLAGS);
  const namespace = namespaceFlag(values.namespace ?? DEFAULT_NAMESPACE);
  if (values.kubeconfig === '')
    throw new InvalidFlagError(
      'invalid value "" for --kubeconfig: give the path of a kubeconfig file',
    );
  return {
    kubeconfig: values.kubeconfig,
    namespace,
    once: values.once ?? false,
    dryRun: values['dry-run'] ?? false,
    gracePeriodMs: durationFlag('grace-period', values['grace-period'] ?? DEFAULTS.gracePeriod, true),
    minAgeMs: durationFlag('min-age', values['min-age'] ?? DEFAULTS.minAge, true),
    intervalMs: durationFlag('interval', values.interval ?? DEFAULTS.interval, false),
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
