import { describe, expect, it } from 'vitest';
import { parseInstallFlags } from '../../lib/install/options.js';

const POD_ENV = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  NODE_NAME: 'node-1',
};

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('parseInstallFlags', () => {
  it('defaults to the Kubernetes store in a pod', () => {
    const options = parseInstallFlags([], POD_ENV, () => 'kube-network');
    expect(options.kubernetes).toEqual({
      namespace: 'kube-network',
      nodeName: 'node-1',
      serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
      apiServer: 'https://10.96.0.1:443',
      serviceCIDRs: [],
      clusterCIDRs: [],
      stateDir: undefined,
    });
    expect(options.cniBinDir).toBe('/host/opt/cni/bin');
    expect(options.intervalMs).toBe(60_000);
    expect(options.once).toBe(false);
  });

  it('installs only the binary outside a pod', () => {
    expect(parseInstallFlags([], {}).kubernetes).toBeUndefined();
  });

  it('brackets an IPv6 service host', () => {
    const env = { ...POD_ENV, KUBERNETES_SERVICE_HOST: 'fd00::1' };
    expect(parseInstallFlags([], env).kubernetes?.apiServer).toBe('https://[fd00::1]:443');
  });

  it('keeps a bracketed IPv6 service host', () => {
    const env = { ...POD_ENV, KUBERNETES_SERVICE_HOST: '[fd00::1]' };
    expect(parseInstallFlags([], env).kubernetes?.apiServer).toBe('https://[fd00::1]:443');
  });

  it('names a bad namespace file', () => {
    const message = messageOf(() => parseInstallFlags([], POD_ENV, () => 'Kube_Network'));
    expect(message).toBe(
      'invalid namespace "Kube_Network" in /var/run/secrets/kubernetes.io/serviceaccount/namespace: give --namespace, or mount the ServiceAccount files of a pod',
    );
  });

  it('reads CNI_BIN_DIR and the CIDR lists', () => {
    const options = parseInstallFlags(
      ['--service-cidrs', '10.96.0.0/12, fd00:10:96::/112', '--cluster-cidrs', '10.244.0.0/16'],
      { ...POD_ENV, CNI_BIN_DIR: '/mnt/bin' },
    );
    expect(options.cniBinDir).toBe('/mnt/bin');
    expect(options.kubernetes?.serviceCIDRs).toEqual(['10.96.0.0/12', 'fd00:10:96::/112']);
    expect(options.kubernetes?.clusterCIDRs).toEqual(['10.244.0.0/16']);
  });

  it.each([
    [['--store', 'etcd'], POD_ENV, 'invalid value "etcd" for --store: give kubernetes or file'],
    [
      ['--api-server', 'https://user:secret@10.0.0.1:6443/api?x=1'],
      POD_ENV,
      'invalid value "https://user:secret@10.0.0.1:6443/api?x=1" for --api-server: give only the scheme, host and port, such as https://10.0.0.1:6443',
    ],
    [
      [],
      { ...POD_ENV, NODE_NAME: '' },
      "missing --node-name: set it, or NODE_NAME from the pod's spec.nodeName",
    ],
    [
      ['--store', 'kubernetes'],
      { NODE_NAME: 'n' },
      'missing --api-server: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, so give the API server URL',
    ],
    [
      ['--api-server', 'http://10.0.0.1'],
      POD_ENV,
      'invalid value "http://10.0.0.1" for --api-server: the URL must start with https://',
    ],
    [
      ['--api-server', 'not a url'],
      POD_ENV,
      'invalid value "not a url" for --api-server: give a URL such as https://10.0.0.1:6443',
    ],
    [
      ['--cni-bin-dir', 'bin'],
      POD_ENV,
      'invalid value "bin" for --cni-bin-dir: give an absolute path',
    ],
    [
      ['--cluster-cidrs', '10.244.0.0'],
      POD_ENV,
      'invalid value "10.244.0.0" in --cluster-cidrs: give CIDRs separated by commas, such as 10.96.0.0/12,fd00:10:96::/112',
    ],
    [
      ['--namespace', 'Leasehold'],
      POD_ENV,
      'invalid value "Leasehold" for --namespace: give a namespace name (lowercase letters, digits and dashes, at most 63)',
    ],
    [['--interval', '0s'], POD_ENV, 'invalid value "0s" for --interval: it must be longer than 0s'],
    [
      ['--interval', '1000h'],
      POD_ENV,
      'invalid value "1000h" for --interval: give at most 596h, the longest timer Node.js runs',
    ],
    [
      ['--api-server', 'https://10.0.0.1:6443'],
      { NODE_NAME: 'n' },
      '--api-server applies only to the Kubernetes store: add --store kubernetes, or leave --api-server out',
    ],
    [
      ['--store', 'file', '--node-name', 'n'],
      {},
      '--node-name applies only to the Kubernetes store: add --store kubernetes, or leave --node-name out',
    ],
    [
      ['--node-name', 'Node 1'],
      POD_ENV,
      'invalid value "Node 1" for --node-name: give the Node object\'s name (lowercase letters, digits, dashes and dots, at most 253)',
    ],
  ])('rejects %j', (argv, env, message) => {
    expect(messageOf(() => parseInstallFlags(argv, env))).toBe(message);
  });
});
