#!/usr/bin/env bats
# Pacing and resource gates: --delay, --load, --memfree, and running out of
# file descriptors or processes.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
	if [[ -n ${SHARED_DIR:-} ]]; then
		rm -rf "$SHARED_DIR"
	fi
}

# MemAvailable in KiB.
mem_available_kb() {
	awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo
}

# --- --delay, --load, --memfree -----------------------------------------------------

@test "--delay 0.3: job starts are at least ~0.3 s apart" {
	local s
	s=$(mkscript stamp 'date +%s.%N >"start.$1"')
	run --separate-stderr fp -j3 --delay 0.3 "$s" ::: 1 2 3
	assert_success
	run bash -c 'cat start.* | sort -n | awk "NR > 1 { printf \"%.0f\\n\", (\$1 - prev) * 1000 } { prev = \$1 }"'
	assert_equal "${#lines[@]}" 2
	local gap
	for gap in "${lines[@]}"; do
		((gap >= 250)) || fail "jobs started only $gap ms apart: $output"
	done
}

@test "--delay with a time unit: 0.005m keeps job starts at least ~0.3 s apart" {
	local s
	s=$(mkscript stamp 'date +%s.%N >"start.$1"')
	run --separate-stderr fp -j3 --delay 0.005m "$s" ::: 1 2 3
	assert_success
	assert_equal "$stderr" ''
	run bash -c 'cat start.* | sort -n | awk "NR > 1 { printf \"%.0f\\n\", (\$1 - prev) * 1000 } { prev = \$1 }"'
	assert_equal "${#lines[@]}" 2
	local gap
	for gap in "${lines[@]}"; do
		((gap >= 250)) || fail "jobs started only $gap ms apart: $output"
	done
}

@test "--delay: the run ends with its last job, not a delay later" {
	# a delay of a day, between starts only: nothing follows the last job
	run --separate-stderr timeout 20 "$FP_BIN" --delay 1d echo ::: a
	assert_success
	assert_output a
	# the input ends while the delay runs
	run --separate-stderr timeout 20 bash -c '{ echo a; sleep 0.5; } | "$0" --delay 1d echo' "$FP_BIN"
	assert_success
	assert_output a
	# and a stop reports the job taken within the delay
	run --separate-stderr timeout 20 "$FP_BIN" --delay 1d --halt now,fail=1 sh -c 'exit $1' sh ::: 3 4
	assert_failure 3
	assert_equal "${stderr_lines[1]}" 'forkpool: job 2: not started: forkpool is stopping'
}

@test "--delay: a duration over 1000000000 seconds is refused" {
	run --separate-stderr fp --delay 31710y touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: --delay 31710y: not a duration such as 90, 1.5s or 1d2h3m4.5s"
	run --separate-stderr fp --delay 11575d touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: --delay 11575d: too large (1000000000 seconds at most)"
	assert_file_not_exists ran
}

@test "--load with a huge maximum, --memfree 1k or half of MemAvailable: jobs run normally" {
	local kb
	kb=$(mem_available_kb)
	local opts
	for opts in "--load 1000000" "--memfree 1k" "--memfree $((kb / 2048))M"; do
		# shellcheck disable=SC2086
		run --separate-stderr fp -k $opts echo ::: a b
		assert_success
		assert_output $'a\nb'
		assert_equal "$stderr" ''
	done
}

@test "--load below the load average starts no job" {
	require_cmd timeout
	awk '{ exit !($1 > 0.0001) }' /proc/loadavg || skip "the load average is 0"
	run --separate-stderr timeout 3 "$FP_BIN" --load 0.0001 touch ran ::: x
	assert_failure 124
	assert_output ''
	assert_file_not_exists ran
}

@test "--load N%: a percentage of the CPUs; 1% of one CPU (0.01) starts no job under a load above it" {
	require_cmd timeout
	require_cmd taskset
	awk '{ exit !($1 > 0.01) }' /proc/loadavg || skip "the load average is 0.01 or less"
	run --separate-stderr timeout 3 taskset -c 0 "$FP_BIN" --load 1% touch ran ::: x
	assert_failure 124
	assert_output ''
	assert_file_not_exists ran
	run --separate-stderr fp -k --load 100000% echo ::: a b
	assert_success
	assert_output $'a\nb'
	assert_equal "$stderr" ''
}

@test "--load N%: bad percentages are rejected with exit 255" {
	local v
	for v in % 0% x% 1.5% 5%% -5% 1000001%; do
		run --separate-stderr fp --load "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		[[ $stderr == "forkpool: --load $v: "* && $stderr != *$'\n'* ]] ||
			fail "$v: unexpected diagnostic: $stderr"
	done
	assert_file_not_exists ran
}

@test "--memfree 100T starts no job" {
	require_cmd timeout
	run --separate-stderr timeout 2 "$FP_BIN" --memfree 100T touch ran ::: x
	assert_failure 124
	assert_output ''
	assert_file_not_exists ran
}

@test "--delay, --load and --memfree: invalid values are rejected with exit 255" {
	local v
	for v in abc -1 '' 5x 1h-2m 2q; do
		run --separate-stderr fp --delay "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --delay $v: not a duration such as 90, 1.5s or 1d2h3m4.5s"
	done
	for v in --load=abc --load=0 --load=-1 --load=1x --load= \
		--memfree=abc --memfree=5X --memfree=-1 --memfree=1kk --memfree=; do
		run --separate-stderr fp "${v%%=*}" "${v#*=}" touch ran ::: x
		assert_failure 255
		assert_output ''
		[[ $stderr == "forkpool: ${v%%=*} ${v#*=}: "* && $stderr != *$'\n'* ]] ||
			fail "$v: unexpected diagnostic: $stderr"
	done
	assert_file_not_exists ran
}

# --- file descriptors and processes -----------------------------------------------------------

@test "ulimit -n 20 with -j 50: one warning naming the lowered number; every job runs" {
	run --separate-stderr bash -c "$CLOSE_FDS"'
		ulimit -n 20
		exec "$FP_BIN" -j 50 echo ::: $(seq 50)'
	assert_success
	assert_equal "$(sort -n <<<"$output")" "$(seq 50)"
	[[ $stderr =~ ^forkpool:\ -j\ 50:\ lowered\ to\ ([0-9]+)\ jobs?\ at\ once\ \(the\ open\ files\ limit\)$ ]] ||
		fail "unexpected diagnostic: $stderr"
	local m=${BASH_REMATCH[1]}
	((m >= 1 && 2 * m <= 20)) || fail "lowered to $m jobs"
}

@test "running out of file descriptors: one warning, fewer jobs at once, every job runs" {
	# -j 10 fits the limit of 30 at two descriptors per job, but forkpool
	# inherits 11 open descriptors (10 to 20).
	local s
	s=$(mkscript slow 'sleep 0.2; echo "$1"')
	run --separate-stderr bash -c "$CLOSE_FDS"'
		ulimit -n 30
		exec "$FP_BIN" -j 10 "$0" ::: $(seq 12) 10<&0 11<&0 12<&0 13<&0 14<&0 15<&0 16<&0 17<&0 18<&0 19<&0 20<&0' "$s" </dev/null
	assert_success
	assert_equal "$(sort -n <<<"$output")" "$(seq 12)"
	[[ $stderr =~ ^forkpool:\ out\ of\ file\ descriptors:\ running\ at\ most\ ([0-9]+)\ jobs?\ at\ once$ ]] ||
		fail "unexpected diagnostic: $stderr"
	local n=${BASH_REMATCH[1]}
	((n >= 1 && n < 10)) || fail "running at most $n jobs"
}

@test "running out of file descriptors, then opening a spill file: still one warning" {
	# 30 open files, 16 of them forkpool's own (0-2, its own descriptions
	# of stdout and stderr, its signalfd and 10 inherited): 6 jobs' pipes
	# fit, with the 2 more a start takes, not 7.  Job 1 waits for job 30,
	# so -k holds 29 x 256 KiB and opens a spill file; then 5 running jobs
	# and a spill file leave no room for a 6th: a second EMFILE, no new
	# warning.
	local s
	s=$(mkscript gen 'if [ "$1" = 1 ]; then
	i=0
	while [ ! -e flag ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
elif [ "$1" = 30 ]; then
	: >flag
fi
head -c 262144 /dev/zero | tr "\0" "$(($1 % 10))"; echo')
	run --separate-stderr bash -c "$CLOSE_FDS"'
		ulimit -n 30
		exec "$FP_BIN" -k -j 10 --tmpdir . "$0" ::: $(seq 30) 10<&0 11<&0 12<&0 13<&0 14<&0 15<&0 16<&0 17<&0 18<&0 19<&0' "$s" </dev/null
	assert_success
	[[ $stderr =~ ^forkpool:\ out\ of\ file\ descriptors:\ running\ at\ most\ 6\ jobs\ at\ once$ ]] ||
		fail "unexpected diagnostics: $stderr"
	assert_equal "$(printf '%s\n' "$output" | cut -c1-3 | paste -sd ' ')" \
		"$(for i in $(seq 30); do printf '%s\n' "$((i % 10))$((i % 10))$((i % 10))"; done | paste -sd ' ')"
	assert_equal "$(printf '%s\n' "$output" | wc -c)" "$((30 * 262145))"
}

@test "running out of processes: starts are retried until every job has run" {
	require_cmd setpriv
	[[ $(id -u) == 0 ]] || skip "needs root to run as nobody under a process limit"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# Run as nobody, allowed forkpool and 3 more processes: -j 4 then hits
	# EAGAIN.  The jobs do not fork; each prints its start time.
	SHARED_DIR=$(mktemp -d /tmp/forkpool-nproc.XXXXXX)
	chmod 755 "$SHARED_DIR"
	printf '#!/bin/bash\necho "$1 $EPOCHREALTIME"\nexec sleep 0.3\n' >"$SHARED_DIR/job"
	chmod 755 "$SHARED_DIR/job"
	# nobody may not reach the build tree (a private temporary clone)
	cp "$FP_BIN" "$SHARED_DIR/forkpool"
	chmod 755 "$SHARED_DIR/forkpool"
	local others
	others=$(ps -L -u nobody --no-headers 2>/dev/null | wc -l)
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		bash -c 'cd / && ulimit -u "$1" && exec "$3" -j 4 "$2" ::: 1 2 3 4 5 6 7 8' \
		_ "$((others + 4))" "$SHARED_DIR/job" "$SHARED_DIR/forkpool"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(cut -d ' ' -f 1 <<<"$output" | sort -n | paste -sd ' ')" '1 2 3 4 5 6 7 8'
	# at most 3 ran at once: the 4th start is at least ~0.3 s after the 1st
	run bash -c 'cut -d " " -f 2 <<<"$1" | sort -n | awk "NR == 1 { a = \$1 } NR == 4 { printf \"%.0f\\n\", (\$1 - a) * 1000 }"' _ "$output"
	((output >= 250)) || fail "4 jobs started within $output ms: the process limit was not hit"
}

@test "no job can start and none is running: said once, every record fails at once" {
	run --separate-stderr timeout 20 bash -c 'ulimit -n 7; seq 3 | "$FP_BIN" -j4 echo'
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" "forkpool: -j 4: the open files limit (7) leaves room for one job at most
forkpool: job 1: cannot start echo: out of file descriptors
forkpool: 2 more jobs could not start: out of file descriptors"
}

@test "no job can start under a joblog: each record has its failed row" {
	run --separate-stderr timeout 20 bash -c 'ulimit -n 8; seq 2 | "$FP_BIN" -j1 --joblog jl echo'
	assert_failure 2
	assert_equal "$(cut -f1,7 jl | tail -n +2)" $'1\t126\n2\t126'
}

@test "--load takes plain decimal numbers only: no blanks, sign, exponent, hex or inf" {
	local v
	for v in inf 1e3 ' 5' 0x10 +5 5. .5. nan 1,5; do
		run --separate-stderr fp --load "$v" touch ran ::: x
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: --load $v: must be a decimal number above 0, or N% of the CPUs"
	done
	assert_file_not_exists ran
	run --separate-stderr fp -k --load 1000000.5 echo ::: a b
	assert_success
	assert_output $'a\nb'
}

@test "durations: one above 0 but below 1 ms is 1 ms; every duration option says the same when too large" {
	# GNU parallel accepts it too; the job is ended at once
	run --separate-stderr fp --timeout 0.0001 sleep 5 ::: x
	assert_failure 1
	assert_output ''
	run --separate-stderr fp --timeout 0 touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --timeout 0: must be more than 0'
	run --separate-stderr fp --st -1000000001 --semaphore true
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --semaphoretimeout -1000000001: too large (1000000000 seconds at most)'
	run --separate-stderr fp --timeout 1000000001 touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --timeout 1000000001: too large (1000000000 seconds at most)'
	assert_file_not_exists ran
}

# Export variables until the environment leaves about $1 bytes of ARG_MAX
# for a command line.
big_env() {
	local argmax v i=0 used
	argmax=$(getconf ARG_MAX)
	v=$(head -c 100000 /dev/zero | tr '\0' x)
	used=$(env | wc -c)
	while ((argmax - used - 100100 > $1)); do
		export "FP_BIG$i=$v"
		used=$((used + 100100))
		i=$((i + 1))
	done
	export "FP_BIG$i=${v:0:argmax - used - $1}"
}

@test "the default line limit leaves room for the environment and for argv's pointers" {
	big_env 250000
	seq 30000 >in
	# 30000 arguments: 169 KB of bytes, 240 KB of pointers.
	run --separate-stderr "$FP_BIN" -X -j1 sh -c 'echo $#' sh {} :::: in
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(awk '{ n += $1 } END { print n }' <<<"$output")" 30000
	[[ ${#lines[@]} -gt 1 ]] || fail "one job of 30000 arguments"
}

@test "a small room left by the environment is the default -s and what --max-line-length-allowed prints" {
	big_env 60000
	run --separate-stderr "$FP_BIN" --max-line-length-allowed
	assert_success
	((output < 60000 && output > 30000)) || fail "limit $output"
	local max=$output
	run --separate-stderr "$FP_BIN" -s $((max + 1)) echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: -s $((max + 1)): more than the $max bytes the environment leaves"
	seq 20000 >in
	run --separate-stderr "$FP_BIN" -X -j1 sh -c 'echo $#' sh {} :::: in
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(awk '{ n += $1 } END { print n }' <<<"$output")" 20000
}

@test "an environment that leaves no room for a command line is refused at start, as xargs does" {
	big_env 100
	run --separate-stderr "$FP_BIN" true ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: the environment is too large: it leaves less than 256 bytes of the system'"'"'s limit for a command line'
}
