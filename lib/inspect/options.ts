import { parseFlagValues } from '../cli/flags.js';
import { InvalidFlagError } from '../errors.js';
import { DEFAULT_NAMESPACE } from '../kube/store.js';

/** Settings of the inspect command, from its flags. */
export interface InspectOptions {
  kubeconfig: string | undefined;
  namespace: string;
  storeDir: string | undefined;
  network: string | undefined;
  json: boolean;
  help: boolean;
}

export const USAGE = `Usage: leasehold-inspect [flags]

Lists every allocated address with its owner, network by network, and checks that the shards
agree with themselves. Exits with status 1 when it finds a problem, 2 on invalid flags.

  --kubeconfig PATH   kubeconfig of the cluster (default: in-cluster service account, then $KUBECONFIG)
  --namespace NAME    namespace of the store's ConfigMaps (default: ${DEFAULT_NAMESPACE})
  --store-dir DIR     read a file store directory instead of the cluster
  --network NAME      show only this network
  --json              print JSON instead of tables
  --help              print this text
`;

/** Parses the flags; throws InvalidFlagError naming the flag, the value and the fix. */
export function parseInspectFlags(argv: string[]): InspectOptions {
  const values = parseFlagValues(argv, FLAGS);
  for (const flag of ['kubeconfig', 'namespace', 'store-dir', 'network'] as const) {
    if (values[flag] === '') throw new InvalidFlagError(`invalid value "" for --${flag}: give a value or leave the flag out`);
  }
  if (values['store-dir'] !== undefined && (values.kubeconfig !== undefined || values.namespace !== undefined)) {
    throw new InvalidFlagError('--store-dir reads a file store, so --kubeconfig and --namespace do not apply; give one or the other');
  }
  return {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace ?? DEFAULT_NAMESPACE,
    storeDir: values['store-dir'],
    network: values.network,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

const FLAGS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'store-dir': { type: 'string' },
  network: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;
