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
