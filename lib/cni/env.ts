import { CniCode, LeaseholdError } from '../errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;

export type Command = (typeof COMMANDS)[number];

/** Variables each command requires, as the CNI specification lists them. */
const REQUIRED: Record<Command, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

/** The invocation parameters a runtime passes in the environment. */
export interface CniEnvironment {
  command: Command;
  containerId: string;
  netns: string;
  ifName: string;
  path: string;
  /** CNI_ARGS as key-value pairs, in the order given. */
  args: Map<string, string>;
}

function invalid(message: string): LeaseholdError {
  return new LeaseholdError('INVALID_ENVIRONMENT', CniCode.INVALID_ENVIRONMENT, message);
}

/** Parses CNI_ARGS, "K1=V1;K2=V2". An empty pair is skipped, a pair without "=" is rejected. */
export function parseCniArgs(text: string): Map<string, string> {
  const args = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      throw invalid(`invalid CNI_ARGS pair "${pair}": expected KEY=VALUE pairs separated by ";"`);
    }
    args.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return args;
}

/** Container IDs as the CNI specification allows them: alphanumerics, then also _ . - */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Linux interface names: at most 15 bytes, no "/", ":" or white space, not "." or "..". */
function checkIdentifiers(env: NodeJS.ProcessEnv): void {
  const id = env.CNI_CONTAINERID ?? '';
  if (!CONTAINER_ID.test(id) || id.length > 1024) {
    throw invalid(`invalid CNI_CONTAINERID "${id.slice(0, 80)}": use letters and digits, then also "_", "." or "-", at most 1024 characters`);
  }
  const ifName = env.CNI_IFNAME ?? '';
  if (Buffer.byteLength(ifName) > 15 || /[/:\s]/.test(ifName) || ifName === '.' || ifName === '..') {
    throw invalid(`invalid CNI_IFNAME "${ifName.slice(0, 80)}": use at most 15 bytes, without "/", ":" or white space`);
  }
}

/**
 * Reads and checks the CNI environment. Every missing variable is reported in one error, so a
 * runtime author fixes them all at once.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): CniEnvironment {
  const command = env.CNI_COMMAND;
  if (command === undefined || command === '') {
    throw invalid(`missing CNI_COMMAND: set it to one of ${COMMANDS.join(', ')}`);
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalid(`invalid CNI_COMMAND "${command}": use one of ${COMMANDS.join(', ')}`);
  }
  const known = command as Command;
  const missing = REQUIRED[known].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw invalid(`missing environment variables for ${known}: ${missing.join(', ')}`);
  }
  if (known !== 'VERSION' && known !== 'GC' && known !== 'STATUS') checkIdentifiers(env);
  return {
    command: known,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifName: env.CNI_IFNAME ?? '',
    path: env.CNI_PATH ?? '',
    args: parseCniArgs(env.CNI_ARGS ?? ''),
  };
}
