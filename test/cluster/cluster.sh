#!/usr/bin/env bash
# A local Kubernetes control plane for tests: etcd and kube-apiserver built
# from the Go modules pinned in go.mod next to this script, running on
# 127.0.0.1 only. See README.md in this directory.
#
# Usage: cluster.sh build|up|down [--keep]|status|env|restart-apiserver|
#                   stop-apiserver|start-apiserver
#
# Progress goes to stderr. "up" prints the kubeconfig path on stdout, so
# KUBECONFIG="$(cluster.sh up)" works.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${LEASEHOLD_CACHE_DIR:-${HOME:-/tmp}/.cache/leasehold}"
STATE_DIR="${LEASEHOLD_CLUSTER_DIR:-/tmp/leasehold-cluster}"
# Absolute paths without a trailing slash, so that the recorded command
# lines of the processes can be matched against them.
absolute() {
	local path="${1%/}"
	[[ "$path" == /* ]] || path="$PWD/$path"
	printf '%s\n' "$path"
}
CACHE_DIR="$(absolute "$CACHE_DIR")"
BIN_DIR="$CACHE_DIR/bin"
STATE_DIR="$(absolute "$STATE_DIR")"
PKI_DIR="$STATE_DIR/pki"
LOG_DIR="$STATE_DIR/logs"
KUBECONFIG_PATH="$STATE_DIR/kubeconfig"
STATE_ENV="$STATE_DIR/state.env"
MARKER="$STATE_DIR/.leasehold-cluster"
# The lock for up, down and the apiserver commands lives outside the state
# directory, which down removes.
STATE_LOCK="$CACHE_DIR/locks/cluster-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-16).lock"

# Ports, set by load_state from $STATE_ENV.
ETCD_PORT=""
ETCD_PEER_PORT=""
APISERVER_PORT=""

START_TIMEOUT="${LEASEHOLD_START_TIMEOUT:-180}"
STOP_TIMEOUT="${LEASEHOLD_STOP_TIMEOUT:-20}"

for setting in LEASEHOLD_START_TIMEOUT LEASEHOLD_STOP_TIMEOUT LEASEHOLD_APISERVER_PORT LEASEHOLD_ETCD_PORT LEASEHOLD_ETCD_PEER_PORT; do
	if [[ -n "${!setting:-}" && ! "${!setting}" =~ ^[1-9][0-9]*$ ]]; then
		printf 'error: invalid %s=%s: expected a positive whole number\n' "$setting" "${!setting}" >&2
		exit 2
	fi
done

APISERVER_BIN="$BIN_DIR/kube-apiserver"
ETCD_BIN="$BIN_DIR/etcd"

log() { printf '%s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# The pinned versions are read from go.mod, which is the single place to
# change them.
module_version() {
	awk -v mod="$1" '$1 == mod && $2 ~ /^v/ { print $2; exit }' "$SCRIPT_DIR/go.mod"
}
K8S_VERSION="$(module_version k8s.io/kubernetes)"
ETCD_VERSION="$(module_version go.etcd.io/etcd/server/v3)"
[[ -n "$K8S_VERSION" && -n "$ETCD_VERSION" ]] ||
	die "cannot read the pinned versions of k8s.io/kubernetes and go.etcd.io/etcd/server/v3 from $SCRIPT_DIR/go.mod"

need_tool() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# Runs the rest of the command while holding an exclusive lock on a file,
# in a subshell, so that parallel callers (for example several test files)
# do not build or start the cluster twice. Without flock there is no lock.
# shellcheck disable=SC2030 # HELD_LOCK_FD is only needed inside the subshell.
with_lock() {
	local lockfile="$1"
	shift
	mkdir -p "$(dirname "$lockfile")"
	(
		if command -v flock >/dev/null 2>&1; then
			exec {HELD_LOCK_FD}>"$lockfile"
			flock "$HELD_LOCK_FD"
		fi
		"$@"
	)
}

# ---------------------------------------------------------------------------
# build

build_stamp() {
	local sum
	sum="$(cat "$SCRIPT_DIR/go.mod" "$SCRIPT_DIR/go.sum" | sha256sum | cut -d' ' -f1)"
	printf 'kubernetes=%s etcd=%s go=%s modules=%s\n' \
		"$K8S_VERSION" "$ETCD_VERSION" "$(go env GOVERSION)" "$sum"
}

go_build() {
	local name="$1" pkg="$2" version="$3" ldflags="$4"
	local build_log="$CACHE_DIR/logs/build-$name.log"
	local started=$SECONDS
	log "building $name $version (first run takes several minutes)..."
	if ! (cd "$SCRIPT_DIR" &&
		CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath -mod=readonly" \
			go build -ldflags "$ldflags" -o "$BIN_DIR/$name.tmp" "$pkg") >"$build_log" 2>&1; then
		tail -n 20 "$build_log" >&2 || true
		die "go build of $name failed: see $build_log; check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY)) and that go.mod and go.sum in $SCRIPT_DIR are complete (run 'go mod tidy' there)"
	fi
	mv -f "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
	log "built $name in $((SECONDS - started))s"
}

do_build() {
	need_tool go "install Go $(awk '$1 == "go" { print $2; exit }' "$SCRIPT_DIR/go.mod") or newer"
	mkdir -p "$BIN_DIR" "$CACHE_DIR/logs"
	local stamp_file="$BIN_DIR/.stamp" stamp
	stamp="$(build_stamp)"
	if [[ -x "$APISERVER_BIN" && -x "$ETCD_BIN" && -f "$stamp_file" ]] &&
		[[ "$(cat "$stamp_file")" == "$stamp" ]]; then
		log "kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION are already built in $BIN_DIR"
		return 0
	fi
	rm -f "$stamp_file"

	local minor="${K8S_VERSION#v1.}"
	minor="${minor%%.*}"
	local vpkg=k8s.io/component-base/version
	go_build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$K8S_VERSION" \
		"-s -w -X $vpkg.gitVersion=$K8S_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"
	go_build etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "-s -w"

	printf '%s' "$stamp" >"$stamp_file"
}

# ---------------------------------------------------------------------------
# processes

# Prints the pid recorded for a component if that process is still running
# and is the one this script started (same program, same state directory).
running_pid() {
	local name="$1" pid cmdline
	[[ -f "$STATE_DIR/$name.pid" ]] || return 1
	pid="$(cat "$STATE_DIR/$name.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
	[[ "${cmdline%% *}" == */"$name" && "$cmdline" == *"$STATE_DIR/"* ]] || return 1
	printf '%s\n' "$pid"
}

# Starts a program in its own session, detached from the caller's terminal
# and pipes, and records its pid. The lock file descriptor is closed in the
# child, or the long-running process would hold the lock forever.
# shellcheck disable=SC2031 # spawn runs inside the subshell of with_lock.
spawn() {
	local name="$1"
	shift
	mkdir -p "$LOG_DIR"
	printf '\n=== %s started at %s\n' "$name" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$LOG_DIR/$name.log"
	(
		if [[ -n "${HELD_LOCK_FD:-}" ]]; then
			exec {HELD_LOCK_FD}>&-
		fi
		if command -v setsid >/dev/null 2>&1; then
			exec setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1
		else
			exec nohup "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1
		fi
	) &
	printf '%s\n' "$!" >"$STATE_DIR/$name.pid"
}

stop_process() {
	local name="$1" pid i
	if ! pid="$(running_pid "$name")"; then
		rm -f "$STATE_DIR/$name.pid"
		return 0
	fi
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name did not stop within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$STATE_DIR/$name.pid"
}

# ---------------------------------------------------------------------------
# ports

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Picks a free loopback port below the usual ephemeral range (32768 and up),
# so that outgoing connections do not take it later.
pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ " $* " == *" $p "* ]] && continue
		port_in_use "$p" || {
			printf '%s\n' "$p"
			return 0
		}
	done
	die "could not find a free port on 127.0.0.1 between 20000 and 32000; set LEASEHOLD_APISERVER_PORT, LEASEHOLD_ETCD_PORT and LEASEHOLD_ETCD_PEER_PORT"
}

# Fails with a hint if a port that a component needs is taken by another
# program.
require_free_ports() {
	local name="$1" port
	shift
	for port in "$@"; do
		if port_in_use "$port"; then
			die "cannot start $name: port $port on 127.0.0.1 is taken by another program; run 'down' and then 'up' to pick new ports"
		fi
	done
}

load_state() {
	[[ -f "$STATE_ENV" ]] || return 1
	# shellcheck source=/dev/null
	source "$STATE_ENV"
}

init_state() {
	if load_state; then
		return 0
	fi
	local etcd_port etcd_peer_port api_port
	etcd_port="${LEASEHOLD_ETCD_PORT:-$(pick_port)}"
	etcd_peer_port="${LEASEHOLD_ETCD_PEER_PORT:-$(pick_port "$etcd_port")}"
	api_port="${LEASEHOLD_APISERVER_PORT:-$(pick_port "$etcd_port" "$etcd_peer_port")}"
	cat >"$STATE_ENV" <<EOF
ETCD_PORT=$etcd_port
ETCD_PEER_PORT=$etcd_peer_port
APISERVER_PORT=$api_port
EOF
	load_state
}

# ---------------------------------------------------------------------------
# certificates

openssl_quiet() {
	local out
	if ! out="$(openssl "$@" 2>&1)"; then
		printf '%s\n' "$out" >&2
		die "openssl $1 failed while generating certificates in $PKI_DIR; remove $STATE_DIR and run 'up' again"
	fi
}

# sign_cert NAME SUBJECT EXTENSIONS: writes NAME.key and NAME.crt, signed by
# the test CA.
sign_cert() {
	local name="$1" subject="$2" extensions="$3"
	printf '%s\n' "$extensions" >"$PKI_DIR/$name.ext"
	openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$name.key"
	openssl_quiet req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr"
	openssl_quiet x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
		-CAcreateserial -days 365 -sha256 -extfile "$PKI_DIR/$name.ext" -out "$PKI_DIR/$name.crt"
	rm -f "$PKI_DIR/$name.csr" "$PKI_DIR/$name.ext"
}

generate_pki() {
	if [[ -f "$PKI_DIR/ca.crt" && -f "$PKI_DIR/apiserver.crt" && -f "$PKI_DIR/admin.crt" && -f "$PKI_DIR/sa.key" ]]; then
		return 0
	fi
	need_tool openssl "install it with 'apt-get install openssl'"
	log "generating a CA and certificates in $PKI_DIR"
	rm -rf "$PKI_DIR"
	mkdir -p "$PKI_DIR"
	chmod 700 "$PKI_DIR"

	openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/ca.key"
	openssl_quiet req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=leasehold-test-ca" -days 365 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$PKI_DIR/ca.crt"

	sign_cert apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"

	sign_cert admin "/O=system:masters/CN=leasehold-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

	# The service account token signing key pair.
	openssl_quiet genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI_DIR/sa.key"
	openssl_quiet pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub"
}

write_kubeconfig() {
	local b64="base64 -w0"
	cat >"$KUBECONFIG_PATH.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: leasehold
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $($b64 <"$PKI_DIR/ca.crt")
users:
- name: leasehold-admin
  user:
    client-certificate-data: $($b64 <"$PKI_DIR/admin.crt")
    client-key-data: $($b64 <"$PKI_DIR/admin.key")
contexts:
- name: leasehold
  context:
    cluster: leasehold
    user: leasehold-admin
current-context: leasehold
EOF
	chmod 600 "$KUBECONFIG_PATH.tmp"
	mv -f "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH"
}

# ---------------------------------------------------------------------------
# etcd and kube-apiserver

etcd_healthy() {
	curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'
}

apiserver_ready() {
	[[ "$(curl -sS --max-time 3 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null)" == ok ]]
}

# Shows the error lines that a component logged since it was last started,
# or its last lines if there are none.
show_log_errors() {
	local current errors
	current="$(awk '/^=== .* started at /{ buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }' \
		"$LOG_DIR/$1.log" 2>/dev/null)" || true
	errors="$(grep -E '^[EF][0-9]{4} |"level":"(error|fatal|panic)"' <<<"$current" | tail -n 5)" || true
	if [[ -n "$errors" ]]; then
		printf '%s\n' "$errors" >&2
	else
		tail -n 15 <<<"$current" >&2 || true
	fi
}

# Succeeds while the process spawn started for a component is alive. Unlike
# running_pid it also accepts the moments before the subshell has exec'd the
# program, when its command line is still the shell's.
spawned_alive() {
	local pid state
	pid="$(cat "$STATE_DIR/$1.pid" 2>/dev/null)" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
	[[ -n "$state" && "$state" != Z ]]
}

# wait_for NAME CHECK: polls CHECK until it succeeds, failing early if the
# process has exited.
wait_for() {
	local name="$1" check="$2" deadline=$((SECONDS + START_TIMEOUT))
	while ! "$check"; do
		if ! spawned_alive "$name"; then
			show_log_errors "$name"
			die "$name exited during startup: see $LOG_DIR/$name.log; run 'down' to stop what is still running"
		fi
		if ((SECONDS >= deadline)); then
			show_log_errors "$name"
			die "timed out after ${START_TIMEOUT}s waiting for $name to become ready: see $LOG_DIR/$name.log; it is left running, so run 'down' to stop it, and raise LEASEHOLD_START_TIMEOUT on a slow machine"
		fi
		sleep 0.5
	done
}

# Starts etcd unless it is running, then waits until it is healthy.
start_etcd() {
	if running_pid etcd >/dev/null; then
		wait_for etcd etcd_healthy
		return 0
	fi
	require_free_ports etcd "$ETCD_PORT" "$ETCD_PEER_PORT"
	log "starting etcd $ETCD_VERSION on http://127.0.0.1:$ETCD_PORT (log: $LOG_DIR/etcd.log)"
	# --unsafe-no-fsync trades durability across a machine crash for speed;
	# the data still survives restarts of kube-apiserver and of etcd itself.
	spawn etcd "$ETCD_BIN" \
		--name=leasehold \
		--data-dir="$STATE_DIR/etcd" \
		--listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster="leasehold=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync \
		--log-level=warn
	wait_for etcd etcd_healthy
}

# Starts kube-apiserver unless it is running, then waits until /readyz
# returns ok.
start_apiserver() {
	if running_pid kube-apiserver >/dev/null; then
		wait_for kube-apiserver apiserver_ready
		return 0
	fi
	require_free_ports kube-apiserver "$APISERVER_PORT"
	log "starting kube-apiserver $K8S_VERSION on https://127.0.0.1:$APISERVER_PORT (log: $LOG_DIR/kube-apiserver.log)"
	# The endpoint reconciler is off because Endpoints may not contain a
	# loopback address. With it on, kube-apiserver logs a validation error
	# every 10 seconds. The "kubernetes" Service in "default" still exists,
	# without endpoints.
	spawn kube-apiserver "$APISERVER_BIN" \
		--bind-address=127.0.0.1 \
		--advertise-address=127.0.0.1 \
		--secure-port="$APISERVER_PORT" \
		--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
		--tls-cert-file="$PKI_DIR/apiserver.crt" \
		--tls-private-key-file="$PKI_DIR/apiserver.key" \
		--client-ca-file="$PKI_DIR/ca.crt" \
		--authorization-mode=Node,RBAC \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$PKI_DIR/sa.pub" \
		--service-account-signing-key-file="$PKI_DIR/sa.key" \
		--service-cluster-ip-range=10.96.0.0/16 \
		--endpoint-reconciler-type=none \
		--profiling=false \
		--v=1
	wait_for kube-apiserver apiserver_ready
}

# ---------------------------------------------------------------------------
# commands

check_runtime_tools() {
	need_tool curl "install it with 'apt-get install curl'"
	need_tool openssl "install it with 'apt-get install openssl'"
}

cmd_up() {
	local started=$SECONDS
	check_runtime_tools
	with_lock "$CACHE_DIR/build.lock" do_build
	if [[ -d "$STATE_DIR" && ! -f "$MARKER" ]] && [[ -n "$(ls -A "$STATE_DIR")" ]]; then
		die "$STATE_DIR exists and was not made by this script; set LEASEHOLD_CLUSTER_DIR to another directory"
	fi
	mkdir -p "$STATE_DIR" "$LOG_DIR"
	touch "$MARKER"
	init_state
	if running_pid etcd >/dev/null && running_pid kube-apiserver >/dev/null && apiserver_ready; then
		log "the cluster is already running"
		printf '%s\n' "$KUBECONFIG_PATH"
		return 0
	fi
	# Check every port before starting anything, so that a taken port does
	# not leave etcd running alone.
	if ! running_pid etcd >/dev/null; then
		require_free_ports etcd "$ETCD_PORT" "$ETCD_PEER_PORT"
	fi
	if ! running_pid kube-apiserver >/dev/null; then
		require_free_ports kube-apiserver "$APISERVER_PORT"
	fi
	generate_pki
	write_kubeconfig
	start_etcd
	start_apiserver
	log "the cluster is up after $((SECONDS - started))s; run: export KUBECONFIG=$KUBECONFIG_PATH"
	printf '%s\n' "$KUBECONFIG_PATH"
}

require_cluster_state() {
	load_state || die "no cluster state in $STATE_DIR; run 'up' first"
}

cmd_stop_apiserver() {
	require_cluster_state
	stop_process kube-apiserver
}

cmd_start_apiserver() {
	require_cluster_state
	running_pid etcd >/dev/null || die "etcd is not running; run 'up' to start the whole cluster"
	[[ -x "$APISERVER_BIN" ]] || die "$APISERVER_BIN is missing; run 'build'"
	start_apiserver
	log "kube-apiserver is ready"
}

cmd_restart_apiserver() {
	local started=$SECONDS
	require_cluster_state
	stop_process kube-apiserver
	cmd_start_apiserver
	log "kube-apiserver restarted in $((SECONDS - started))s"
}

cmd_down() {
	local keep=false
	for arg in "$@"; do
		case "$arg" in
		--keep) keep=true ;;
		*) die "unknown option for down: $arg (the only option is --keep)" ;;
		esac
	done
	if [[ ! -d "$STATE_DIR" ]]; then
		log "no cluster state in $STATE_DIR; nothing to stop"
		return 0
	fi
	stop_process kube-apiserver
	stop_process etcd
	if [[ "$keep" == true ]]; then
		log "stopped; kept $STATE_DIR"
	elif [[ -f "$MARKER" ]]; then
		rm -rf "$STATE_DIR"
		log "stopped and removed $STATE_DIR"
	else
		log "stopped; left $STATE_DIR in place because it was not made by this script"
	fi
}

describe_pid() {
	if [[ -n "$1" ]]; then
		printf 'running as pid %s' "$1"
	else
		printf 'not running'
	fi
}

cmd_status() {
	local etcd_pid="" api_pid=""
	if ! load_state; then
		echo "not running (no state in $STATE_DIR)"
		return 1
	fi
	etcd_pid="$(running_pid etcd)" || true
	api_pid="$(running_pid kube-apiserver)" || true
	printf 'etcd:           http://127.0.0.1:%s, %s\n' "$ETCD_PORT" "$(describe_pid "$etcd_pid")"
	printf 'kube-apiserver: https://127.0.0.1:%s, %s\n' "$APISERVER_PORT" "$(describe_pid "$api_pid")"
	echo "kubeconfig:     $KUBECONFIG_PATH"
	echo "logs:           $LOG_DIR"
	if [[ -n "$etcd_pid" && -n "$api_pid" ]] && apiserver_ready; then
		echo "status:         running"
		return 0
	fi
	echo "status:         not running"
	return 1
}

cmd_env() {
	if ! running_pid kube-apiserver >/dev/null; then
		log "warning: kube-apiserver is not running; run 'up' first"
	fi
	printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_PATH"
}

usage() {
	cat >&2 <<EOF
usage: $0 COMMAND

  build              build kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION into $BIN_DIR
  up                 build if needed, then start etcd and kube-apiserver; prints the kubeconfig path
  down [--keep]      stop both and remove $STATE_DIR (kept with --keep)
  status             tell whether the cluster is running
  env                print 'export KUBECONFIG=...'
  restart-apiserver  stop and start kube-apiserver only; etcd and its data stay
  stop-apiserver     stop kube-apiserver only
  start-apiserver    start kube-apiserver again after stop-apiserver

environment: LEASEHOLD_CACHE_DIR, LEASEHOLD_CLUSTER_DIR, LEASEHOLD_APISERVER_PORT,
LEASEHOLD_ETCD_PORT, LEASEHOLD_ETCD_PEER_PORT, LEASEHOLD_START_TIMEOUT, LEASEHOLD_STOP_TIMEOUT
EOF
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$cmd" in
	build) with_lock "$CACHE_DIR/build.lock" do_build ;;
	up) with_lock "$STATE_LOCK" cmd_up ;;
	down) with_lock "$STATE_LOCK" cmd_down "$@" ;;
	status) cmd_status ;;
	env) cmd_env ;;
	restart-apiserver) with_lock "$STATE_LOCK" cmd_restart_apiserver ;;
	stop-apiserver) with_lock "$STATE_LOCK" cmd_stop_apiserver ;;
	start-apiserver) with_lock "$STATE_LOCK" cmd_start_apiserver ;;
	-h | --help | help)
		usage
		return 0
		;;
	*)
		usage
		return 2
		;;
	esac
}

main "$@"
