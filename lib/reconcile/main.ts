import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFlagError, toLeaseholdError } from '../errors.js';
import { KubeClient } from '../kube/client.js';
import { EXIT_USAGE } from '../cli/flags.js';
import { commandLog, untilSignal } from '../cli/process.js';
import { sleep } from '../cli/sleep.js';
import { commandConnection } from '../kube/connection.js';
import { KubeStore } from '../kube/store.js';
import type { Log } from '../log.js';
import { type ReconcileOptions, USAGE, parseFlags } from './options.js';
import { type RunHooks, reconcileOnce } from './run.js';
import { runFailed } from './summary.js';

/** The holder name of the reconciler's shard Leases. */
export const RECONCILER_HOLDER = 'leasehold-reconciler';

/** Parses the flags; prints the problem and returns the exit status when they are invalid. */
function readFlags(argv: string[]): ReconcileOptions | number {
  try {
    return parseFlags(argv);
  } catch (error) {
    if (!(error instanceof InvalidFlagError)) throw error;
    process.stderr.write(`leasehold-reconcile: ${error.message}\n`);
    return EXIT_USAGE;
  }
}

/** Opens the API client; prints the problem and returns the exit status when that fails. */
function openClient(options: ReconcileOptions, env: NodeJS.ProcessEnv): KubeClient | number {
  try {
    return new KubeClient(commandConnection(options.kubeconfig, env));
  } catch (error) {
    const failure = toLeaseholdError(error);
    process.stderr.write(`leasehold-reconcile: ${failure.message}\n`);
    return failure instanceof InvalidFlagError ? EXIT_USAGE : 1;
  }
}

/**
 * Runs the reconciler with its flags: once, or every interval until SIGTERM or SIGINT. Logs go
 * to stdout as JSON lines, one summary line per run. Returns the exit status: 0, 1 when the
 * last run failed, 2 for invalid flags.
 */
export async function runReconciler(
  argv: string[],
  env: NodeJS.ProcessEnv,
  hooks?: RunHooks,
): Promise<number> {
  const options = readFlags(argv);
  if (typeof options === 'number') return options;
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const client = openClient(options, env);
  if (typeof client === 'number') return client;

  const log = commandLog('reconciler', env);
  const cacheDir = mkdtempSync(join(tmpdir(), 'leasehold-reconcile-'));
  const store = new KubeStore({
    client,
    namespace: options.namespace,
    holder: RECONCILER_HOLDER,
    cacheDir,
  });
  try {
    return await untilSignal((signal) => loop(options, { client, store, log, hooks }, signal));
  } finally {
    client.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function loop(
  options: ReconcileOptions,
  parts: { client: KubeClient; store: KubeStore; log: Log; hooks: RunHooks | undefined },
  signal: AbortSignal,
): Promise<number> {
  const settings = {
    namespace: options.namespace,
    dryRun: options.dryRun,
    gracePeriodMs: options.gracePeriodMs,
    minAgeMs: options.minAgeMs,
  };
  parts.log.info(
    { ...settings, once: options.once, intervalMs: options.intervalMs },
    'reconciler started',
  );
  let status = 0;
  for (;;) {
    const summary = await reconcileOnce({
      client: parts.client,
      store: parts.store,
      log: parts.log,
      settings,
      ...(parts.hooks ? { hooks: parts.hooks } : {}),
    });
    parts.log.info({ ...summary }, 'reconcile run finished');
    status = runFailed(summary) ? 1 : 0;
    if (options.once || signal.aborted) return status;
    await sleep(options.intervalMs, signal);
    if (signal.aborted) return status;
  }
}
