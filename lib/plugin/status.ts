import { CniCode, LeaseholdError } from '../errors.js';
import { describeRange } from '../ipam/network.js';
import type { CommandContext } from './context.js';

function notAvailable(message: string, cause?: unknown): LeaseholdError {
  return new LeaseholdError('NOT_AVAILABLE', CniCode.PLUGIN_NOT_AVAILABLE, message, { cause });
}

/** STATUS: fails with code 50 when an ADD could not succeed now. */
export async function status(context: CommandContext): Promise<undefined> {
  const network = context.pool.network;
  try {
    await context.pool.store.ping();
  } catch (error) {
    throw notAvailable(`store of network "${network}" is not reachable: ${(error as Error).message}`, error);
  }
  let exhausted: number[];
  try {
    exhausted = await context.pool.exhaustedSets();
  } catch (error) {
    throw notAvailable(`network "${network}" cannot serve ADD: ${(error as Error).message}`, error);
  }
  if (exhausted.length > 0) {
    const sets = exhausted.map((index) => {
      const ranges = (context.config.spec.rangeSets[index] ?? []).map(describeRange).join(', ');
      return `range set ${index} (${ranges})`;
    });
    throw notAvailable(`network "${network}" cannot serve ADD: ${sets.join('; ')} has no free address; release addresses or add a range`);
  }
  return undefined;
}
