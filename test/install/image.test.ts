import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { INSTALL_DEFAULTS, parseInstallFlags } from '../../lib/install/options.js';

/** Returns the image's files: destination path by the built bundle it comes from. */
function imageCopies(): Map<string, string> {
  const copies = new Map<string, string>();
  for (const match of readFileSync('Dockerfile', 'utf8').matchAll(
    /^COPY --from=build \/src\/(\S+) (\S+)$/gm,
  )) {
    copies.set(match[1] as string, match[2] as string);
  }
  return copies;
}

function manifest(name: string): Record<string, any> {
  return load(readFileSync(`manifests/${name}.yaml`, 'utf8')) as Record<string, any>;
}

describe('image and manifests', () => {
  it('the image copies every bundle the build makes', () => {
    const built = [
      ...readFileSync('scripts/build.mjs', 'utf8').matchAll(/outfile: '(dist\/bin\/[^']+)'/g),
    ].map((match) => match[1]);
    expect([...imageCopies().keys()].sort()).toEqual(built.sort());
  });

  it('the entry point is the installer', () => {
    const entry = /^ENTRYPOINT \["([^"]+)"\]$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(entry).toBe(imageCopies().get('dist/bin/leasehold-install'));
  });

  it('the installer finds the plugin bundle', () => {
    expect(INSTALL_DEFAULTS.plugin).toBe(imageCopies().get('dist/bin/leasehold'));
  });

  it('the CronJob runs the reconciler the image holds', () => {
    const container =
      manifest('reconciler-cronjob').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).toEqual([imageCopies().get('dist/bin/leasehold-reconcile')]);
  });

  it('the DaemonSet mounts what the installer writes', () => {
    const pod = manifest('daemonset').spec.template.spec;
    const container = pod.containers[0];
    const env = {
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      NODE_NAME: 'node-1',
    };
    const options = parseInstallFlags(container.args, env);
    const mounts = container.volumeMounts.map((mount: { mountPath: string }) => mount.mountPath);
    expect(mounts).toContain(options.cniBinDir);
    expect(mounts).toContain(options.cniConfDir);
    const hostPaths = pod.volumes.map(
      (volume: { hostPath: { path: string } }) => volume.hostPath.path,
    );
    expect(hostPaths).toContain(options.hostCniConfDir);
    expect(container.env[0]).toEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
  });

  it('the DaemonSet runs as the plugin ServiceAccount', () => {
    const account = manifest('serviceaccount').metadata.name;
    expect(manifest('daemonset').spec.template.spec.serviceAccountName).toBe(account);
    expect(manifest('rolebinding').subjects[0].name).toBe(account);
    expect(manifest('plugin-clusterrolebinding').subjects[0].name).toBe(account);
  });
});
