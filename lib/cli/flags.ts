import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InvalidFlagError } from '../errors.js';

/** Exit status for invalid flags, as command-line tools use. */
export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's flags strictly, with no positional arguments. An unknown flag or a missing
 * value becomes an InvalidFlagError that points to --help.
 */
export function parseFlagValues<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new InvalidFlagError(`${(error as Error).message}; run with --help for the flags`);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a duration such as `30s`, `10m` or `1h30m` into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Parses a duration flag's value; throws InvalidFlagError naming the flag, the value and the fix. */
export function durationFlag(flag: string, value: string, allowZero: boolean): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new InvalidFlagError(
      `invalid value "${value}" for --${flag}: give a whole number with a unit, such as 30s, 10m or 1h`,
    );
  if (!allowZero && ms === 0)
    throw new InvalidFlagError(`invalid value "${value}" for --${flag}: it must be longer than 0s`);
  return ms;
}

/** Checks a --namespace value; throws InvalidFlagError naming the value and the fix. */
export function namespaceFlag(namespace: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new InvalidFlagError(
      `invalid value "${namespace}" for --namespace: give a namespace name (lowercase letters, digits and dashes, at most 63)`,
    );
  }
  return namespace;
}
