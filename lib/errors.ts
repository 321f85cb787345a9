/**
 * Every failure Leasehold reports is a LeaseholdError: a stable string code for people and logs,
 * the CNI numeric code for the runtime, and the original error as `cause`. The command boundary
 * turns it into CNI error JSON once. The table in docs/errors.md lists every code.
 */

/** CNI error codes: 0-99 are defined by the CNI specification, 100 and up by Leasehold. */
export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  POOL_EXHAUSTED: 100,
  ADDRESS_IN_USE: 101,
  ADDRESS_NOT_IN_RANGE: 102,
  RESERVATION_MISMATCH: 103,
  STORE_DATA_INVALID: 104,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export interface LeaseholdErrorOptions {
  /** Longer explanation, printed as the CNI `details` field. */
  details?: string;
  cause?: unknown;
}

/** Base class of every error Leasehold reports to a runtime. */
export class LeaseholdError extends Error {
  readonly code: string;
  readonly cniCode: CniCodeValue;
  readonly details: string | undefined;

  constructor(code: string, cniCode: CniCodeValue, message: string, options?: LeaseholdErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LeaseholdError';
    this.code = code;
    this.cniCode = cniCode;
    this.details = options?.details;
  }
}

/** A network configuration problem, with the JSON path of the offending key. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Invalid network configuration; carries every problem found, not just the first. */
export class InvalidConfigError extends LeaseholdError {
  readonly problems: ConfigProblem[];

  /** `code` names the kind of problem for logs and Events; the CNI code is always 7. */
  constructor(problems: ConfigProblem[], code = 'INVALID_CONFIG') {
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    const summary =
      problems.length === 1
        ? `invalid network configuration: ${lines[0]}`
        : `invalid network configuration (${problems.length} problems): ${lines.join('; ')}`;
    super(code, CniCode.INVALID_CONFIG, summary, { details: lines.join('\n') });
    this.name = 'InvalidConfigError';
    this.problems = problems;
  }
}

/**
 * A storage failure that may pass: lock wait timed out, too many write conflicts, API server
 * unreachable or throttling. The runtime should retry the command (CNI code 11).
 */
export class StoreUnavailableError extends LeaseholdError {
  constructor(message: string, options?: LeaseholdErrorOptions) {
    super('STORE_UNAVAILABLE', CniCode.TRY_AGAIN_LATER, message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A shard lock stayed taken for as long as the caller would wait. Callers may try another shard. */
export class LockBusyError extends StoreUnavailableError {
  constructor(message: string, options?: LeaseholdErrorOptions) {
    super(message, options);
    this.name = 'LockBusyError';
  }
}

/**
 * The node has no pod CIDRs yet, or no Node object, so a rangesFrom "nodePodCIDRs" network has no
 * ranges on it. ADD fails with code 11 so that the runtime retries, and DEL has nothing to release.
 */
export class NodePodCIDRsMissingError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'NodePodCIDRsMissingError';
  }
}

/** A write lost a compare-and-swap: someone else changed the object since it was read. */
export class ConflictError extends LeaseholdError {
  constructor(message: string, options?: LeaseholdErrorOptions) {
    super('WRITE_CONFLICT', CniCode.TRY_AGAIN_LATER, message, options);
    this.name = 'ConflictError';
  }
}

/** An attachment hint cannot be read; callers fall back to scanning the network's shards. */
export class HintUnreadableError extends LeaseholdError {
  constructor(message: string, options?: LeaseholdErrorOptions) {
    super('HINT_UNREADABLE', CniCode.STORE_DATA_INVALID, message, options);
    this.name = 'HintUnreadableError';
  }
}

/** A command-line flag of a Leasehold command is missing, unknown or has an invalid value. */
export class InvalidFlagError extends LeaseholdError {
  constructor(message: string) {
    super('INVALID_FLAG', CniCode.INVALID_CONFIG, message);
    this.name = 'InvalidFlagError';
  }
}

/** Wraps anything that is not a LeaseholdError so the boundary can report it. */
export function toLeaseholdError(error: unknown): LeaseholdError {
  if (error instanceof LeaseholdError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LeaseholdError('INTERNAL', CniCode.IO_FAILURE, `internal error: ${message}`, {
    cause: error,
  });
}
