import { LeaseholdError } from '../../lib/errors.js';

/** Awaits a promise that must reject with a LeaseholdError, and returns that error. */
export async function failureOf(promise: Promise<unknown>): Promise<LeaseholdError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeaseholdError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}
