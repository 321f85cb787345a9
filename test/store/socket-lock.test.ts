import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockNamer } from '../../lib/store/socket-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'leasehold-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockNamer', () => {
  it('racing creators share one key', async () => {
    for (let round = 0; round < 20; round++) {
      const keyDir = join(dir, `race-${round}`);
      const namers = await Promise.all(Array.from({ length: 16 }, () => lockNamer(keyDir)));
      expect(new Set(namers.map((name) => name('shard', 'net', 'key'))).size).toBe(1);
      expect(readFileSync(join(keyDir, '.lock-key'))).toHaveLength(32);
      expect(statSync(join(keyDir, '.lock-key')).mode & 0o777).toBe(0o600);
    }
  });

  it('names differ by their parts', async () => {
    const name = await lockNamer(join(dir, 'parts'));
    expect(name('shard', 'a', 'b')).toBe(name('shard', 'a', 'b'));
    expect(name('shard', 'a', 'b')).not.toBe(name('shard', 'ab', ''));
  });
});
