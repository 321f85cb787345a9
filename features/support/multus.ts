import { AfterAll } from '@cucumber/cucumber';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import type { LocalCluster } from '../../test/e2e/support/cluster.js';
import { MultusEnvironment } from '../../test/e2e/support/multus-environment.js';
import { requireSystem } from '../../test/e2e/support/system.js';
import { kubeClient } from './kube.js';

let environment: MultusEnvironment | undefined;

/**
 * Returns why the Multus scenarios cannot run against the cluster under test, or undefined. The
 * plugins run in a network namespace of their own, which reaches the API server only through a
 * relay to a port on 127.0.0.1.
 */
export function multusUnavailable(): string | undefined {
  const kubeconfig = process.env.LEASEHOLD_TEST_KUBECONFIG;
  if (!kubeconfig) return undefined;
  const host = connectionFromKubeconfig(kubeconfig).server.hostname;
  return host === '127.0.0.1' || host === 'localhost' ? undefined : `the API server ${host} is not on 127.0.0.1, which the sandbox relays to`;
}

/** Starts the sandbox, the relay and the NetworkAttachmentDefinition CRD once for the whole run. */
export async function multusEnvironment(): Promise<MultusEnvironment> {
  if (environment) return environment;
  requireSystem();
  const { client, kubeconfig } = kubeClient();
  // The cluster is stopped by the Kubernetes support code, not by this environment.
  const cluster: LocalCluster = { kubeconfig, client, stop: () => undefined };
  environment = await MultusEnvironment.start(cluster);
  return environment;
}

AfterAll({ timeout: 60_000 }, function () {
  environment?.stop();
});
