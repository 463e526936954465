#!/usr/bin/env bats
# Stress: standard output on a full device (/dev/full) while many jobs
# write.  In every mode where forkpool writes the output itself, it prints
# one clear line, ends the running jobs, starts no more and exits 255;
# with -u the jobs get the error themselves and count as failed.  A full
# standard error also ends the run with 255, without a message.

bats_require_minimum_version 1.5.0
load ../helper
load stress

setup_file() {
	stress_build
	# starter ARGS...: leave started.ID (ID is the last argument), then run
	# fpstress ARGS
	mkbin starter 'eval ": >started.\${$#}"
exec "$FPSTRESS" "$@"'
	export STARTER="$BATS_FILE_TMPDIR/bin/starter"
}

setup() {
	fp_setup
	require_cmd timeout
	cd "$BATS_TEST_TMPDIR"
	NJOBS=$(stress_size 10000 1000)
}

teardown() {
	kill_leftovers
}

# full_run OPTIONS...: NJOBS emitting jobs, stdout on /dev/full, stderr in
# err, each job leaving started.ID; STATUS is forkpool's status.
full_run() {
	STATUS=0
	seq "$NJOBS" | timeout 600 "$FP_BIN" -j 8 "$@" "$STARTER" emit \
		"$STRESS_SEED" 200000 c {} >/dev/full 2>err || STATUS=$?
}

@test "stdout on /dev/full in every mode forkpool writes: one clear line, exit 255, the run stops" {
	local mode started
	for mode in --group -k --line-buffer '--group --tag' '-k --line-buffer'; do
		rm -f started.*
		# shellcheck disable=SC2086
		full_run $mode
		[[ $STATUS == 255 ]] || fail "$mode: exit $STATUS"
		# jobs' stderr records are in err too: forkpool's own line is
		# the only one that starts with "forkpool: "
		run "$FPSTRESS" check "$STRESS_SEED" 200000 "$NJOBS" e msgs <err
		assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^forkpool: ')" 1
		assert_line 'forkpool: write error on stdout: No space left on device'
		# no new job after the error: far fewer than NJOBS started
		started=$(ls | grep -c '^started\.')
		((started < NJOBS / 10)) || fail "$mode: $started of $NJOBS jobs started"
		stress_note "$mode: $started of $NJOBS jobs started"
	done
}

@test "stdout on /dev/full with -u: the jobs fail themselves, each counted; forkpool says nothing" {
	# every job runs: fewer of them
	NJOBS=$(stress_size 2000 300)
	full_run -u
	# far more than 100 jobs have output, and fail writing it
	assert_equal "$STATUS" 101
	run grep -ac '^forkpool: ' err
	assert_output 0
	assert_equal "$(ls | grep -c '^started\.')" "$NJOBS"
}

@test "stderr on /dev/full: exit 255 without a message, the run stops" {
	local status=0
	seq "$NJOBS" | timeout 600 "$FP_BIN" -j 8 "$FPSTRESS" emit "$STRESS_SEED" 200000 c {} \
		>out 2>/dev/full || status=$?
	assert_equal "$status" 255
	# what was printed before is whole: the records of the jobs printed
	run --separate-stderr "$FPSTRESS" check "$STRESS_SEED" 200000 "$NJOBS" o whole <out
	[[ $output =~ ^[0-9]+\ records,\ [0-9]+\ bytes,\ 0\ errors,\ [0-9]+\ jobs\ incomplete,\ ([0-9]+)\ seen$ ]] ||
		fail "unexpected check: $output"
	((BASH_REMATCH[1] < NJOBS / 10)) || fail "too many jobs printed: $output"
	stress_note "$output"
}
