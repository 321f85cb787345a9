import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUPPORT_FILES, WRITE_CODE_CACHE_ENV } from './files.js';

/** Upper bound on one warm-up call; a call takes well under a second. */
const CALL_TIMEOUT_MS = 60_000;

/**
 * Makes the loader's code cache in `support` by running the installed plugin as a runtime
 * would: ADD, CHECK and DEL on a scratch file store. Each call starts from the cache of the call
 * before and adds the functions it compiled. Throws when a call fails, and leaves no cache.
 */
export function makeCodeCache(support: string): void {
  const scratch = mkdtempSync(join(tmpdir(), 'leasehold-warm-up-'));
  try {
    const netconf = JSON.stringify({
      cniVersion: '1.1.0',
      name: 'leasehold-warm-up',
      type: 'bridge',
      ipam: {
        type: 'leasehold',
        ranges: [[{ subnet: '192.0.2.0/24' }]],
        store: { type: 'file', dir: join(scratch, 'store') },
      },
    });
    for (const command of ['ADD', 'CHECK', 'DEL']) {
      const call = spawnSync(
        join(support, SUPPORT_FILES.runtime),
        ['--use-openssl-ca', join(support, SUPPORT_FILES.loader)],
        {
          input: netconf,
          encoding: 'utf8',
          timeout: CALL_TIMEOUT_MS,
          env: {
            PATH: process.env.PATH,
            CNI_COMMAND: command,
            CNI_CONTAINERID: 'leasehold-warm-up',
            CNI_NETNS: '/var/run/netns/leasehold-warm-up',
            CNI_IFNAME: 'eth0',
            CNI_PATH: '/opt/cni/bin',
            // A file that does not exist: the node's host configuration must not apply here.
            LEASEHOLD_CONFIG_FILE: join(scratch, 'no-host-config'),
            LEASEHOLD_LOG_LEVEL: 'silent',
            [WRITE_CODE_CACHE_ENV]: join(support, SUPPORT_FILES.codeCache),
          },
        },
      );
      if (call.status !== 0) {
        rmSync(join(support, SUPPORT_FILES.codeCache), { force: true });
        const reason = call.error?.message ?? `exit status ${call.status ?? call.signal}`;
        throw new Error(`warm-up ${command} failed (${reason}): ${call.stdout.trim()}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs a CNI VERSION call of the `plugin` bundle with `runtime`, and throws unless it prints the
 * supported versions. The installer calls it before the bundle replaces the installed one, so a
 * file that fails it never replaces a working plugin.
 */
export function checkPluginBundle(runtime: string, plugin: string): void {
  const call = spawnSync(runtime, ['--use-openssl-ca', plugin], {
    input: JSON.stringify({ cniVersion: '1.1.0' }),
    encoding: 'utf8',
    timeout: CALL_TIMEOUT_MS,
    env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', LEASEHOLD_LOG_LEVEL: 'silent' },
  });
  let result: { supportedVersions?: unknown } | undefined;
  try {
    result = JSON.parse(call.stdout) as { supportedVersions?: unknown };
  } catch {
    result = undefined;
  }
  if (call.status !== 0 || !Array.isArray(result?.supportedVersions)) {
    const reason = call.error?.message ?? `exit status ${call.status ?? call.signal}`;
    throw new Error(`a CNI VERSION call printed no supported versions (${reason})`);
  }
}
