#!/usr/bin/env bats
# Output handling: --group, -k, --line-buffer, -u, --tag, --tagstring, -v, -t,
# --tmpdir, large outputs, closed stdout.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	# mixed ID: alternates stderr and stdout lines
	MIXED=$(mkscript mixed 'echo "e1 $1" >&2; echo "o1 $1"; sleep 0.05; echo "e2 $1" >&2; echo "o2 $1"')
	# sleeper SECONDS: sleep, then print SECONDS
	SLEEPER=$(mkscript sleeper 'sleep "$1"; echo "$1"')
	# held FLAG LIMIT: print "first", wait up to LIMIT tenths of a second for FLAG to
	# exist, then say whether it appeared
	HELD=$(mkscript held 'echo first
i=0
while [ ! -e "$1" ] && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
if [ -e "$1" ]; then echo released; else echo timeout; fi')
}

# early_output LIMIT FORKPOOL-OPTIONS...: run one held job; a reader creates
# the flag as soon as it sees "first".  Output is "first" followed by
# "released" when forkpool passed the line on before the job ended.
early_output() {
	local limit=$1
	shift
	local flag="$BATS_TEST_TMPDIR/flag.$RANDOM"
	"$FP_BIN" "$@" "$HELD" "$flag" "$limit" ::: x | while IFS= read -r line; do
		printf '%s\n' "$line"
		if [ "$line" = first ]; then : >"$flag"; fi
	done
}

# --- --group ------------------------------------------------------------------

@test "--group (default): each job's stdout, then its stderr" {
	run fp -k -j2 "$MIXED" ::: a b
	assert_success
	assert_output $'o1 a\no2 a\ne1 a\ne2 a\no1 b\no2 b\ne1 b\ne2 b'
}

@test "--group given explicitly behaves like the default" {
	run fp -k -j2 --group "$MIXED" ::: a b
	assert_success
	assert_output $'o1 a\no2 a\ne1 a\ne2 a\no1 b\no2 b\ne1 b\ne2 b'
}

@test "stdout stays on stdout and stderr stays on stderr" {
	run --separate-stderr fp -k -j2 "$MIXED" ::: a b
	assert_success
	assert_output $'o1 a\no2 a\no1 b\no2 b'
	assert_equal "$stderr" $'e1 a\ne2 a\ne1 b\ne2 b'
}

@test "--group: concurrent jobs' outputs are never interleaved" {
	local s
	s=$(mkscript talk 'i=0
while [ $i -lt 4 ]; do echo "$1 out $i"; echo "$1 err $i" >&2; sleep 0.05; i=$((i + 1)); done')
	run fp -j4 "$s" ::: a b c d
	assert_success
	assert_equal "${#lines[@]}" 32
	local all=$output id
	# exactly one run of consecutive lines per job
	run bash -c 'printf "%s\n" "$1" | cut -d" " -f1 | uniq | sort | paste -sd" "' _ "$all"
	assert_output 'a b c d'
	# and within it the job's stdout first, then its stderr
	for id in a b c d; do
		run grep "^$id " <<<"$all"
		assert_output "$(printf "$id out %d\n" 0 1 2 3; printf "$id err %d\n" 0 1 2 3)"
	done
}

@test "--group: large concurrent outputs on both streams stay whole per job" {
	local s
	s=$(mkscript big 'seq 30000 | sed "s/^/$1 out /"; seq 30000 | sed "s/^/$1 err /" >&2')
	run bash -c '"$FP_BIN" -j4 "$1" ::: a b c d 2>&1 | cut -d" " -f1,2 | uniq -c | sed "s/^ *//"' _ "$s"
	assert_success
	assert_equal "${#lines[@]}" 8
	local i id
	for ((i = 0; i < 8; i += 2)); do
		id=${lines[i]#30000 }
		id=${id% out}
		assert_equal "${lines[i]}" "30000 $id out"
		assert_equal "${lines[i + 1]}" "30000 $id err"
	done
	run bash -c 'printf "%s\n" "$@" | grep out | cut -d" " -f2 | sort | paste -sd" "' _ "${lines[@]}"
	assert_output 'a b c d'
}

@test "--group: output appears only when the job finishes" {
	run early_output 10
	assert_success
	assert_output $'first\ntimeout'
}

# --- order ------------------------------------------------------------------------

@test "-k prints in input order whatever the completion order" {
	run fp -k -j6 "$SLEEPER" ::: 0.3 0 0.2 0.1 0 0.25
	assert_success
	assert_output $'0.3\n0\n0.2\n0.1\n0\n0.25'
}

@test "--keep-order is the long form of -k" {
	run fp --keep-order -j3 "$SLEEPER" ::: 0.3 0.1 0
	assert_success
	assert_output $'0.3\n0.1\n0'
}

@test "without -k output is in completion order" {
	run fp -j2 "$SLEEPER" ::: 0.6 0
	assert_success
	assert_output $'0\n0.6'
}

@test "-k keeps order for input from stdin" {
	run fpin $'0.2\n0\n0.1\n' -k -j3 "$SLEEPER"
	assert_success
	assert_output $'0.2\n0\n0.1'
}

# --- --line-buffer ----------------------------------------------------------------

@test "--line-buffer prints lines as soon as they arrive" {
	run early_output 50 --line-buffer
	assert_success
	assert_output $'first\nreleased'
}

@test "--line-buffer never splits a line written in pieces" {
	local s
	s=$(mkscript pieces 'printf "%s-start " "$1"; sleep 0.3; printf "%s-end\n%s-second\n" "$1" "$1"')
	run fp --line-buffer -j2 "$s" ::: a b
	assert_success
	run sort <<<"$output"
	assert_output $'a-second\na-start a-end\nb-second\nb-start b-end'
}

@test "--line-buffer keeps stdout and stderr apart" {
	run --separate-stderr fp --line-buffer -j2 "$MIXED" ::: a b
	assert_success
	run sort <<<"$output"
	assert_output $'o1 a\no1 b\no2 a\no2 b'
	run sort <<<"$stderr"
	assert_output $'e1 a\ne1 b\ne2 a\ne2 b'
}

@test "--line-buffer keeps 1 MiB lines of concurrent jobs intact" {
	local s
	s=$(mkscript mib 'i=0
while [ $i -lt 3 ]; do head -c 1048576 /dev/zero | tr "\0" "$1"; echo; i=$((i + 1)); done')
	run bash -c 'set -o pipefail; "$FP_BIN" --line-buffer -j4 "$1" ::: a b c d |
		awk "{ n++; c = substr(\$0, 1, 1); if (length(\$0) != 1048576 || gsub(c, \"\") != 1048576) bad++; cnt[c]++ }
		     END { printf \"%d %d a%d b%d c%d d%d\n\", n, bad, cnt[\"a\"], cnt[\"b\"], cnt[\"c\"], cnt[\"d\"] }"' _ "$s"
	assert_success
	assert_output '12 0 a3 b3 c3 d3'
}

# --- -u ---------------------------------------------------------------------------

@test "-u passes output straight through, before the job ends" {
	run early_output 50 -u
	assert_success
	assert_output $'first\nreleased'
}

@test "--ungroup keeps stdout and stderr apart" {
	run --separate-stderr fp --ungroup -j2 "$MIXED" ::: a b
	assert_success
	run sort <<<"$output"
	assert_output $'o1 a\no1 b\no2 a\no2 b'
	run sort <<<"$stderr"
	assert_output $'e1 a\ne1 b\ne2 a\ne2 b'
}

# --- --tag / --tagstring ------------------------------------------------------------

@test "--tag prefixes every output line with the arguments and a TAB" {
	local s
	s=$(mkscript two 'echo "1 $1"; echo "2 $1"')
	run fp -k --tag "$s" ::: a 'b c'
	assert_success
	assert_output $'a\t1 a\na\t2 a\nb c\t1 b c\nb c\t2 b c'
}

@test "--tagstring prefixes with STR after replacement, and a TAB" {
	local s
	s=$(mkscript two 'echo "1 $1"; echo "2 $1"')
	run fp -k --tagstring 'J{#}-{.}' "$s" ::: a.x b.y
	assert_success
	assert_output $'J1-a\t1 a.x\nJ1-a\t2 a.x\nJ2-b\t1 b.y\nJ2-b\t2 b.y'
}

@test "--tagstring with a plain string" {
	run fp -k --tagstring TAG echo ::: a b
	assert_success
	assert_output $'TAG\ta\nTAG\tb'
}

# --- -v / -t ------------------------------------------------------------------------

@test "-v prints each command on stdout before its output" {
	run --separate-stderr fp -k -v echo ::: a b
	assert_success
	assert_output $'echo a\na\necho b\nb'
	assert_equal "$stderr" ""
}

@test "-t prints each command on stderr when it starts" {
	run --separate-stderr fp -k -j1 -t echo ::: a b
	assert_success
	assert_output $'a\nb'
	assert_equal "$stderr" $'echo a\necho b'
}

@test "--verbose is the long form of -t" {
	run --separate-stderr fp -k -j1 --verbose echo x ::: a
	assert_success
	assert_output 'x a'
	assert_equal "$stderr" 'echo x a'
}

# --- big outputs and --tmpdir ---------------------------------------------------------

# spill DIR: job "wait" waits for a flag; job "big" writes about 100 MB, records
# what forkpool has open and what DIR holds, then sets the flag.
make_spill_script() {
	mkscript spill 'flag=$1 dir=$2
case $3 in
wait)
	i=0
	while [ ! -e "$flag" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -e "$flag" ]; then echo released; else echo timeout; fi ;;
big)
	seq 13000000
	ls -l /proc/$PPID/fd/ >"$flag.fds" 2>&1
	ls -A "$dir" >"$flag.dir"
	: >"$flag" ;;
esac'
}

@test "-k: a job writing 100 MB arrives intact; held output spills into --tmpdir" {
	local s t="$BATS_TEST_TMPDIR/spill.d" flag="$BATS_TEST_TMPDIR/flag"
	mkdir "$t"
	s=$(make_spill_script)
	run bash -c 'set -o pipefail; "$FP_BIN" -k -j2 --tmpdir "$1" "$2" "$3" "$1" {} ::: wait big | cksum' _ "$t" "$s" "$flag"
	assert_success
	local got=$output
	run bash -c '{ echo released; seq 13000000; } | cksum'
	assert_equal "$got" "$output"
	# while held, the spill file was open in forkpool or present in --tmpdir
	if ! grep -qF "$t/" "$flag.fds" && [ ! -s "$flag.dir" ]; then
		fail "no spill file in --tmpdir $t while output was held"
	fi
	# and nothing is left behind
	run ls -A "$t"
	assert_output ''
}

@test "-k: held output spills into \$TMPDIR without --tmpdir" {
	local s t="$BATS_TEST_TMPDIR/envtmp.d" flag="$BATS_TEST_TMPDIR/flag"
	mkdir "$t"
	s=$(make_spill_script)
	run env TMPDIR="$t" bash -c 'set -o pipefail; "$FP_BIN" -k -j2 "$2" "$3" "$1" {} ::: wait big | wc -c' _ "$t" "$s" "$flag"
	assert_success
	local got=$output
	run bash -c '{ echo released; seq 13000000; } | wc -c'
	assert_equal "$got" "$output"
	if ! grep -qF "$t/" "$flag.fds" && [ ! -s "$flag.dir" ]; then
		fail "no spill file in TMPDIR $t while output was held"
	fi
	run ls -A "$t"
	assert_output ''
}

@test "-k: output held past the memory budget arrives intact on a pipe, a file, an appended file, with --tag" {
	local s want wanterr
	# job 1 keeps job 2 held; job 2 writes 20 MB on stdout, 6 MB on stderr
	s=$(mkscript held 'case $1 in
1) sleep 1; echo first ;;
2) seq 3000000; seq 800000 >&2 ;;
esac')
	want=$({ echo first; seq 3000000; } | cksum)
	wanterr=$(seq 800000 | cksum)
	run bash -c 'set -o pipefail; "$FP_BIN" -k -j2 "$1" ::: 1 2 2>"$2" | cksum' _ "$s" "$BATS_TEST_TMPDIR/e1"
	assert_success
	assert_output "$want"
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/e1")" "$wanterr"
	"$FP_BIN" -k -j2 "$s" ::: 1 2 >"$BATS_TEST_TMPDIR/o2" 2>"$BATS_TEST_TMPDIR/e2"
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/o2")" "$want"
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/e2")" "$wanterr"
	echo first >"$BATS_TEST_TMPDIR/o3"
	"$FP_BIN" -k -j2 "$s" ::: 1 2 >>"$BATS_TEST_TMPDIR/o3" 2>>"$BATS_TEST_TMPDIR/e3"
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/o3")" "$({ echo first; echo first; seq 3000000; } | cksum)"
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/e3")" "$wanterr"
	run bash -c 'set -o pipefail; "$FP_BIN" -k -j2 --tag "$1" ::: 1 2 2>/dev/null | cksum' _ "$s"
	assert_success
	assert_output "$({ printf '1\tfirst\n'; seq 3000000 | sed 's/^/2\t/'; } | cksum)"
}

@test "-k: the head job's output, passed on as it comes, arrives whole on a slow pipe, a shared 2>&1 pipe and an appended file" {
	local want
	want=$(for i in 1 2 3; do seq $((i * 300000)); echo "E$i"; done | cksum)
	run bash -c '"$FP_BIN" -k -j2 sh -c "seq \$((\$1 * 300000)); echo E\$1 >&2" sh ::: 1 2 3 2>&1 | (sleep 1; cat) | cksum'
	assert_success
	assert_output "$want"
	echo old >"$BATS_TEST_TMPDIR/o"
	"$FP_BIN" -k -j2 sh -c 'seq $(($1 * 300000)); echo E$1 >&2' sh ::: 1 2 3 >>"$BATS_TEST_TMPDIR/o" 2>&1
	assert_equal "$(cksum <"$BATS_TEST_TMPDIR/o")" "$({ echo old; for i in 1 2 3; do seq $((i * 300000)); echo "E$i"; done; } | cksum)"
}

# --- closed stdout ------------------------------------------------------------------

@test "stdout closed by the reader: prompt exit 141, no error messages" {
	local s mode
	# 200 jobs of 0.5 s: running them all would outlast the timeout
	s=$(mkscript lots 'sleep 0.5; seq 20000')
	for mode in --group -k --line-buffer; do
		echo "checking $mode"
		run bash -c 'seq 200 | timeout 20 "$FP_BIN" "$1" "$2" 2>"$3" | head -n 1; echo "status=${PIPESTATUS[1]}"' \
			_ "$mode" "$s" "$BATS_TEST_TMPDIR/err"
		assert_output $'1\nstatus=141'
		run cat "$BATS_TEST_TMPDIR/err"
		assert_output ''
	done
}

@test "stdout closed by the reader while held output was on disk: exit 141, no message" {
	# 4 jobs of 6.9 MB at -j2: what waits for stdout is held past the
	# memory budget, in the spill file, when head goes
	run --separate-stderr bash -c '"$FP_BIN" -j2 "seq {}" ::: 1000000 1000000 1000000 1000000 |
		head -n 1; echo "status=${PIPESTATUS[0]}"'
	assert_output $'1\nstatus=141'
	assert_equal "$stderr" ''
}

# stalled CMD...: run forkpool CMD... in the background with its stdout on a
# FIFO whose reader sleeps, never reading; FP_PID is forkpool's pid.
stalled() {
	mkfifo stall
	sleep 60 <stall &
	READER_PID=$!
	"$FP_BIN" "$@" </dev/null >stall 2>err 3>&- &
	FP_PID=$!
}

# gone PID [SECONDS]: wait (at most SECONDS, default 5) for PID to exit.
gone() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

@test "stdout stalled: SIGTERM still ends forkpool at once, exit 143" {
	stalled head -c 10000000 /dev/zero ::: 1
	sleep 1
	kill -TERM "$FP_PID"
	gone "$FP_PID" 5 || { kill -9 "$FP_PID"; fail "forkpool blocked in a write"; }
	local status=0
	wait "$FP_PID" || status=$?
	assert_equal "$status" 143
	kill "$READER_PID"
}

@test "stdout stalled: --timeout ends a job on time while another job's output waits" {
	stalled -j2 --timeout 2 sh -c {} ::: 'head -c 10000000 /dev/zero' 'echo $$ >slow.pid; exec sleep 30'
	wait_files 1 slow.pid
	# ended by --timeout after 2 s, not when the reader wakes up
	gone "$(cat slow.pid)" 6 || fail "the timed-out job still runs"
	kill -TERM "$FP_PID"
	gone "$FP_PID" 5 || { kill -9 "$FP_PID"; fail "forkpool blocked in a write"; }
	kill "$READER_PID"
}

@test "stdout stalled: SIGUSR1 is answered at once" {
	stalled -j2 sh -c {} ::: 'head -c 10000000 /dev/zero' 'sleep 30'
	sleep 1
	kill -USR1 "$FP_PID"
	local i
	for ((i = 0; i < 40; i++)); do
		grep -q 'running: job 2' err && break
		sleep 0.05
	done
	# job 1 has ended, its output waits for the reader; job 2 runs
	assert_equal "$(grep -c 'forkpool: running: job 2, ' err)" 1
	kill -TERM "$FP_PID"
	gone "$FP_PID" 5 || kill -9 "$FP_PID"
	kill "$READER_PID"
}

@test "stdout stalled: time a job spends held up by the stalled stream is not its --timeout's" {
	# The reader takes nothing for 4 s: the job's 10 MB wait in its pipe
	# for all that time, more than its --timeout of 2 s.
	run bash -c '"$FP_BIN" -k --timeout 2 --joblog jl sh -c "head -c 10000000 /dev/zero; echo done" ::: 1 | (sleep 4; cat) | tail -c 5'
	assert_success
	assert_output done
	assert_equal "$(tail -n +2 jl | cut -f7)" 0
	# Job 2 writes while job 1's output waits for the stream.
	run bash -c '"$FP_BIN" -j1 --timeout 2 sh -c "head -c 10000000 /dev/zero; echo done" ::: 1 2 | (sleep 4; cat) | grep -c done'
	assert_success
	assert_output 2
	# Fed no input while the stream is stalled, a --pipe job waits too.
	run bash -c 'yes | head -c 30000000 | "$FP_BIN" --pipe --block 10M -j1 --timeout 2 sh -c "cat; echo done" | (sleep 4; cat) | grep -c done'
	assert_success
	assert_output 3
}

@test "stdout stalled: a job that left output unread but is not blocked still times out" {
	# Job 2 writes 40 kB once the stream is stalled (more than half its
	# pipe, which it could still write to), then idles.
	stalled -j2 --timeout 2 sh -c {} ::: 'head -c 10000000 /dev/zero' \
		'sleep 1; head -c 40000 /dev/zero; echo $$ >idle.pid; exec sleep 30'
	wait_files 1 idle.pid
	gone "$(cat idle.pid)" 6 || fail "the idle job was not timed"
	kill -TERM "$FP_PID"
	gone "$FP_PID" 5 || { kill -9 "$FP_PID"; fail "forkpool blocked in a write"; }
	kill "$READER_PID"
}

@test "stdout stalled: a job's own time still counts against its --timeout" {
	# After its output, the job sleeps: it is ended 2 s later, not held.
	run bash -c 'set -o pipefail; "$FP_BIN" -k --timeout 2 --joblog jl sh -c "head -c 10000000 /dev/zero; exec sleep 30" ::: 1 | (sleep 4; cat) | wc -c'
	assert_failure 1
	assert_output 10000000
	assert_equal "$(tail -n +2 jl | cut -f7)" -1
}

@test "a slow reader gets every byte, in order, with the joblog row after each job's output" {
	run bash -c '"$FP_BIN" -k --joblog jl "seq {}" ::: 200000 100000 300000 | (sleep 1; cat) | cksum'
	assert_success
	assert_output "$( (seq 200000; seq 100000; seq 300000) | cksum)"
	assert_equal "$(tail -n +2 jl | wc -l)" 3
}

@test "forkpool leaves the O_NONBLOCK flag of the stdout it shares alone" {
	run bash -c '{ "$FP_BIN" -k echo ::: a b; grep ^flags /proc/self/fdinfo/1; } | cat'
	assert_success
	assert_line --index 0 a
	assert_line --index 1 b
	# flags are octal: O_NONBLOCK is 04000
	local flags=${lines[2]##*:}
	(( (8#${flags//[[:space:]]/} & 8#4000) == 0 )) || fail "O_NONBLOCK set: ${lines[2]}"
}
