import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { RECONCILER_BINARY, type ReconcilerExit, reconcilerExit } from './kube-objects.js';

const CRONJOB_MANIFEST = 'manifests/reconciler-cronjob.yaml';

/** Files the kubelet mounts for a pod's ServiceAccount. */
export interface ServiceAccountFiles {
  token: string;
  ca: Buffer;
  namespace: string;
}

interface ContainerSpec {
  command: string[];
  args: string[];
  securityContext?: { runAsUser?: number };
}

interface CronJobManifest {
  spec: { jobTemplate: { spec: { template: { spec: { containers: ContainerSpec[] } } } } };
}

/** Returns the reconciler container of the CronJob manifest. */
export function cronJobContainer(): ContainerSpec {
  const manifest = load(readFileSync(CRONJOB_MANIFEST, 'utf8')) as CronJobManifest;
  const container = manifest.spec.jobTemplate.spec.template.spec.containers[0];
  if (!container) throw new Error(`${CRONJOB_MANIFEST} has no container`);
  return container;
}

/** Replaces the values of the named flags in an argument list and keeps every other argument. */
function withFlagValues(args: string[], values: Record<string, string>): string[] {
  return args.map((arg, index) => {
    const flag = args[index - 1];
    return flag !== undefined && flag in values ? (values[flag] as string) : arg;
  });
}

// Runs inside a private mount namespace, so the tmpfs mounts hide the host's directories from
// this process only. The binary goes where the image installs it.
const POD_SCRIPT = `set -eu
mount -t tmpfs -o mode=0755 leasehold-secrets /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$1"/token "$1"/ca.crt "$1"/namespace /run/secrets/kubernetes.io/serviceaccount/
chmod 0644 /run/secrets/kubernetes.io/serviceaccount/*
bin_dir=$(dirname "$3")
mount -t tmpfs -o mode=0755 leasehold-bin "$bin_dir"
cp "$2" "$3"
chmod 0755 "$3"
user=$4
shift 4
exec setpriv --reuid "$user" --regid "$user" --clear-groups "$@"
`;

/**
 * Runs the reconciler as its CronJob's container would: the command, arguments and user of the
 * manifest, with credentials only from the service account files and KUBERNETES_SERVICE_*.
 * `flagValues` replaces the values of the manifest's flags, such as --namespace.
 * Needs root, `unshare` and `setpriv`.
 */
export async function runReconcilerInPod(
  server: URL,
  account: ServiceAccountFiles,
  flagValues: Record<string, string>,
): Promise<ReconcilerExit> {
  const container = cronJobContainer();
  const command = container.command[0];
  if (!command) throw new Error(`${CRONJOB_MANIFEST} has no command`);
  // The binary's directory is replaced by a tmpfs, which would hide a node installed there.
  if (dirname(process.execPath) === dirname(command)) {
    throw new Error(
      `node is installed in ${dirname(command)}, which the pod's binary directory hides`,
    );
  }

  const files = mkdtempSync(join(tmpdir(), 'leasehold-pod-'));
  writeFileSync(join(files, 'token'), account.token);
  writeFileSync(join(files, 'ca.crt'), account.ca);
  writeFileSync(join(files, 'namespace'), account.namespace);

  const user = String(container.securityContext?.runAsUser ?? 65534);
  const args = [...container.command, ...withFlagValues(container.args, flagValues)];
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      POD_SCRIPT,
      'pod',
      files,
      RECONCILER_BINARY,
      command,
      user,
      ...args,
    ],
    {
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        KUBERNETES_SERVICE_HOST: server.hostname,
        KUBERNETES_SERVICE_PORT: server.port,
      },
    },
  );

  try {
    return await reconcilerExit(child);
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
}
