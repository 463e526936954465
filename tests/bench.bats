#!/usr/bin/env bats
# bench/floor, the bare spawner the benchmark measures forkpool against, and
# the benchmark script's syntax.  The benchmark itself runs as
# `make bench-smoke` (part of `make check`).

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# `make check` builds it; build it here when bats is run on its own.
	if [[ ! -x $FP_ROOT/bench/floor ]]; then
		make -s -C "$FP_ROOT" bench/floor >&2
	fi
}

setup() {
	FLOOR="$FP_ROOT/bench/floor"
	[[ -x $FLOOR ]] || fail "bench/floor not built: make bench/floor"
	cd "$BATS_TEST_TMPDIR"
}

@test "floor runs the command once per line, with the line as last argument" {
	run bash -c 'printf "1\n2\n" | "$1" -P 2 -- echo' _ "$FLOOR"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line 1
	assert_line 2
}

@test "floor passes fixed arguments first and keeps blanks in a record" {
	run bash -c 'printf "a b\n\nlast" | "$1" -P1 -- printf "<%s|%s>\n" x' _ "$FLOOR"
	assert_success
	assert_output $'<x|a b>\n<x|>\n<x|last>'
}

@test "floor never runs more than -P jobs at once" {
	local job
	job=$(mkscript job 'd=$1
: >"$d/run.$2"
ls "$d" | grep -c "^run\." >>"$d/seen"
sleep 0.1
rm -f "$d/run.$2"')
	mkdir state
	run bash -c 'seq 8 | "$1" -P 3 -- "$2" "$PWD/state"' _ "$FLOOR" "$job"
	assert_success
	assert_equal "$(wc -l <state/seen)" 8
	# Every job saw itself running, and never more than 3 running.
	run awk '$1 < 1 || $1 > 3' state/seen
	assert_output ''
}

@test "floor exits 1 when a job fails or cannot start, 2 on a usage error" {
	run bash -c 'printf "1\n2\n" | "$1" -P 2 -- false' _ "$FLOOR"
	assert_failure 1
	run bash -c 'echo x | "$1" -P 1 -- forkpool-bench-no-such-command' _ "$FLOOR"
	assert_failure 1
	run "$FLOOR" -P 0 -- true
	assert_failure 2
	run "$FLOOR" -P 2
	assert_failure 2
	run "$FLOOR" -- true
	assert_failure 2
}

@test "bench/run is valid bash" {
	run bash -n "$FP_ROOT/bench/run"
	assert_success
	[[ -x $FP_ROOT/bench/run ]] || fail "bench/run is not executable"
}

@test "BENCH_ONLY names an unknown scenario: exit 2, the list of scenarios" {
	run env BENCH_ONLY="a zz" "$FP_ROOT/bench/run"
	assert_failure 2
	assert_output 'bench/run: BENCH_ONLY: no scenario zz (there are: a b c d e f g h i j k l m n o q r s t)'
}

@test "without sshd the remote scenarios are reported skipped, the run succeeds" {
	# outside CI: under CI=true a missing sshd is an error (next test)
	run --separate-stderr env -u CI BENCH_QUICK=1 BENCH_PAIRS=1 BENCH_ONLY=q,r \
		FP_SSHD=/nonexistent/sshd BENCH_OUT="$BATS_TEST_TMPDIR/out.md" \
		"$FP_ROOT/bench/run"
	assert_success
	# the rows of q and r only, each tool skipped
	run grep -c '^| [a-z]\. ' "$BATS_TEST_TMPDIR/out.md"
	assert_output 4
	run grep -c '^| [qr]\. .* | skipped (sshd is not installed) | - | - |' \
		"$BATS_TEST_TMPDIR/out.md"
	assert_output 4
	run grep -c '^## What a host costs' "$BATS_TEST_TMPDIR/out.md"
	assert_output 0
}

@test "with CI=true a missing sshd fails the remote scenarios and the run" {
	run --separate-stderr env CI=true BENCH_QUICK=1 BENCH_PAIRS=1 BENCH_ONLY=q \
		FP_SSHD=/nonexistent/sshd BENCH_OUT="$BATS_TEST_TMPDIR/out.md" \
		"$FP_ROOT/bench/run"
	assert_failure
	run grep -c '^| q\. .* | failed (sshd is not installed) | - | - |' \
		"$BATS_TEST_TMPDIR/out.md"
	assert_output 2
}

@test "without the Slurm daemons scenario t is reported skipped, the run succeeds" {
	# outside CI: under CI=true missing daemons are an error (next test)
	run --separate-stderr env -u CI BENCH_QUICK=1 BENCH_PAIRS=1 BENCH_ONLY=t \
		FP_SLURM_SBIN=/nonexistent BENCH_OUT="$BATS_TEST_TMPDIR/out.md" \
		"$FP_ROOT/bench/run"
	assert_success
	# the rows of t only, each of its 5 tools skipped
	run grep -c '^| [a-z]\. ' "$BATS_TEST_TMPDIR/out.md"
	assert_output 5
	run grep -c '^| t\. .* | skipped (munged is not installed) | - | - |' \
		"$BATS_TEST_TMPDIR/out.md"
	assert_output 5
	run grep -c '^- t: skipped (munged is not installed)\.$' \
		"$BATS_TEST_TMPDIR/out.md"
	assert_output 1
}

@test "with CI=true missing Slurm daemons fail scenario t and the run" {
	run --separate-stderr env CI=true BENCH_QUICK=1 BENCH_PAIRS=1 BENCH_ONLY=t \
		FP_SLURM_SBIN=/nonexistent BENCH_OUT="$BATS_TEST_TMPDIR/out.md" \
		"$FP_ROOT/bench/run"
	assert_failure 1
	run grep -c '^| t\. .* | failed (munged is not installed) | - | - |' \
		"$BATS_TEST_TMPDIR/out.md"
	assert_output 5
}
