#!/usr/bin/env bash
# envtest-assets.sh DIR puts etcd, kube-apiserver and kubectl into DIR: downloaded
# by setup-envtest where its download site answers (seconds), else built from
# source by the hack/envtest module (minutes, once). It says which path it took.
#
# Environment (the Makefile's envtest rule sets these):
#   ENVTEST_K8S_VERSION       version for setup-envtest to download, e.g. 1.37.x
#   SETUP_ENVTEST             the pinned setup-envtest; absent means build from source
#   ENVTEST_FROM_SOURCE=1     skip the download and build from source
#   ENVTEST_DOWNLOAD_TIMEOUT  seconds the download may take (default 60)
#   ENVTEST_BUILD             command run as `$ENVTEST_BUILD DIR` instead of the
#                             source build (the tests pass a stub)
set -euo pipefail

BINARIES=(etcd kube-apiserver kubectl)

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
mkdir -p "$1"
dest=$(cd "$1" && pwd)
hack=$(cd "$(dirname "$0")" && pwd)

# run_with_timeout SECONDS CMD... stops CMD after SECONDS, so that a network that
# drops packets rather than refusing them costs a minute, not a hang. macOS has
# no timeout(1), hence the watchdog.
run_with_timeout() {
	local secs=$1
	shift
	if command -v timeout >/dev/null; then
		timeout "$secs" "$@"
		return
	fi
	"$@" &
	local pid=$! rc=0
	(sleep "$secs" && kill "$pid") >/dev/null 2>&1 &
	local watchdog=$!
	wait "$pid" || rc=$?
	kill "$watchdog" 2>/dev/null || true
	return "$rc"
}

# download fetches the binaries into a scratch store next to DIR (same file
# system, so they move rather than copy) and moves them into DIR. On failure it
# sets reason.
store=
trap 'if [ -n "$store" ]; then chmod -R u+w "$store"; rm -rf "$store"; fi' EXIT
download() {
	local dir rc=0 timeout=${ENVTEST_DOWNLOAD_TIMEOUT:-60}
	echo ">> Downloading etcd, kube-apiserver and kubectl $ENVTEST_K8S_VERSION with setup-envtest (at most ${timeout}s)"
	store=$(mktemp -d "$dest.setup-envtest.XXXXXX") || return 1
	dir=$(run_with_timeout "$timeout" \
		"$SETUP_ENVTEST" use -p path --bin-dir "$store" "$ENVTEST_K8S_VERSION" 2>"$store/log") || rc=$?
	case $rc in
	0) ;;
	124 | 143) reason="no answer within ${timeout}s"; return 1 ;;
	*) reason=$(tail -n 1 "$store/log"); reason=${reason:-exit status $rc}; return 1 ;;
	esac
	for b in "${BINARIES[@]}"; do
		if [ ! -f "$dir/$b" ]; then
			reason="the download has no $b"
			return 1
		fi
	done
	# setup-envtest makes its store read-only.
	chmod u+w "$dir" || return 1
	for b in "${BINARIES[@]}"; do
		mv -f "$dir/$b" "$dest/$b" || { reason="cannot move $b into $dest"; return 1; }
	done
}

build_from_source() {
	if [ -n "${ENVTEST_BUILD:-}" ]; then
		"$ENVTEST_BUILD" "$dest"
		return
	fi
	echo ">> Building etcd, kube-apiserver and kubectl from source into $dest."
	echo ">> The first build takes 10 minutes or more on 2 cores; later runs reuse it."
	(cd "$hack/envtest" && go build -v -o "$dest/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ./etcd 2>&1) |
		awk '{ n++ } n % 100 == 0 { printf ">> compiled %d packages (now %s)\n", n, $0; fflush() }'
}

reason=
if [ "${ENVTEST_FROM_SOURCE:-}" = 1 ]; then
	echo ">> ENVTEST_FROM_SOURCE=1; building from source"
	build_from_source
elif [ -z "${SETUP_ENVTEST:-}" ] || [ ! -x "$SETUP_ENVTEST" ]; then
	echo ">> setup-envtest is not installed; building from source"
	build_from_source
elif download; then
	echo ">> Using envtest binaries downloaded by setup-envtest (Kubernetes $ENVTEST_K8S_VERSION) in $dest"
else
	echo ">> setup-envtest could not download Kubernetes $ENVTEST_K8S_VERSION ($reason); building from source"
	build_from_source
fi

for b in "${BINARIES[@]}"; do
	if [ ! -f "$dest/$b" ]; then
		echo ">> $dest/$b is missing" >&2
		exit 1
	fi
done
# Binaries from a tarball keep its old times: make them newer than hack/envtest's
# go.mod, so that make sees them up to date. Writable, so a later build can replace them.
chmod 0755 "${BINARIES[@]/#/$dest/}"
touch "${BINARIES[@]/#/$dest/}"
