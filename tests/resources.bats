#!/usr/bin/env bats
# What forkpool itself costs: memory stays flat, sleeping jobs cost no CPU,
# and failures to write or hold output are reported.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	require_cmd /usr/bin/time
	cd "$BATS_TEST_TMPDIR"
}

# peak_kb CMD...: run CMD (stdout to /dev/null), print its peak RSS in KiB.
peak_kb() {
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@" >/dev/null
	cat "$BATS_TEST_TMPDIR/rss"
}

@test "2 million records with --dry-run: forkpool stays under 16 MiB" {
	run bash -c 'seq 2000000 | /usr/bin/time -f %M -o rss "$FP_BIN" --dry-run echo | tail -n 1; cat rss'
	assert_success
	assert_line --index 0 'echo 2000000'
	skip_if_sanitized "ASan's shadow memory alone is over the 16 MiB bound"
	(( ${lines[1]} < 16384 )) || fail "peak RSS ${lines[1]} KiB"
}

@test "a 256 MiB record: reported as too long with forkpool under 32 MiB, the records around it run" {
	# 256 MiB of 'r' between two short records: the record is not held
	# once it cannot fit a command line (it was: 1 GiB peak RSS).
	run bash -c '{ echo a; head -c 268435456 /dev/zero | tr "\0" r; printf "\nc\n"; } |
		/usr/bin/time -f %M -o rss "$FP_BIN" -k echo 2>err; echo "exit $?"; cat err; tail -n 1 rss'
	assert_success
	assert_line --index 0 'a'
	assert_line --index 1 'c'
	assert_line --index 2 'exit 1'
	assert_regex "${lines[3]}" '^forkpool: input record 2: too long for a command line of [0-9]+ bytes$'
	assert_equal "${#lines[@]}" 5
	skip_if_sanitized "ASan's shadow memory alone is over the 32 MiB bound"
	(( ${lines[4]} < 32768 )) || fail "peak RSS ${lines[4]} KiB"
}

@test "1500 real jobs without -k: forkpool stays under 16 MiB" {
	run bash -c 'seq 1500 | /usr/bin/time -f %M -o rss "$FP_BIN" -j2 true; echo $?; cat rss'
	assert_success
	assert_line --index 0 '0'
	skip_if_sanitized "ASan's shadow memory alone is over the 16 MiB bound"
	(( ${lines[1]} < 16384 )) || fail "peak RSS ${lines[1]} KiB"
}

@test "-k with 200 MB held behind a slow job: output intact, RSS under 64 MiB" {
	local s
	s=$(mkscript gen 'if [ "$1" = 0 ]; then sleep 1; echo first; else seq 12000000; fi')
	run bash -c '/usr/bin/time -f %M -o rss "$FP_BIN" -k -j3 "$1" ::: 0 1 2 | cksum; cat rss' _ "$s"
	assert_success
	local want
	want=$({ echo first; seq 12000000; seq 12000000; } | cksum)
	assert_line --index 0 "$want"
	(( ${lines[1]} < 65536 )) || fail "peak RSS ${lines[1]} KiB"
}

@test "-k keeps the pool full behind a slow first job" {
	# job 1 waits until jobs 2..4 have all run: with -j2 that is only
	# possible when later jobs start while job 1 is unfinished.
	local s
	s=$(mkscript slow 'if [ "$1" = 1 ]; then
	i=0
	while [ ! -e done.4 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -e done.4 ] && echo "1 saw 4" || echo "1 timed out"
else
	: >done.$1; echo $1
fi')
	run "$FP_BIN" -k -j2 "$s" ::: 1 2 3 4
	assert_success
	assert_output $'1 saw 4\n2\n3\n4'
}

@test "--line-buffer -k: the oldest job prints live, later ones are held" {
	# job 2 finishes first but its lines come after job 1's
	run "$FP_BIN" -k --line-buffer -j2 'sleep 0.{}; echo a{}; echo b{}' ::: 5 1
	assert_success
	assert_output $'a5\nb5\na1\nb1'
}

@test "jobs that sleep cost forkpool no CPU (no busy waiting)" {
	# 4 jobs sleeping 1 s: a polling loop would burn most of a second
	run bash -c '/usr/bin/time -f "%U %S" -o cpu "$FP_BIN" -j4 sleep 1 ::: 0 0 0 0 && cat cpu'
	assert_success
	local user sys
	read -r user sys <<<"$output"
	awk -v u="$user" -v s="$sys" 'BEGIN { exit !(u + s < 0.2) }' ||
		fail "forkpool used ${user}s user + ${sys}s system CPU"
}

@test "stdout on a full device: one clear error, exit 255" {
	run --separate-stderr bash -c '"$FP_BIN" echo {} ::: a b >/dev/full'
	assert_failure 255
	assert_equal "$stderr" 'forkpool: write error on stdout: No space left on device'
}

@test "stdout on a full device with -k, --line-buffer or --tag: the same one error, exit 255" {
	local mode
	for mode in -k --line-buffer --tag '-k --line-buffer'; do
		# shellcheck disable=SC2086
		run --separate-stderr bash -c '"$FP_BIN" '"$mode"' echo {} ::: a b c >/dev/full'
		assert_failure 255
		assert_equal "$stderr" 'forkpool: write error on stdout: No space left on device'
	done
}

@test "stdout on a full device with -u: the jobs fail on their own, forkpool says nothing of its own" {
	local s
	s=$(mkscript wr 'echo "$1" || exit 3')
	run --separate-stderr bash -c '"$FP_BIN" -u "$1" ::: a b c >/dev/full' _ "$s"
	assert_failure 3
	[[ $stderr != *forkpool:* ]] || fail "forkpool spoke: $stderr"
}

@test "--dry-run to a full device: one clear error, exit 255" {
	run --separate-stderr bash -c '"$FP_BIN" --dry-run echo {} ::: a b >/dev/full'
	assert_failure 255
	assert_equal "$stderr" 'forkpool: write error on stdout: No space left on device'
}

@test "held output with nowhere to spill: a clear error naming the directory, exit 255" {
	local s
	s=$(mkscript gen 'if [ "$1" = 0 ]; then sleep 0.5; else seq 2000000; fi')
	run --separate-stderr "$FP_BIN" -k -j2 --tmpdir "$BATS_TEST_TMPDIR/missing" "$s" ::: 0 1
	assert_failure 255
	assert_equal "$stderr" "forkpool: cannot create a spill file in $BATS_TEST_TMPDIR/missing: No such file or directory"
}
