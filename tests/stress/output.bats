#!/usr/bin/env bats
# Stress: 10,000 jobs (1,000 with STRESS_QUICK=1), 8 at once, write random
# amounts (0 B to 1 MiB, mostly small) of records on stdout and stderr, in
# every output mode.  fpstress checks that every record of every job
# arrives exactly once, byte for byte, in the job's order, and whole as
# the mode promises: each job's output in one piece (--group, -k), in
# input order (-k), lines never cut (--line-buffer), tagged (--tag).

bats_require_minimum_version 1.5.0
load ../helper
load stress

setup_file() {
	stress_build
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	NJOBS=$(stress_size 10000 1000)
}

teardown() {
	kill_leftovers
}

# stress_output MAXFILL WRITES CHECKS -- OPTIONS...: run NJOBS jobs
# "fpstress emit SEED MAXFILL WRITES ID" with forkpool OPTIONS, then check
# what came out on each stream (CHECKS as for fpstress check), the exit
# status, and that the spill directory is left empty.
stress_output() {
	local maxfill=$1 writes=$2 checks=$3 status=0 start=$SECONDS
	shift 4
	mkdir spill
	# shellcheck disable=SC2086
	seq "$NJOBS" | timeout "$(stress_size 1800 600)" "$FP_BIN" -j 8 \
		--tmpdir spill "$@" "$FPSTRESS" emit "$STRESS_SEED" "$maxfill" \
		"$writes" {} >out 2>err || status=$?
	assert_equal "$status" 0
	# shellcheck disable=SC2086
	run "$FPSTRESS" check "$STRESS_SEED" "$maxfill" "$NJOBS" o $checks <out
	assert_success
	stress_note "${*:---group} stdout: $output"
	# shellcheck disable=SC2086
	run "$FPSTRESS" check "$STRESS_SEED" "$maxfill" "$NJOBS" e $checks <err
	assert_success
	stress_note "${*:---group} stderr: $output; $((SECONDS - start)) s"
	run ls -A spill
	assert_output ''
}

@test "--group (default): every record once, each job's stdout and stderr in one piece" {
	stress_output 200000 c whole --
}

@test "--group --tag: every record once and tagged, each job in one piece" {
	stress_output 200000 c 'tag whole' -- --tag
}

@test "-k: every record once, each job in one piece, in input order" {
	stress_output 200000 c 'whole ordered' -- -k
}

@test "-k --tag: every record once and tagged, each job in one piece, in input order" {
	stress_output 200000 c 'tag whole ordered' -- -k --tag
}

@test "--line-buffer: every record once, no line cut (lines up to 200 KB)" {
	stress_output 200000 c '' -- --line-buffer
}

@test "--line-buffer --tag: every record once, no line cut, each line tagged" {
	stress_output 200000 c tag -- --line-buffer --tag
}

@test "-k --line-buffer: every record once, each job in one piece, in input order" {
	stress_output 200000 c 'whole ordered' -- -k --line-buffer
}

@test "-u: every record once (each written whole, below PIPE_BUF, by the job itself)" {
	stress_output 3000 r '' -- -u
}
