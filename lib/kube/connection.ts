import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { CniCode, InvalidConfigError, InvalidFlagError, LeaseholdError } from '../errors.js';

/** API server address and credentials. */
export interface KubeConnection {
  server: URL;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTlsVerify: boolean;
  /** Source of the settings, for messages. */
  source: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<NamedEntry<never> & { context?: { cluster?: string; user?: string } }>;
  clusters?: Array<NamedEntry<never> & { cluster?: Record<string, unknown> }>;
  users?: Array<NamedEntry<never> & { user?: Record<string, unknown> }>;
}

function invalid(source: string, message: string): InvalidConfigError {
  return new InvalidConfigError([{ path: source, message }]);
}

function readBytes(path: string, source: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new LeaseholdError('KUBECONFIG_UNREADABLE', CniCode.IO_FAILURE, `failed to read ${path} named by ${source}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a `*-data` field (base64) or its file-path sibling. */
function material(entry: Record<string, unknown>, field: string, source: string): Buffer | undefined {
  const data = entry[`${field}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const path = entry[field];
  if (typeof path === 'string') return readBytes(path, source);
  return undefined;
}

/**
 * Reads the current context of a kubeconfig file. Client certificates and bearer tokens are
 * supported; exec plugins and auth providers are not, because a CNI call cannot wait on them.
 * `origin` names where the path came from, for the message when the file cannot be read.
 */
export function connectionFromKubeconfig(path: string, origin = 'the store configuration (store.kubeconfig)'): KubeConnection {
  const source = `kubeconfig ${path}`;
  let parsed: KubeconfigFile;
  try {
    parsed = load(readBytes(path, origin).toString('utf8')) as KubeconfigFile;
  } catch (error) {
    if (error instanceof LeaseholdError) throw error;
    throw invalid(source, `invalid YAML: ${(error as Error).message}`);
  }
  const contextName = parsed?.['current-context'];
  const context = parsed?.contexts?.find((entry) => entry.name === contextName)?.context;
  if (!context) throw invalid(source, `current-context "${contextName ?? ''}" is not among its contexts`);
  const cluster = parsed.clusters?.find((entry) => entry.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw invalid(source, `cluster "${context.cluster ?? ''}" has no server`);
  const user = parsed.users?.find((entry) => entry.name === context.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw invalid(source, `user "${context.user ?? ''}" uses an exec plugin or auth provider, which Leasehold does not run; use a client certificate or a token`);
  }
  const connection: KubeConnection = { server: new URL(cluster.server), insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true, source };
  const ca = material(cluster, 'certificate-authority', source);
  const cert = material(user, 'client-certificate', source);
  const key = material(user, 'client-key', source);
  if (ca) connection.ca = ca;
  if (cert) connection.cert = cert;
  if (key) connection.key = key;
  if (typeof user.token === 'string') connection.token = user.token;
  else if (typeof user.tokenFile === 'string') connection.token = readBytes(user.tokenFile, source).toString('utf8').trim();
  return connection;
}

/** Returns the service account's connection when this process runs in a pod. */
export function inClusterConnection(env: NodeJS.ProcessEnv): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const source = 'the in-cluster service account';
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    ca: readBytes(`${SERVICE_ACCOUNT_DIR}/ca.crt`, source),
    token: readBytes(`${SERVICE_ACCOUNT_DIR}/token`, source).toString('utf8').trim(),
    insecureSkipTlsVerify: false,
    source,
  };
}

/** Picks the kubeconfig named in the configuration, else the in-cluster service account. */
export function resolveConnection(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): KubeConnection {
  if (kubeconfig) return connectionFromKubeconfig(kubeconfig);
  const inCluster = inClusterConnection(env);
  if (inCluster) return inCluster;
  if (env.KUBECONFIG) return connectionFromKubeconfig(env.KUBECONFIG.split(':')[0] as string, '$KUBECONFIG');
  throw invalid('ipam.store.kubeconfig', 'missing: name a kubeconfig file here or in the host configuration, or run in a pod');
}

/**
 * Picks the connection of a command-line tool: --kubeconfig, else the in-cluster service account,
 * else the first file of $KUBECONFIG.
 */
export function commandConnection(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv,
): KubeConnection {
  if (kubeconfig) return connectionFromKubeconfig(kubeconfig, '--kubeconfig');
  const inCluster = inClusterConnection(env);
  if (inCluster) return inCluster;
  const first = env.KUBECONFIG?.split(':')[0];
  if (first) return connectionFromKubeconfig(first, '$KUBECONFIG');
  throw new InvalidFlagError(
    'missing --kubeconfig: name a kubeconfig file, set KUBECONFIG, or run in a pod with a service account',
  );
}
