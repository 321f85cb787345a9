import { CniCode, LeaseholdError } from '../errors.js';

/** Every CNI specification version Leasehold speaks, oldest first. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

export const LATEST_VERSION = '1.1.0';

/** Compares two dotted versions numerically: negative when a is older than b. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function isSupported(version: string): boolean {
  return SUPPORTED_VERSIONS.includes(version);
}

/** The oldest spec version that defines each command. */
const COMMAND_SINCE: Record<string, string> = {
  ADD: '0.1.0',
  DEL: '0.1.0',
  VERSION: '0.1.0',
  CHECK: '0.4.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
};

/** Rejects a configuration version this plugin does not speak, or that lacks the command. */
export function checkVersion(command: string, version: string): void {
  if (!isSupported(version)) {
    throw new LeaseholdError(
      'INCOMPATIBLE_VERSION',
      CniCode.INCOMPATIBLE_VERSION,
      `unsupported cniVersion "${version}": use one of ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const since = COMMAND_SINCE[command];
  if (since !== undefined && compareVersions(version, since) < 0) {
    throw new LeaseholdError(
      'INCOMPATIBLE_VERSION',
      CniCode.INCOMPATIBLE_VERSION,
      `${command} needs cniVersion ${since} or later, but the configuration has cniVersion "${version}"`,
    );
  }
}

/** The VERSION reply: every supported version, naming the one the caller asked about if known. */
export function versionReply(stdin: string): string {
  let requested: unknown;
  try {
    requested = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
  } catch {
    requested = undefined;
  }
  const cniVersion = typeof requested === 'string' && isSupported(requested) ? requested : LATEST_VERSION;
  return JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_VERSIONS });
}
