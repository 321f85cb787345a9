import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EXIT_USAGE } from '../cli/flags.js';
import { commandLog, untilSignal } from '../cli/process.js';
import { sleep } from '../cli/sleep.js';
import { InvalidFlagError } from '../errors.js';
import type { Log } from '../log.js';
import {
  SUPPORT_DIR,
  SUPPORT_FILES,
  entryPointScript,
  loaderScript,
  readPodNamespace,
  readServiceAccount,
  removeStaleTemporaries,
  renderHostConfig,
  renderKubeconfig,
  replaceFile,
  replaceWithCopy,
} from './files.js';
import { checkPluginBundle, makeCodeCache } from './code-cache.js';
import { type InstallOptions, USAGE, parseInstallFlags } from './options.js';

/** Names of the files the installer writes under the CNI configuration directory. */
export const CONF_FILES = {
  hostConfig: 'leasehold.d/leasehold.conf',
  kubeconfig: 'leasehold.d/leasehold.kubeconfig',
} as const;

/** A failed step, with the path involved and what to check. */
class InstallStepError extends Error {}

async function step<T>(
  action: string,
  path: string,
  fix: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new InstallStepError(`failed to ${action} ${path}: ${(error as Error).message}; ${fix}`, {
      cause: error,
    });
  }
}

async function missing(path: string): Promise<boolean> {
  return access(path).then(
    () => false,
    () => true,
  );
}

const BIN_FIX = 'check that --cni-bin-dir is the host CNI bin directory, mounted writable';

/** Copies the runtime and the bundle, and writes the loader; returns the paths written. */
async function installSupportFiles(
  options: InstallOptions,
  support: string,
  full: boolean,
): Promise<string[]> {
  const copies = [
    {
      path: join(support, SUPPORT_FILES.runtime),
      source: options.nodeRuntime,
      mode: 0o755,
      fix: 'give the Node.js executable with --node-runtime',
    },
    {
      path: join(support, SUPPORT_FILES.bundle),
      source: options.plugin,
      mode: 0o644,
      fix: 'give the plugin bundle with --plugin',
      // Run the bundle before it replaces the installed one, because CNI calls start using it
      // at the rename.
      check: () => checkPluginBundle(options.nodeRuntime, options.plugin),
    },
  ];
  const written: string[] = [];
  for (const file of copies) {
    if (!full && !(await missing(file.path))) continue;
    if (await missing(file.source)) {
      throw new InstallStepError(`failed to read ${file.source}: no such file; ${file.fix}`);
    }
    if (file.check) await step('run', file.source, file.fix, async () => file.check?.());
    if (
      await step('write', file.path, BIN_FIX, () =>
        replaceWithCopy(file.source, file.path, file.mode),
      )
    )
      written.push(file.path);
  }
  const loader = join(support, SUPPORT_FILES.loader);
  if (full || (await missing(loader))) {
    if (await step('write', loader, BIN_FIX, () => replaceFile(loader, loaderScript(), 0o644)))
      written.push(loader);
  }
  return written;
}

/**
 * Installs the runtime, the bundle, the loader, the code cache and the entry point, in that
 * order, so the entry point never names files that are not there yet. Later passes (`full`
 * false) only restore files that have gone, because comparing the runtime reads about 100 MB.
 */
async function installBinaries(
  options: InstallOptions,
  full: boolean,
  log: Log,
): Promise<string[]> {
  const support = join(options.cniBinDir, SUPPORT_DIR);
  const written = await installSupportFiles(options, support, full);

  const cache = join(support, SUPPORT_FILES.codeCache);
  if (written.length > 0 || (await missing(cache))) {
    try {
      makeCodeCache(support);
      written.push(cache);
    } catch (error) {
      // The plugin works without the cache; each call then compiles the bundle.
      // TODO: a bundle that passes the VERSION check but fails this ADD is still installed.
      // Tell that apart from a failed cache write, and fail the pass for it.
      log.warn(
        { err: (error as Error).message, path: cache },
        'failed to make the code cache; the plugin runs without it',
      );
    }
  }

  const entry = join(options.cniBinDir, 'leasehold');
  if (full || (await missing(entry))) {
    if (await step('write', entry, BIN_FIX, () => replaceFile(entry, entryPointScript(), 0o755)))
      written.push(entry);
  }
  return written;
}

/** Writes the kubeconfig with the current token and the host configuration naming it. */
async function installKubernetesFiles(options: InstallOptions): Promise<string[]> {
  const kubernetes = options.kubernetes;
  if (!kubernetes) return [];
  const credentials = await step(
    'read the ServiceAccount token and CA in',
    kubernetes.serviceAccountDir,
    'run in a pod with a ServiceAccount, or give --service-account-dir',
    () => readServiceAccount(kubernetes.serviceAccountDir),
  );
  const kubeconfig = join(options.cniConfDir, CONF_FILES.kubeconfig);
  const hostConfig = join(options.cniConfDir, CONF_FILES.hostConfig);
  const fix = 'check that --cni-conf-dir is the host CNI configuration directory, mounted writable';
  const written: string[] = [];
  // The kubeconfig first: the host configuration names it, and a CNI call may read both at once.
  if (
    await step('write', kubeconfig, fix, () =>
      replaceFile(kubeconfig, renderKubeconfig(kubernetes.apiServer, credentials), 0o600),
    )
  )
    written.push(kubeconfig);
  const content = renderHostConfig(kubernetes, join(options.hostCniConfDir, CONF_FILES.kubeconfig));
  if (await step('write', hostConfig, fix, () => replaceFile(hostConfig, content, 0o644)))
    written.push(hostConfig);
  return written;
}

/** Removes the temporary files that a killed pass left in the directories the installer writes. */
async function removeLeftovers(options: InstallOptions, log: Log): Promise<void> {
  const confNames = Object.values(CONF_FILES).map((file) => basename(file));
  const removed = [
    ...(await removeStaleTemporaries(options.cniBinDir, ['leasehold'])),
    ...(await removeStaleTemporaries(
      join(options.cniBinDir, SUPPORT_DIR),
      Object.values(SUPPORT_FILES),
    )),
    ...(await removeStaleTemporaries(
      dirname(join(options.cniConfDir, CONF_FILES.kubeconfig)),
      confNames,
    )),
  ];
  if (removed.length > 0) log.info({ removed }, 'removed temporary files of an interrupted pass');
}

/** Runs one pass of the installer and logs what it changed. */
async function installOnce(options: InstallOptions, full: boolean, log: Log): Promise<void> {
  await removeLeftovers(options, log);
  const written = [
    ...(await installBinaries(options, full, log)),
    ...(await installKubernetesFiles(options)),
  ];
  if (full || written.length > 0)
    log.info(
      { written, store: options.kubernetes ? 'kubernetes' : 'file' },
      full ? 'installed leasehold' : 'restored leasehold files',
    );
}

/** Keeps the files current every interval until stopped; a failed pass is logged and retried. */
async function watch(options: InstallOptions, log: Log, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(options.intervalMs, signal);
    if (signal.aborted) break;
    try {
      await installOnce(options, false, log);
    } catch (error) {
      log.error(
        { err: (error as Error).message },
        'install check failed; retrying after the interval',
      );
    }
  }
}

/**
 * Runs the installer with its flags: one pass, then, without --once, a check every interval
 * until SIGTERM or SIGINT. Logs go to stdout as JSON lines. Returns the exit status: 0, 1 when
 * the first pass failed, 2 for invalid flags.
 */
export async function runInstaller(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options: InstallOptions;
  try {
    options = parseInstallFlags(argv, env, readPodNamespace);
  } catch (error) {
    if (!(error instanceof InvalidFlagError)) throw error;
    process.stderr.write(`leasehold-install: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const log = commandLog('installer', env);
  try {
    await installOnce(options, true, log);
  } catch (error) {
    log.error({ err: (error as Error).message }, 'install failed');
    return 1;
  }
  if (options.once) return 0;

  await untilSignal((signal) => watch(options, log, signal));
  return 0;
}
