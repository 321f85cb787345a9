import { durationFlag, namespaceFlag, parseFlagValues } from '../cli/flags.js';
import { InvalidFlagError } from '../errors.js';
import { parsePrefix } from '../ipam/address.js';

/** Settings of the installer command, from its flags and environment. */
export interface InstallOptions {
  /** The plugin bundle to install. */
  plugin: string;
  /** The Node.js executable to install beside it. */
  nodeRuntime: string;
  /** The host's CNI bin directory, at its path in this process's mount namespace. */
  cniBinDir: string;
  /** The host's CNI configuration directory, at its path in this process's mount namespace. */
  cniConfDir: string;
  /** The same directory at its path on the host, where the plugin reads it. */
  hostCniConfDir: string;
  /** Kubernetes store settings; undefined installs the binary only. */
  kubernetes: KubernetesInstall | undefined;
  once: boolean;
  intervalMs: number;
  help: boolean;
}

/** Settings of the files the installer writes for the Kubernetes store. */
export interface KubernetesInstall {
  namespace: string;
  nodeName: string;
  serviceAccountDir: string;
  /** API server URL for the kubeconfig; the default comes from KUBERNETES_SERVICE_HOST and _PORT. */
  apiServer: string;
  serviceCIDRs: string[];
  clusterCIDRs: string[];
  /** Host path of the node-local state directory; undefined keeps the plugin's default. */
  stateDir: string | undefined;
}

export const INSTALL_DEFAULTS = {
  plugin: '/usr/local/lib/leasehold/leasehold',
  cniBinDir: '/host/opt/cni/bin',
  cniConfDir: '/host/etc/cni/net.d',
  hostCniConfDir: '/etc/cni/net.d',
  namespace: 'leasehold',
  serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
  interval: '1m',
} as const;

export const USAGE = `Usage: leasehold-install [flags]

Installs the Leasehold CNI plugin and a Node.js runtime for it into the host's CNI bin
directory. With --store kubernetes it also writes a kubeconfig for this pod's ServiceAccount and
the host configuration, and rewrites the kubeconfig when the kubelet rotates the token.

  --store TYPE             kubernetes or file (default: kubernetes in a pod, else file)
  --cni-bin-dir DIR        host CNI bin directory as mounted here (default: ${INSTALL_DEFAULTS.cniBinDir})
  --cni-conf-dir DIR       host CNI configuration directory as mounted here (default: ${INSTALL_DEFAULTS.cniConfDir})
  --host-cni-conf-dir DIR  the same directory's path on the host (default: ${INSTALL_DEFAULTS.hostCniConfDir})
  --plugin PATH            plugin bundle to install (default: ${INSTALL_DEFAULTS.plugin})
  --node-runtime PATH      Node.js executable to install (default: the one running this command)
  --namespace NAME         namespace of the store's ConfigMaps and Leases (default: the pod's namespace, else ${INSTALL_DEFAULTS.namespace})
  --node-name NAME         this node's name (default: $NODE_NAME)
  --service-account-dir DIR  the mounted ServiceAccount files (default: ${INSTALL_DEFAULTS.serviceAccountDir})
  --api-server URL         API server address the host can reach (default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)
  --service-cidrs LIST     comma-separated service ranges, for API servers without ServiceCIDR objects
  --cluster-cidrs LIST     comma-separated pod ranges of the cluster; saves each node reading every Node
  --state-dir DIR          host path of the plugin's node-local state (default: the plugin's, /var/lib/cni/leasehold)
  --once                   install and exit; without it, check every --interval until SIGTERM
  --interval DUR           time between checks of the token and the installed files (default: ${INSTALL_DEFAULTS.interval})
  --help                   print this text
`;

const FLAGS = {
  store: { type: 'string' },
  'cni-bin-dir': { type: 'string' },
  'cni-conf-dir': { type: 'string' },
  'host-cni-conf-dir': { type: 'string' },
  plugin: { type: 'string' },
  'node-runtime': { type: 'string' },
  namespace: { type: 'string' },
  'node-name': { type: 'string' },
  'service-account-dir': { type: 'string' },
  'api-server': { type: 'string' },
  'service-cidrs': { type: 'string' },
  'cluster-cidrs': { type: 'string' },
  'state-dir': { type: 'string' },
  once: { type: 'boolean' },
  interval: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function cidrList(flag: string, value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) {
    if (parsePrefix(item) === undefined) {
      throw new InvalidFlagError(
        `invalid value "${item}" in --${flag}: give CIDRs separated by commas, such as 10.96.0.0/12,fd00:10:96::/112`,
      );
    }
  }
  return items;
}

function absolute(flag: string, value: string): string {
  if (!value.startsWith('/'))
    throw new InvalidFlagError(`invalid value "${value}" for --${flag}: give an absolute path`);
  return value;
}

function defaultApiServer(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${bracketed}:${port}`;
}

function apiServerFlag(value: string | undefined): string {
  if (value === undefined) {
    throw new InvalidFlagError(
      'missing --api-server: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, so give the API server URL',
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidFlagError(
      `invalid value "${value}" for --api-server: give a URL such as https://10.0.0.1:6443`,
    );
  }
  if (url.protocol !== 'https:')
    throw new InvalidFlagError(
      `invalid value "${value}" for --api-server: the URL must start with https://`,
    );
  // Only an address, because the client drops a user, path, query or fragment without a word.
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new InvalidFlagError(
      `invalid value "${value}" for --api-server: give only the scheme, host and port, such as https://10.0.0.1:6443`,
    );
  }
  return value;
}

/** Maximum delay setTimeout accepts. Node.js runs a longer one after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function intervalFlag(value: string): number {
  const ms = durationFlag('interval', value, false);
  if (ms > MAX_TIMER_MS) {
    const hours = Math.floor(MAX_TIMER_MS / 3_600_000);
    throw new InvalidFlagError(
      `invalid value "${value}" for --interval: give at most ${hours}h, the longest timer Node.js runs`,
    );
  }
  return ms;
}

/** Checks --namespace, else the namespace file of the ServiceAccount, naming the one that is wrong. */
function podNamespaceOr(
  flag: string | undefined,
  fromFile: string | undefined,
  serviceAccountDir: string,
): string {
  if (flag !== undefined || fromFile === undefined)
    return namespaceFlag(flag ?? INSTALL_DEFAULTS.namespace);
  try {
    return namespaceFlag(fromFile);
  } catch {
    throw new InvalidFlagError(
      `invalid namespace "${fromFile}" in ${serviceAccountDir}/namespace: give --namespace, or mount the ServiceAccount files of a pod`,
    );
  }
}

function storeFlag(value: string | undefined, env: NodeJS.ProcessEnv): 'kubernetes' | 'file' {
  const store = value ?? (env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'file');
  if (store !== 'kubernetes' && store !== 'file')
    throw new InvalidFlagError(`invalid value "${store}" for --store: give kubernetes or file`);
  return store;
}

/** Checks the node name, which Kubernetes requires to be a DNS subdomain name (RFC 1123). */
function nodeNameFlag(value: string | undefined): string {
  if (!value)
    throw new InvalidFlagError(
      "missing --node-name: set it, or NODE_NAME from the pod's spec.nodeName",
    );
  if (value.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) {
    throw new InvalidFlagError(
      `invalid value "${value}" for --node-name: give the Node object's name (lowercase letters, digits, dashes and dots, at most 253)`,
    );
  }
  return value;
}

/** Flags that only the Kubernetes store reads. */
const KUBERNETES_FLAGS = [
  'namespace',
  'node-name',
  'service-account-dir',
  'api-server',
  'service-cidrs',
  'cluster-cidrs',
  'state-dir',
] as const;

/** Throws for a Kubernetes store flag given with the file store, which would ignore it. */
function rejectKubernetesFlags(
  values: Partial<Record<(typeof KUBERNETES_FLAGS)[number], string>>,
): void {
  const flag = KUBERNETES_FLAGS.find((name) => values[name] !== undefined);
  if (flag === undefined) return;
  throw new InvalidFlagError(
    `--${flag} applies only to the Kubernetes store: add --store kubernetes, or leave --${flag} out`,
  );
}

/**
 * Parses the installer's flags. `podNamespace` reads the namespace file of the mounted
 * ServiceAccount, the default of --namespace. Throws InvalidFlagError naming the flag, value and fix.
 */
export function parseInstallFlags(
  argv: string[],
  env: NodeJS.ProcessEnv,
  podNamespace: (serviceAccountDir: string) => string | undefined = () => undefined,
): InstallOptions {
  const values = parseFlagValues(argv, FLAGS);
  const store = storeFlag(values.store, env);
  if (store === 'file') rejectKubernetesFlags(values);
  let kubernetes: KubernetesInstall | undefined;
  if (store === 'kubernetes' && !values.help) {
    const nodeName = nodeNameFlag(values['node-name'] ?? env.NODE_NAME);
    const serviceAccountDir = absolute(
      'service-account-dir',
      values['service-account-dir'] ?? INSTALL_DEFAULTS.serviceAccountDir,
    );
    kubernetes = {
      namespace: podNamespaceOr(
        values.namespace,
        podNamespace(serviceAccountDir),
        serviceAccountDir,
      ),
      nodeName,
      serviceAccountDir,
      apiServer: apiServerFlag(values['api-server'] ?? defaultApiServer(env)),
      serviceCIDRs: cidrList('service-cidrs', values['service-cidrs']),
      clusterCIDRs: cidrList('cluster-cidrs', values['cluster-cidrs']),
      stateDir:
        values['state-dir'] === undefined ? undefined : absolute('state-dir', values['state-dir']),
    };
  }
  return {
    plugin: absolute('plugin', values.plugin ?? INSTALL_DEFAULTS.plugin),
    nodeRuntime: absolute('node-runtime', values['node-runtime'] ?? process.execPath),
    cniBinDir: absolute(
      'cni-bin-dir',
      values['cni-bin-dir'] ?? env.CNI_BIN_DIR ?? INSTALL_DEFAULTS.cniBinDir,
    ),
    cniConfDir: absolute('cni-conf-dir', values['cni-conf-dir'] ?? INSTALL_DEFAULTS.cniConfDir),
    hostCniConfDir: absolute(
      'host-cni-conf-dir',
      values['host-cni-conf-dir'] ?? INSTALL_DEFAULTS.hostCniConfDir,
    ),
    kubernetes,
    once: values.once ?? false,
    intervalMs: intervalFlag(values.interval ?? INSTALL_DEFAULTS.interval),
    help: values.help ?? false,
  };
}
