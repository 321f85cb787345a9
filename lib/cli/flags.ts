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
