import { type CniEnvironment, readEnvironment } from '../cni/env.js';
import { LATEST_VERSION, checkVersion, isSupported, versionReply } from '../cni/version.js';
import { type HostConfig, readHostConfig } from '../config/host.js';
import { type PluginConfig, decodeStdin, loadConfig, versionOf } from '../config/load.js';
import type { NetworkSpec } from '../ipam/network.js';
import { CniCode, LeaseholdError, NodePodCIDRsMissingError, toLeaseholdError } from '../errors.js';
import { type Log, type LogLevel, PluginLog } from '../log.js';
import { Pool } from '../pool/pool.js';
import { type OpenedStore, openStore } from '../store/open.js';
import { add } from './add.js';
import { check } from './check.js';
import { type ClusterApi, eventReason, nodeLocalSpec } from './cluster.js';
import type { CommandContext } from './context.js';
import { del } from './del.js';
import { gc } from './gc.js';
import { status } from './status.js';

/** The process's stdout and exit code. */
export interface Outcome {
  exitCode: number;
  stdout: string;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LEASEHOLD_LOG_LEVEL overrides the host configuration, for debugging one call. */
function logLevelOf(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const level = env.LEASEHOLD_LOG_LEVEL;
  return LEVELS.find((known) => known === level);
}

/** Maps whereabouts' log levels (debug, verbose, error, panic) onto pino's. */
function whereaboutsLevel(level: string | undefined): LogLevel | undefined {
  const levels: Record<string, LogLevel> = { debug: 'debug', verbose: 'info', error: 'error', panic: 'fatal' };
  return level === undefined ? undefined : levels[level.toLowerCase()];
}

const HANDLERS = { ADD: add, DEL: del, CHECK: check, GC: gc, STATUS: status };

function errorReply(error: LeaseholdError, version: string | undefined): Outcome {
  const body: Record<string, unknown> = {
    cniVersion: version !== undefined && isSupported(version) ? version : LATEST_VERSION,
    code: error.cniCode,
    msg: error.message,
  };
  if (error.details !== undefined) body.details = error.details;
  return { exitCode: 1, stdout: JSON.stringify(body) };
}

/** Records a failed ADD that the pod's owner can act on as an Event on the pod; a failure to record is only logged. */
async function reportOnPod(cluster: ClusterApi, env: CniEnvironment, error: LeaseholdError, log: Log): Promise<void> {
  const reason = eventReason(error);
  const podNamespace = env.args.get('K8S_POD_NAMESPACE');
  const podName = env.args.get('K8S_POD_NAME');
  if (!reason || !podNamespace || !podName) return;
  const podUid = env.args.get('K8S_POD_UID');
  const failure = await cluster.recordEvent({ podNamespace, podName, ...(podUid ? { podUid } : {}), reason, message: error.message });
  if (failure) log.warn({ reason, err: failure }, 'failed to record an Event on the pod');
}

/**
 * Builds the network of a rangesFrom "nodePodCIDRs" configuration. A node without pod CIDRs
 * handed out none of them, so DEL and GC get undefined (nothing to release) rather than an error
 * that would keep a pod terminating, and STATUS fails with code 50 because ADD cannot succeed.
 */
async function resolveNodeLocal(config: PluginConfig, opened: OpenedStore, command: CniEnvironment['command']): Promise<NetworkSpec | undefined> {
  try {
    return await nodeLocalSpec(config, opened.cluster, opened.nodeName);
  } catch (error) {
    if (!(error instanceof NodePodCIDRsMissingError)) throw error;
    if (command === 'DEL' || command === 'GC') return undefined;
    if (command === 'STATUS') throw new LeaseholdError('NOT_AVAILABLE', CniCode.PLUGIN_NOT_AVAILABLE, error.message, { cause: error });
    throw error;
  }
}

/**
 * Runs one CNI invocation. This is the only place where an error becomes CNI error JSON, and it
 * never throws: every failure, expected or not, comes back as an Outcome.
 */
export async function runPlugin(processEnv: NodeJS.ProcessEnv, stdin: string): Promise<Outcome> {
  let version: string | undefined;
  let log: PluginLog | undefined;
  let env: CniEnvironment | undefined;
  let opened: OpenedStore | undefined;
  try {
    env = readEnvironment(processEnv);
    if (env.command === 'VERSION') return { exitCode: 0, stdout: versionReply(stdin) };
    const raw = decodeStdin(stdin);
    version = versionOf(raw);
    checkVersion(env.command, version);
    const host: HostConfig = readHostConfig(processEnv);
    log = new PluginLog({ file: host.logFile, level: logLevelOf(processEnv) ?? host.logLevel });
    const config = loadConfig(raw, host, { lenientRanges: env.command === 'DEL' });
    // Whereabouts' log_file and log_level apply when the host configuration sets neither.
    const ipamLog = { file: config.netconf.ipam.log_file, level: whereaboutsLevel(config.netconf.ipam.log_level) };
    if ((ipamLog.file && !host.logFile) || (ipamLog.level && !host.logLevel && !logLevelOf(processEnv))) {
      log = new PluginLog({ file: host.logFile ?? ipamLog.file, level: logLevelOf(processEnv) ?? host.logLevel ?? ipamLog.level });
    }
    log = log.child({ command: env.command, containerId: env.containerId, ifName: env.ifName, network: config.spec.name });
    for (const warning of config.warnings) log.warn({}, warning);
    opened = await openStore(config.store, host, processEnv);
    if (config.nodeLocal) {
      const spec = await resolveNodeLocal(config, opened, env.command);
      if (!spec) {
        log.info({}, 'nothing to release on a node without pod CIDRs');
        await log.flush();
        return { exitCode: 0, stdout: '' };
      }
      config.spec = spec;
      log = log.child({ network: config.spec.name });
    }
    const pool = new Pool({
      store: opened.store,
      hints: opened.hints,
      spec: config.spec,
      log,
      ...(opened.distributed && opened.nodeName ? { nodeName: opened.nodeName } : {}),
    });
    const context: CommandContext = { env, config, pool, log, host, ...(opened.cluster ? { cluster: opened.cluster } : {}) };
    // Runtimes must not overlap commands on one attachment; this makes overlapping ones wait.
    const perAttachment = env.command === 'ADD' || env.command === 'DEL' || env.command === 'CHECK';
    const unlock = perAttachment ? await opened.hints.lockAttachment(config.spec.name, env.containerId, env.ifName) : undefined;
    let result: Record<string, unknown> | undefined;
    try {
      result = await HANDLERS[env.command](context);
    } finally {
      await unlock?.();
    }
    log.debug({ apiRequests: opened.requestCount?.() }, 'command finished');
    await log.flush();
    return { exitCode: 0, stdout: result === undefined ? '' : JSON.stringify(result) };
  } catch (caught) {
    const error = toLeaseholdError(caught);
    const logger = log ?? new PluginLog({ level: logLevelOf(processEnv) });
    const fields = { code: error.code, cniCode: error.cniCode, reason: error.message, ...(log ? {} : { command: env?.command }) };
    // A stack trace helps only for unexpected errors.
    logger.error(error.code === 'INTERNAL' ? { ...fields, err: error.cause } : fields, 'command failed');
    if (env?.command === 'ADD' && opened?.cluster) await reportOnPod(opened.cluster, env, error, logger);
    await logger.flush();
    return errorReply(error, version);
  } finally {
    opened?.close?.();
  }
}
