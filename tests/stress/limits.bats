#!/usr/bin/env bats
# Stress: many jobs under tight limits.  With `ulimit -n 64` and -j 100,
# forkpool lowers the number of jobs at once with one warning and runs
# every job.  With `ulimit -u` low (as a user of its own: the limit does
# not apply to root), starting a job fails with EAGAIN; forkpool retries
# and finishes, or gives up on a job with a clear message, and never hangs.

bats_require_minimum_version 1.5.0
load ../helper
load stress

setup_file() {
	stress_build
}

setup() {
	fp_setup
	require_cmd timeout
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
	if [[ -n ${SHARED_DIR:-} ]]; then
		rm -rf "$SHARED_DIR"
	fi
}

# check_streams N MAXFILL CHECKS: every record of jobs 1..N is in out and
# in err, where forkpool's own messages are left in MESSAGES.
check_streams() {
	# shellcheck disable=SC2086
	run "$FPSTRESS" check "$STRESS_SEED" "$2" "$1" o $3 <out
	assert_success
	# shellcheck disable=SC2086
	run "$FPSTRESS" check "$STRESS_SEED" "$2" "$1" e $3 msgs <err
	assert_success
	MESSAGES=$(printf '%s\n' "$output" | sed '$d')
	output=${lines[-1]}
}

# --- open files ---------------------------------------------------------------

# nofile_run MODE INHERITED: NJOBS jobs with -j 100 under ulimit -n 64, with
# INHERITED extra descriptors open in forkpool.
nofile_run() {
	local n fds='' i status=0
	n=$(stress_size 3000 500)
	for ((i = 0; i < $2; i++)); do fds+=" $((10 + i))<&0"; done
	mkdir spill
	seq "$n" | timeout 600 bash -c "$CLOSE_FDS"$'\nulimit -n 64\nexec "$@"'"$fds" \
		_ "$FP_BIN" -j 100 --tmpdir spill "$1" "$FPSTRESS" emit "$STRESS_SEED" 200000 c {} \
		>out 2>err || status=$?
	assert_equal "$status" 0
	local checks=''
	[[ $1 == -k ]] && checks='whole ordered'
	check_streams "$n" 200000 "$checks"
	stress_note "$1, $2 inherited: $output"
	run ls -A spill
	assert_output ''
}

@test "ulimit -n 64, -j 100, --group: one warning, every job's output complete" {
	nofile_run --group 0
	assert_equal "$MESSAGES" 'forkpool: -j 100: lowered to 27 jobs at once (the open files limit)'
}

@test "ulimit -n 64, -j 100, -k: one warning, every job's output complete and in order" {
	nofile_run -k 0
	assert_equal "$MESSAGES" 'forkpool: -j 100: lowered to 27 jobs at once (the open files limit)'
}

@test "ulimit -n 64, -j 100, --line-buffer: one warning, every job's output complete" {
	nofile_run --line-buffer 0
	assert_equal "$MESSAGES" 'forkpool: -j 100: lowered to 27 jobs at once (the open files limit)'
}

@test "ulimit -n 64, -j 100, -k, 16 inherited descriptors: lowered at start, then once at EMFILE" {
	nofile_run -k 16
	[[ $MESSAGES =~ ^forkpool:\ -j\ 100:\ lowered\ to\ 27\ jobs\ at\ once\ \(the\ open\ files\ limit\)$'\n'forkpool:\ out\ of\ file\ descriptors:\ running\ at\ most\ [0-9]+\ jobs\ at\ once$ ]] ||
		fail "unexpected messages: $MESSAGES"
}

# --- processes ------------------------------------------------------------------

# nproc_setup: a directory every user can read, with copies of forkpool and
# fpstress (SHARED_DIR), and an unused user id (NPROC_UID) whose process
# count starts at 0, so that nothing else running shares the limit.
nproc_setup() {
	require_cmd setpriv
	[[ $(id -u) == 0 ]] || skip "needs root to run as another user under a process limit"
	SHARED_DIR=$(mktemp -d /tmp/forkpool-nproc.XXXXXX)
	chmod 755 "$SHARED_DIR"
	mkdir -m 777 "$SHARED_DIR/spill"
	cp "$FP_BIN" "$FPSTRESS" "$SHARED_DIR/"
	chmod 755 "$SHARED_DIR/forkpool" "$SHARED_DIR/fpstress"
	local i
	for ((i = 0; i < 100; i++)); do
		NPROC_UID=$((60000 + RANDOM % 5000))
		getent passwd "$NPROC_UID" >/dev/null || [[ -n $(ps -L -u "$NPROC_UID" --no-headers 2>/dev/null) ]] || return 0
	done
	fail "no unused user id found"
}

# as_limited MAXPROC CMD ARG...: run CMD as NPROC_UID under ulimit -u MAXPROC,
# in /, with a hang guard of 10 minutes; STATUS is its exit status.
as_limited() {
	local max=$1
	shift
	STATUS=0
	timeout 600 setpriv --reuid="$NPROC_UID" --regid="$NPROC_UID" --clear-groups \
		bash -c 'cd / && ulimit -u "$0" && exec "$@"' "$max" "$@" || STATUS=$?
}

@test "ulimit -u 6, -j 20: one warning; starts that fail with EAGAIN are retried; every job's output complete" {
	nproc_setup
	local n
	n=$(stress_size 3000 400)
	# forkpool is one of the 6 processes: the 6th job cannot start
	as_limited 6 "$SHARED_DIR/forkpool" -j 20 --tmpdir "$SHARED_DIR/spill" \
		"$SHARED_DIR/fpstress" emit "$STRESS_SEED" 200000 c {} >out 2>err < <(seq "$n")
	assert_equal "$STATUS" 0
	check_streams "$n" 200000 whole
	stress_note "$output"
	assert_equal "$MESSAGES" 'forkpool: -j 20: lowered to 6 jobs at once (the process limit)'
}

@test "ulimit -u 8, -j 20, jobs that fork: no hang, and every job that did not print its line counts as failed" {
	nproc_setup
	# The job's shell forks for $(...) and the pipe, and fails when it
	# cannot: 100 jobs, so that the exit status counts every failure.
	printf '#!/bin/sh\nset -e\nx=$(echo "$1" | cat)\necho "ok $x"\n' >"$SHARED_DIR/forky"
	chmod 755 "$SHARED_DIR/forky"
	local round rounds ok
	rounds=$(stress_size 10 2)
	for ((round = 1; round <= rounds; round++)); do
		as_limited 8 "$SHARED_DIR/forkpool" -j 20 "$SHARED_DIR/forky" ::: $(seq 100) >out 2>err
		ok=$(grep -c '^ok [0-9]*$' out || true)
		# 124 would be the hang guard
		[[ $STATUS == $((100 - ok)) ]] || fail "round $round: exit $STATUS with $ok jobs ok: $(head -c 2000 err)"
		assert_equal "$(grep '^ok' out | sort -u | wc -l)" "$ok"
	done
	stress_note "last round: $ok of 100 jobs ok"
}

@test "ulimit -u 1: no job can start and none runs: each fails at once, said once" {
	nproc_setup
	as_limited 1 "$SHARED_DIR/forkpool" -j 1 "$SHARED_DIR/fpstress" spin 10 ::: 1 2 3 >out 2>err
	assert_equal "$STATUS" 3
	assert_equal "$(cat out)" ''
	assert_equal "$(cat err)" "forkpool: job 1: cannot start $SHARED_DIR/fpstress: out of processes
forkpool: 2 more jobs could not start: out of processes"
}
