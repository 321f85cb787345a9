import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../lib/cli/sleep.js';

describe('sleep', () => {
  it('removes its abort listener after the wait', async () => {
    const stop = new AbortController();
    for (let round = 0; round < 20; round++) await sleep(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('returns early when the signal aborts', async () => {
    const stop = new AbortController();
    const waiting = sleep(3_600_000, stop.signal);
    stop.abort();
    await waiting;
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
