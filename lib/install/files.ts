import { constants, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import { commitTemporary, temporaryBeside, writeAtomically } from '../store/atomic.js';
import type { KubernetesInstall } from './options.js';

/** Directory beside the plugin's entry point that contains the bundle and the Node.js runtime. */
export const SUPPORT_DIR = 'leasehold.d';

/** Names of the installed files inside SUPPORT_DIR. */
export const SUPPORT_FILES = {
  runtime: 'node',
  bundle: 'leasehold.cjs',
  loader: 'run.cjs',
  codeCache: 'leasehold.cjs.cache',
} as const;

/** Environment variable that makes the loader save the code cache to the named file at exit. */
export const WRITE_CODE_CACHE_ENV = 'LEASEHOLD_WRITE_CODE_CACHE';

/**
 * Returns the plugin's entry point: a shell script that runs the loader with the runtime
 * installed beside it, so the host needs no Node.js of its own. Runtimes call plugins by their
 * full path, which gives the script its directory. When that path is a symbolic link, the script
 * follows it to the directory that contains SUPPORT_DIR.
 */
export function entryPointScript(): string {
  return `#!/bin/sh
# Leasehold CNI IPAM plugin, written by leasehold-install. It runs the plugin with the Node.js
# runtime installed beside it. A symbolic link to this file is followed to its directory.
case $0 in
  */*) self=$0 ;;
  *) self=./$0 ;;
esac
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=\${self%/*}/$link ;;
  esac
done
dir=\${self%/*}
exec "$dir/${SUPPORT_DIR}/${SUPPORT_FILES.runtime}" --use-openssl-ca "$dir/${SUPPORT_DIR}/${SUPPORT_FILES.loader}" "$@"
`;
}

/**
 * Returns the loader: CommonJS that runs the bundle beside it with V8's code cache, so a CNI
 * call skips most of compiling the bundle. A missing or rejected cache only costs that time.
 */
export function loaderScript(): string {
  return `'use strict';
// Written by leasehold-install. Runs the Leasehold plugin bundle beside this file with the V8
// code cache that the installer made, and compiles it as usual when the cache does not fit.
const { createHash, randomBytes } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '${SUPPORT_FILES.bundle}');
// The bundle starts with a #! line, which is valid only at the start of a script.
const source = wrap(readFileSync(bundle, 'utf8').replace(/^#!/, '//'));
// V8 accepts a cache made for another source of the same length, so the cache starts with the
// source's SHA-256.
const digest = createHash('sha256').update(source).digest();
let cachedData;
try {
  const cache = readFileSync(join(__dirname, '${SUPPORT_FILES.codeCache}'));
  if (cache.subarray(0, 32).equals(digest)) cachedData = cache.subarray(32);
} catch {
  cachedData = undefined;
}
const script = new Script(source, { filename: bundle, cachedData });
const target = process.env.${WRITE_CODE_CACHE_ENV};
if (target) {
  // The cache is taken at exit, so it contains every function this call compiled. Each call
  // writes its own temporary file, because two installers may warm up at the same time.
  process.on('exit', () => {
    const suffix = randomBytes(6).toString('hex');
    const temporary = join(dirname(target), '.' + basename(target) + '.' + suffix + '.tmp');
    writeFileSync(temporary, Buffer.concat([digest, script.createCachedData()]));
    renameSync(temporary, target);
  });
}
const plugin = { exports: {} };
script.runInThisContext().call(plugin.exports, plugin.exports, require, plugin, bundle, __dirname);
`;
}

/** ServiceAccount credentials as the kubelet mounts them. */
export interface ServiceAccountCredentials {
  token: string;
  ca: Buffer;
}

/** Returns a kubeconfig, as JSON, that authenticates with a ServiceAccount token. */
export function renderKubeconfig(server: string, credentials: ServiceAccountCredentials): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'leasehold',
    clusters: [
      {
        name: 'leasehold',
        cluster: { server, 'certificate-authority-data': credentials.ca.toString('base64') },
      },
    ],
    users: [{ name: 'leasehold', user: { token: credentials.token } }],
    contexts: [{ name: 'leasehold', context: { cluster: 'leasehold', user: 'leasehold' } }],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Returns the host configuration for the Kubernetes store, naming the kubeconfig by its host path. */
export function renderHostConfig(kubernetes: KubernetesInstall, hostKubeconfig: string): string {
  const config: Record<string, unknown> = {
    store: { type: 'kubernetes', kubeconfig: hostKubeconfig, namespace: kubernetes.namespace },
    nodeName: kubernetes.nodeName,
  };
  if (kubernetes.serviceCIDRs.length > 0) config.serviceCIDRs = kubernetes.serviceCIDRs;
  if (kubernetes.clusterCIDRs.length > 0) config.clusterCIDRs = kubernetes.clusterCIDRs;
  if (kubernetes.stateDir) config.stateDir = kubernetes.stateDir;
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Reads the mounted token and CA. The kubelet replaces them in place when it rotates the token.
 * Throws when the token is empty or the CA contains no PEM certificate, because a kubeconfig made
 * from them would fail every CNI call. The installer then keeps the kubeconfig it wrote before.
 */
export async function readServiceAccount(dir: string): Promise<ServiceAccountCredentials> {
  const tokenPath = join(dir, 'token');
  const token = (await readFile(tokenPath, 'utf8')).trim();
  if (token === '') throw new Error(`${tokenPath} is empty`);
  const caPath = join(dir, 'ca.crt');
  const ca = await readFile(caPath);
  if (!isPemCertificate(ca)) throw new Error(`${caPath} contains no PEM certificate`);
  return { token, ca };
}

/** Returns whether `ca` contains a PEM certificate that parses, the form the API client needs. */
function isPemCertificate(ca: Buffer): boolean {
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    new X509Certificate(ca);
    return true;
  } catch {
    return false;
  }
}

/** Reads the namespace file of a mounted ServiceAccount; undefined when there is none. */
export function readPodNamespace(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function sameContent(path: string, content: Buffer): Promise<boolean> {
  try {
    return (await readFile(path)).equals(content);
  } catch {
    return false;
  }
}

const COMPARE_CHUNK_BYTES = 1 << 20;

/** Compares two files through two fixed buffers, so a large executable costs little memory. */
async function sameFile(source: string, target: string): Promise<boolean> {
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (!to || from.size !== to.size) return false;
  const [left, right] = await Promise.all([open(source, 'r'), open(target, 'r')]);
  try {
    const a = Buffer.alloc(COMPARE_CHUNK_BYTES);
    const b = Buffer.alloc(COMPARE_CHUNK_BYTES);
    for (let offset = 0; offset < from.size; offset += COMPARE_CHUNK_BYTES) {
      const length = Math.min(COMPARE_CHUNK_BYTES, from.size - offset);
      await Promise.all([left.read(a, 0, length, offset), right.read(b, 0, length, offset)]);
      if (!a.subarray(0, length).equals(b.subarray(0, length))) return false;
    }
    return true;
  } finally {
    await Promise.all([left.close(), right.close()]);
  }
}

/**
 * Age after which a temporary file is taken as left over by a killed pass. Writing the largest
 * file, the runtime of about 100 MB, takes far less, so a younger temporary file may belong to an
 * installer that is running at the same time.
 */
const STALE_TEMPORARY_MS = 10 * 60_000;

/**
 * Removes the temporary files of `names` in `dir` that are older than STALE_TEMPORARY_MS. A pass
 * killed before its rename leaves them behind, and nothing else removes them. Returns the paths
 * removed, none for a missing directory.
 */
export async function removeStaleTemporaries(dir: string, names: string[]): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const entry of entries) {
    const match = /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(entry);
    if (!match || !names.includes(match[1] as string)) continue;
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info || Date.now() - info.mtimeMs < STALE_TEMPORARY_MS) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/**
 * Copies `source` to `path` unless it already has the same content, and returns whether it
 * copied. Like replaceFile, a CNI call reads the old file or the new one.
 */
export async function replaceWithCopy(
  source: string,
  path: string,
  mode: number,
): Promise<boolean> {
  if (await sameFile(source, path)) {
    await chmod(path, mode);
    return false;
  }
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path);
  await copyFile(source, temporary, constants.COPYFILE_EXCL);
  await commitTemporary(temporary, path, mode);
  return true;
}

/**
 * Writes `content` to `path` unless the file already has it, and returns whether it wrote. A
 * CNI call running at that moment reads the old file or the new one, never a part.
 */
export async function replaceFile(
  path: string,
  content: Buffer | string,
  mode: number,
): Promise<boolean> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  if (await sameContent(path, bytes)) {
    await chmod(path, mode);
    return false;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, bytes, { mode });
  return true;
}
