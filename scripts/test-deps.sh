#!/usr/bin/env bash
# Installs what the end-to-end tests need and is missing: the reference CNI plugins and iproute2
# from Debian's packages, cnitool and the Multus thin plugin built from their Go modules into the
# tool cache, and the local control plane's kube-apiserver and etcd (several minutes on the first
# run).
set -euo pipefail

CNI_VERSION=v1.2.3
tool_dir=${LEASEHOLD_TOOL_DIR:-$HOME/.cache/leasehold/bin}

if [[ ! -x /usr/lib/cni/bridge || ! -x /usr/lib/cni/macvlan ]] || ! command -v ip >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-deps: the reference CNI plugins are missing; run as root: apt-get install containernetworking-plugins iproute2" >&2
    exit 1
  fi
  echo "test-deps: installing containernetworking-plugins and iproute2"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containernetworking-plugins iproute2 >/dev/null
fi

if [[ ! -x "$tool_dir/cnitool" || "$(cat "$tool_dir/cnitool.version" 2>/dev/null)" != "$CNI_VERSION" ]]; then
  if ! command -v go >/dev/null; then
    echo "test-deps: go is missing; install Go to build cnitool" >&2
    exit 1
  fi
  echo "test-deps: building cnitool $CNI_VERSION into $tool_dir"
  mkdir -p "$tool_dir"
  if ! GOBIN="$tool_dir" go install "github.com/containernetworking/cni/cnitool@$CNI_VERSION"; then
    echo "test-deps: go install of cnitool failed; check that the Go module proxy is reachable" >&2
    exit 1
  fi
  echo "$CNI_VERSION" >"$tool_dir/cnitool.version"
fi

# Multus from the module pinned in test/multus/go.mod. The stamp is a hash of go.mod and go.sum,
# so a version change there rebuilds it. The build takes about 2 minutes on 2 cores once the
# modules are downloaded.
multus_module=$(cd "$(dirname "$0")/../test/multus" && pwd)
multus_stamp=$(cat "$multus_module/go.mod" "$multus_module/go.sum" | sha256sum | cut -d' ' -f1)
if [[ ! -x "$tool_dir/multus" || "$(cat "$tool_dir/multus.version" 2>/dev/null)" != "$multus_stamp" ]]; then
  if ! command -v go >/dev/null; then
    echo "test-deps: go is missing; install Go to build Multus" >&2
    exit 1
  fi
  echo "test-deps: building Multus ($(grep -o 'multus-cni.v4 v[^ ]*' "$multus_module/go.mod")) into $tool_dir"
  mkdir -p "$tool_dir"
  if ! (cd "$multus_module" && go build -o "$tool_dir/multus" gopkg.in/k8snetworkplumbingwg/multus-cni.v4/cmd/multus); then
    echo "test-deps: go build of Multus failed; check that the Go module proxy is reachable" >&2
    exit 1
  fi
  echo "$multus_stamp" >"$tool_dir/multus.version"
fi

# The local control plane (kube-apiserver and etcd from Go modules); a no-op once built.
bash "$(dirname "$0")/../test/cluster/cluster.sh" build
