#!/bin/sh
# Copies the plugin into the host's CNI bin directory (mounted at $CNI_BIN_DIR), replacing any
# older copy atomically, then sleeps so that a DaemonSet keeps it installed.
set -eu
bin_dir=${CNI_BIN_DIR:-/host/opt/cni/bin}
cp /usr/local/lib/leasehold/leasehold "$bin_dir/.leasehold.new"
chmod 0755 "$bin_dir/.leasehold.new"
mv -f "$bin_dir/.leasehold.new" "$bin_dir/leasehold"
echo "installed leasehold into $bin_dir"
if [ "${INSTALL_ONCE:-false}" = "true" ]; then exit 0; fi
exec sleep infinity
