import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrap } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPluginBundle, makeCodeCache } from '../../lib/install/code-cache.js';
import { SUPPORT_FILES, WRITE_CODE_CACHE_ENV, loaderScript } from '../../lib/install/files.js';

const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'leasehold-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Creates a support directory with the loader and a bundle that prints `word`. */
function supportDir(name: string, word: string): string {
  const support = join(dir, name);
  mkdirSync(support, { recursive: true });
  writeFileSync(join(support, SUPPORT_FILES.loader), loaderScript());
  writeFileSync(join(support, SUPPORT_FILES.bundle), bundleText(word));
  return support;
}

function bundleText(word: string): string {
  return `#!/usr/bin/env node\nconst { basename } = require('node:path');\nprocess.stdout.write('${word} ' + basename(__filename));\n`;
}

function runLoader(support: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [join(support, SUPPORT_FILES.loader)], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
}

describe('code cache loader', () => {
  it('runs the bundle without a cache', () => {
    const support = supportDir('plain', 'alpha');
    expect(runLoader(support)).toBe('alpha leasehold.cjs');
  });

  it('writes a cache keyed by the source digest', () => {
    const support = supportDir('write', 'alpha');
    const cache = join(support, SUPPORT_FILES.codeCache);
    expect(runLoader(support, { [WRITE_CODE_CACHE_ENV]: cache })).toBe('alpha leasehold.cjs');
    const source = wrap(bundleText('alpha').replace(/^#!/, '//'));
    const digest = createHash('sha256').update(source).digest();
    expect(readFileSync(cache).subarray(0, 32).equals(digest)).toBe(true);
    expect(runLoader(support)).toBe('alpha leasehold.cjs');
  });

  it('ignores the cache of another bundle of the same length', () => {
    const support = supportDir('replaced', 'alpha');
    runLoader(support, { [WRITE_CODE_CACHE_ENV]: join(support, SUPPORT_FILES.codeCache) });
    writeFileSync(join(support, SUPPORT_FILES.bundle), bundleText('omega'));
    expect(runLoader(support)).toBe('omega leasehold.cjs');
  });

  it('writes the cache from concurrent calls', async () => {
    const support = supportDir('concurrent', 'alpha');
    const cache = join(support, SUPPORT_FILES.codeCache);
    const loader = join(support, SUPPORT_FILES.loader);
    const env = { PATH: process.env.PATH, [WRITE_CODE_CACHE_ENV]: cache };
    for (let round = 0; round < 3; round++) {
      const calls = Array.from({ length: 10 }, () =>
        execFileAsync(process.execPath, [loader], { env }).then(
          (result) => result.stderr,
          (error: Error) => error.message,
        ),
      );
      expect(await Promise.all(calls)).toEqual(Array(10).fill(''));
    }
    expect(readdirSync(support).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('makeCodeCache raises and removes the cache when a call fails', () => {
    const support = supportDir('failing', 'alpha');
    writeFileSync(join(support, SUPPORT_FILES.bundle), 'process.exitCode = 3;\n');
    execFileSync('ln', ['-s', process.execPath, join(support, SUPPORT_FILES.runtime)]);
    expect(() => makeCodeCache(support)).toThrow('warm-up ADD failed (exit status 3)');
    expect(existsSync(join(support, SUPPORT_FILES.codeCache))).toBe(false);
  });

  it('checkPluginBundle accepts a bundle that prints versions', () => {
    const bundle = join(dir, 'versions.cjs');
    writeFileSync(bundle, `process.stdout.write('{"supportedVersions":["1.1.0"]}');\n`);
    expect(() => checkPluginBundle(process.execPath, bundle)).not.toThrow();
  });

  it.each([
    ['not-javascript.cjs', 'this is not the plugin\n', 'exit status 1'],
    ['silent.cjs', 'process.exitCode = 0;\n', 'exit status 0'],
  ])('checkPluginBundle rejects %s', (name, text, reason) => {
    const bundle = join(dir, name);
    writeFileSync(bundle, text);
    expect(() => checkPluginBundle(process.execPath, bundle)).toThrow(
      `a CNI VERSION call printed no supported versions (${reason})`,
    );
  });
});
