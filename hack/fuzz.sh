#!/usr/bin/env bash
# fuzz.sh FUZZTIME PACKAGE:TARGET... runs each fuzz target for FUZZTIME.
#
# With FUZZ_FRESH_CACHE=1 (as `make test` runs it), each target starts from its
# seed corpus alone, in a fresh cache directory, instead of Go's cache of every
# input earlier runs found interesting: that cache grows with every run on a
# machine, and replaying it ("gathering baseline coverage") counts against
# FUZZTIME, until a short run spends all of it there and fails.
#
# Go's fuzzing coordinator can fail a run that found nothing with a bare
# "context deadline exceeded" when -fuzztime's deadline falls while a worker is
# busy (seen here on FuzzParseCIDRList, and on FuzzLoadManifests when a worker
# spent seconds on one input just then). Such a run is tried again, up to three
# times in all; any other failure, and any run that wrote a failing input, fails.
set -uo pipefail

fuzztime=$1
shift
cache_args=()
if [ "${FUZZ_FRESH_CACHE:-}" = 1 ]; then
	cache=$(mktemp -d)
	cache_args=(-args "-test.fuzzcachedir=$cache")
fi
# fuzz PACKAGE:TARGET runs one target, with the retries above.
fuzz() {
	local pkg=${1%%:*} name=${1#*:} out rc
	for attempt in 1 2 3; do
		echo ">> fuzzing $name in $pkg for $fuzztime"
		out=$(go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "$pkg" "${cache_args[@]}" 2>&1)
		rc=$?
		echo "$out"
		[ "$rc" -eq 0 ] && return 0
		if [ "$attempt" -lt 3 ] && grep -qx $'\tcontext deadline exceeded\|    context deadline exceeded' <<<"$out" &&
			! grep -q 'Failing input written' <<<"$out"; then
			echo ">> $name: Go's fuzzing coordinator stopped on its own deadline, having found nothing; again"
			continue
		fi
		return 1
	done
}

# The targets run side by side: each runs for FUZZTIME whatever the others do,
# so together they take one FUZZTIME instead of one each. Their outputs are
# printed in order once all are done.
logs=$(mktemp -d)
trap 'rm -rf "$logs" ${cache:+"$cache"}' EXIT
pids=()
for i in $(seq 1 $#); do
	fuzz "${!i}" >"$logs/$i" 2>&1 &
	pids+=($!)
done
failed=0
for i in $(seq 1 $#); do
	wait "${pids[$((i - 1))]}" || failed=1
	cat "$logs/$i"
done
exit $failed
