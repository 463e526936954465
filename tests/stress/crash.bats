#!/usr/bin/env bats
# Stress: kill -9 at random moments, many times over, then --resume, in
# every output mode, with jobs of 100 short lines and, for --group and -k,
# of 100 lines of 20 KB (held in a spill file past 4 MiB, printed with
# sendfile(2), so that a kill can cut a job's output anywhere).  What the
# runs printed together is checked against the bounds of the man page
# (JOB LOG) by crash_check (tests/crash.bash).

bats_require_minimum_version 1.5.0
load ../helper
load ../crash
load stress

setup_file() {
	crash_setup
}

setup() {
	fp_setup
	require_cmd setsid
	require_cmd pkill
	require_cmd ps
	cd "$BATS_TEST_TMPDIR"
	mkdir tmp
	export TMPDIR="$PWD/tmp"
	KILLS=$(stress_size 30 10)
	# the seed of the kill moments, shown so that a failure can be rerun
	RANDOM=$STRESS_SEED
}

teardown() {
	kill_leftovers
}

# crash_stress WHO MODE DUPS CUTS NJOBS PAD OPTION...: KILLS kills of WHO,
# then the check; the spill directory is left empty.
crash_stress() {
	local who=$1 mode=$2 dups=$3 cuts=$4 njobs=$5 pad=$6
	shift 6
	crash_rounds "$who" "$KILLS" "$njobs" "$pad" "$@"
	((KILLED > 0)) || fail "no run was killed"
	assert_equal "$STATUS_LAST" 0
	assert_equal "$(cat err)" ''
	crash_check "$mode" "$dups" "$cuts" "$njobs" "$pad"
	stress_note "$CRASH_SUMMARY"
	run ls -A tmp
	assert_output ''
}

@test "kill -9 of forkpool, --resume (--group): each job whole at least once; per kill at most one more, cut anywhere" {
	crash_stress fp group 1 1 300 0
}

@test "kill -9 of forkpool, --resume (--group), 2 MB per job: the same" {
	CRASH_MAX_MS=60 crash_stress fp group 1 1 40 20000
}

@test "kill -9 of forkpool, --resume (-k), 2 MB per job: the same, each run in input order" {
	CRASH_MAX_MS=60 crash_stress fp keep 1 1 40 20000 -k
}

@test "kill -9 of forkpool and its jobs, --resume (-k): the same" {
	crash_stress all keep 1 1 300 0 -k
}

@test "kill -9 of forkpool, --resume (--line-buffer): per kill at most -j jobs more, each its first lines" {
	crash_stress fp line 4 4 300 0 --line-buffer
}

@test "kill -9 of forkpool, --resume (-u): per kill at most -j jobs more, printed whole by the jobs left running" {
	crash_stress fp line 4 0 300 0 -u
}

@test "kill -9 of forkpool and its jobs, --resume (-u): per kill at most -j jobs more, each its first lines" {
	crash_stress all line 4 4 300 0 -u
}
