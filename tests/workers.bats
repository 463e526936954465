#!/usr/bin/env bats
# --workers and --max-tasks: -j long-lived worker processes, each fed one
# record at a time on its stdin and answering with one line on its stdout.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# echoer: answers each line L with "L PID"
	mkbin echoer 'while IFS= read -r l; do echo "$l $$"; done'
	# slowpid: answers each line with its pid, after a while
	mkbin slowpid 'while IFS= read -r l; do sleep 0.05; echo "$$"; done'
	# crash5: exits 3 on record 5 (only the first time with the file once)
	mkbin crash5 'while IFS= read -r l; do
if [ "$l" = 5 ] && { [ ! -e once ] || [ ! -e crashed ]; }; then
	: >crashed; echo oops >&2; exit 3; fi
echo "got $l"; done'
	# sleepy3: takes 30 s over record 3, announcing that it started it
	mkbin sleepy3 'while IFS= read -r l; do
if [ "$l" = 3 ]; then sleep 30; fi; echo "$l"; done'
	# ans: answers each line L with "ans L"
	mkbin ans 'while IFS= read -r l; do echo "ans $l"; done'
	# twice: answers every record with two lines
	mkbin twice 'while IFS= read -r l; do echo "one $l"; echo "two $l"; done'
	export BIN="$BATS_FILE_TMPDIR/bin"
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

@test "--workers -k: answers in input order from workers answering at random speeds" {
	cat >w.py <<'EOF'
import random, sys, time
for line in sys.stdin:
    time.sleep(random.random() / 50)
    print("x" + line.strip(), flush=True)
EOF
	run fp --workers -j3 -k python3 w.py ::: $(seq 30)
	assert_success
	assert_output "$(seq 30 | sed 's/^/x/')"
}

@test "--workers -j3: exactly three worker processes answer every record" {
	run fp --workers -j3 "$BIN/slowpid" ::: $(seq 30)
	assert_success
	assert_equal "${#lines[@]}" 30
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 3
}

@test "--workers: {%} in the command is the worker's slot" {
	run fp --workers -j2 -k sh -c 'while read -r l; do echo "$l w$1"; done' sh 'w{%}' ::: a
	assert_success
	assert_output "a ww1"
}

@test "--workers --max-tasks 2: a worker is replaced after two records" {
	run fp --workers -j1 --max-tasks 2 "$BIN/echoer" ::: a b c d e f
	assert_success
	assert_equal "${#lines[@]}" 6
	# three workers, each for two records in a row
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f1 | paste -sd' ')" "a b c d e f"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f2 | uniq -c | awk '{print $1}' | paste -sd' ')" "2 2 2"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f2 | sort -u | wc -l)" 3
}

@test "--workers: a worker that crashes on a record fails that record only; no answer lost or doubled" {
	run --separate-stderr fp --workers -j2 -k --joblog log "$BIN/crash5" ::: $(seq 10)
	assert_equal "$status" 1
	assert_output "$(printf 'got %s\n' 1 2 3 4 6 7 8 9 10)"
	# the message comes at once, the record's stderr with its output
	assert_equal "$(printf '%s\n' "$stderr" | sed 's/worker [12] /worker N /')" "forkpool: worker N exited (status 3) with record #5 in flight: no answer
oops"
	# one row per record; record 5's has the worker's exit status
	assert_equal "$(tail -n +2 log | cut -f1 | sort -n | paste -sd' ')" "$(seq 10 | paste -sd' ')"
	assert_equal "$(awk -F'\t' '$1 == 5 { print $7, $8 }' log)" "3 0"
	assert_equal "$(awk -F'\t' '$1 != 5 && NR > 1 { print $7 }' log | sort -u)" "0"
}

@test "--workers --retries 2: the record a worker crashed on is answered by its replacement" {
	: >once
	run --separate-stderr fp --workers -j2 -k --retries 2 "$BIN/crash5" ::: $(seq 10)
	assert_success
	assert_output "$(printf 'got %s\n' $(seq 10))"
	# what the failed attempt wrote is dropped; the message stays
	assert_equal "$(printf '%s\n' "$stderr" | sed 's/worker [12] /worker N /')" "forkpool: worker N exited (status 3) with record #5 in flight: no answer"
}

@test "--workers --retries: workers crashing at random lose and double no answer" {
	cat >w.py <<'EOF'
import os, random, sys
for line in sys.stdin:
    if random.random() < 0.2:
        os._exit(1)
    print("r" + line.strip(), flush=True)
EOF
	run --separate-stderr fp --workers -j3 --retries 100 python3 w.py ::: $(seq 60)
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -V)" "$(seq 60 | sed 's/^/r/')"
}

@test "--workers --timeout: the worker is ended and replaced; the record fails as timed out" {
	run --separate-stderr fp --workers -j1 -k --timeout 0.5 --joblog log "$BIN/sleepy3" ::: 1 2 3 4
	assert_equal "$status" 1
	assert_output $'1\n2\n4'
	# timed out (-1), killed by the first step of --termseq, SIGTERM
	assert_equal "$(awk -F'\t' '$1 == 3 { print $7, $8 }' log)" "-1 15"
}

@test "--workers --timeout: an answer that waits for a stalled stdout is no timeout" {
	cat >big.sh <<'EOF'
while read -r x; do head -c 100000 /dev/zero | tr '\0' "$x"; echo; done
EOF
	# The reader takes nothing for 4 s; --timeout is 2 s.
	run bash -c 'set -o pipefail; printf "a\nb\nc\n" | "$FP_BIN" --workers -j1 -k --timeout 2 sh big.sh | (sleep 4; cat) | cut -c1 | tr -d "\n"'
	assert_success
	assert_output abc
}

@test "--workers --tag: each answer is tagged with its record" {
	run fp --workers -j2 -k --tag "$BIN/echoer" ::: a b
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f1)" $'a\ta\nb\tb'
}

@test "--workers --joblog: one row per record; Command is the worker command and the record" {
	run fp --workers -j1 -k --joblog log "$BIN/ans" ::: a bc
	assert_success
	assert_output $'ans a\nans bc'
	# Send: the record and its delimiter; Receive: the answer
	assert_equal "$(tail -n +2 log | cut -f1,5,6,7,8,9)" "1	2	6	0	0	$BIN/ans a
2	3	7	0	0	$BIN/ans bc"
}

@test "--workers --results DIR: each record's answer in its own directory" {
	run fp --workers -j2 --results r sh -c 'while read -r l; do echo "ans $l"; done' ::: a b
	assert_success
	assert_output ""
	assert_equal "$(cat r/1/a/stdout)" "ans a"
	assert_equal "$(cat r/1/b/stdout)" "ans b"
}

@test "--workers -0: records go to the workers NUL-terminated and answers end with NUL" {
	cat >w.py <<'EOF'
import sys
data = b""
while True:
    c = sys.stdin.buffer.read(1)
    if not c:
        break
    if c == b"\0":
        sys.stdout.buffer.write(data.upper() + b"\0")
        sys.stdout.flush()
        data = b""
    else:
        data += c
EOF
	printf 'a b\0c\nd\0' | fp --workers -0 -j2 -k python3 w.py >out
	assert_equal "$(od -An -c out | tr -s ' ')" "$(printf 'A B\0C\nD\0' | od -An -c | tr -s ' ')"
}

@test "--workers: output with no record in flight goes to stderr with a warning" {
	run --separate-stderr fp --workers -j1 "$BIN/twice" ::: a
	assert_success
	assert_output "one a"
	assert_equal "$stderr" "forkpool: worker 1: output with no record in flight: two a"
}

@test "--workers --dry-run: the worker command once per worker" {
	run fp --workers -j2 --dry-run echo w{%} ::: a b c
	assert_success
	assert_output $'echo w1\necho w2'
}

@test "--workers: a value's replacement string in the command is refused, named" {
	run --separate-stderr fp --workers echo {} ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers: the command cannot use {}: records go to the workers' stdin"
	run --separate-stderr fp --workers echo 'x{#}' ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers: the command cannot use {#}: records go to the workers' stdin"
}

@test "--max-tasks: a bad value or a missing --workers is refused, named" {
	run --separate-stderr fp --workers --max-tasks 0 cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --max-tasks 0: too small"
	run --separate-stderr fp --workers --max-tasks x cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --max-tasks x: invalid"
	run --separate-stderr fp --max-tasks 2 cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --max-tasks needs --workers"
}

@test "--workers: options that batch records or pass output through are refused, both named" {
	run --separate-stderr fp --workers -X cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers cannot be used with -X: a worker takes one record at a time"
	run --separate-stderr fp --workers -u cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers cannot be used with -u: forkpool reads each answer"
}

@test "--workers: SIGTERM ends every worker; none outlives forkpool" {
	"$FP_BIN" --workers -j2 sh -c 'echo $$ >>pids; while read -r l; do sleep 30; echo "$l"; done' ::: a b c 3>&- &
	local pid=$! rc=0
	for _ in $(seq 200); do [ "$(cat pids 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.1; done
	assert_equal "$(wc -l <pids)" 2
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	for p in $(cat pids); do
		run kill -0 "$p"
		assert_failure
	done
}

@test "--workers: a record over 128 KiB goes to a worker whole; no command-line limit applies" {
	printf 'import sys\nfor l in sys.stdin: print(len(l), flush=True)\n' >len.py
	run --separate-stderr sh -c 'python3 -c "print(\"y\" * 200000)" | "$FP_BIN" --workers -k python3 -u len.py'
	assert_success
	assert_output "200001"
	assert_equal "$stderr" ""
}

@test "--workers --max-tasks --timeout: a recycled worker that does not exit is ended; its slot is refilled at once" {
	cat >noexit.py <<'EOF2'
import os, sys, time
with open("pids", "a") as f:
    print(os.getpid(), file=f)
for l in sys.stdin:
    print("A" + l.strip(), flush=True)
time.sleep(1000)
EOF2
	run --separate-stderr fp --workers -j1 -k --max-tasks 2 --timeout 2 python3 -u noexit.py ::: 1 2 3 4 5 6
	assert_success
	assert_output $'A1\nA2\nA3\nA4\nA5\nA6'
	assert_equal "$(printf '%s\n' "$stderr" | sed 's/pid [0-9]*/pid P/')" "$(printf 'forkpool: worker 1 (pid P): still running 2 s after its stdin was closed (--timeout): ending it\n%.0s' 1 2 3)"
	assert_equal "$(wc -l <pids)" 3
	local p
	for p in $(cat pids); do
		run kill -0 "$p"
		assert_failure
	done
}

@test "--workers --timeout: a worker that does not exit at the end of the input is ended" {
	cat >noexit.py <<'EOF2'
import sys, time
for l in sys.stdin:
    print("A" + l.strip(), flush=True)
time.sleep(1000)
EOF2
	run --separate-stderr fp --workers -j1 -k --timeout 1 python3 -u noexit.py ::: 1 2 3
	assert_success
	assert_output $'A1\nA2\nA3'
	assert_equal "$(printf '%s\n' "$stderr" | sed 's/pid [0-9]*/pid P/')" "forkpool: worker 1 (pid P): still running 1 s after its stdin was closed (--timeout): ending it"
}

@test "--workers --max-tasks: without --timeout a recycled worker is waited for apart from its slot" {
	# each worker lingers 2 s after its stdin is closed, then leaves a mark
	run --separate-stderr fp --workers -j1 -k --max-tasks 1 sh -c 'while read -r l; do echo "$l"; done; sleep 2; echo x >>marks' ::: a b c
	assert_success
	assert_output $'a\nb\nc'
	assert_equal "$stderr" ""
	# waited for: every worker left its mark before forkpool exited
	assert_equal "$(wc -l <marks)" 3
	# the three lingered side by side: the next started at once, before
	# the one before it was gone
	run fp --workers -j1 -k --max-tasks 1 sh -c 'echo s >>order; while read -r l; do echo "$l"; done; sleep 2; echo e >>order' ::: a b c
	assert_success
	assert_equal "$(head -n 2 order | tr -d '\n')" ss
}

@test "--workers: no more workers start than there are records" {
	run fp --workers -j20 -k sh -c 'echo $$ >>pids; while read -r l; do echo "$l"; done' ::: a b
	assert_success
	assert_output $'a\nb'
	[ "$(wc -l <pids)" -le 2 ]
	run fp --workers -j20 sh -c 'echo $$ >>pids2; while read -r l; do echo "$l"; done' </dev/null
	assert_success
	assert_output ""
	[ ! -e pids2 ]
}

@test "--workers -j: three descriptors per worker count against the open files limit, with a warning" {
	run --separate-stderr sh -c 'ulimit -n 60; "$FP_BIN" --workers -j 25 -k "$BIN/echoer" ::: a b'
	assert_success
	assert_equal "$stderr" "forkpool: -j 25: lowered to 16 jobs at once (the open files limit)"
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -d' ' -f1 | paste -sd' ')" "a b"
}

@test "--workers --dry-run: no worker command for no record, and no more than there are records" {
	run fp --workers -j4 --dry-run echo w{%} ::: a b
	assert_success
	assert_output $'echo w1\necho w2'
	run fp --workers -j4 --dry-run echo w{%} </dev/null
	assert_success
	assert_output ""
}

@test "--workers --timeout: a fresh worker's first record pays its start-up; a timed-out record retried is answered" {
	# a start-up of 0.3 s; record 3 hangs the first time it is sent
	cat >w.sh <<'EOF2'
sleep 0.3
while read -r l; do
	if [ "$l" = 3 ] && [ ! -e hung ]; then : >hung; sleep 30; fi
	echo "$l"
done
EOF2
	run --separate-stderr fp --workers -j2 -k --timeout 1.5 --retries 2 sh w.sh ::: 1 2 3 4
	assert_success
	assert_output $'1\n2\n3\n4'
	assert_equal "$stderr" ""
}

@test "--workers: records sent to a worker that exited by itself are sent again; none lost or doubled" {
	cat >self3.py <<'EOF2'
import sys
n = 0
for l in sys.stdin:
    print("A" + l.strip(), flush=True)
    n += 1
    if n == 3:
        sys.exit(0)
EOF2
	seq 60 | fp --workers -j2 -k --joblog jl python3 -u self3.py >out 2>err
	assert_equal "$?" 0
	assert_equal "$(cat out)" "$(seq 60 | sed 's/^/A/')"
	assert_equal "$(cat err)" ""
	assert_equal "$(tail -n +2 jl | cut -f1 | sort -n | paste -sd' ')" "$(seq 60 | paste -sd' ')"
}

@test "--workers: a worker that exits after reading a record without answering fails it, with a message" {
	run --separate-stderr fp --workers -j1 -k sh -c 'n=0; while read -r l; do n=$((n+1)); [ $n = 3 ] && exit 0; echo "$l"; done' ::: a b c d
	assert_equal "$status" 1
	assert_output $'a\nb\nd'
	assert_equal "$stderr" "forkpool: worker 1 exited (status 0) with record #3 in flight: no answer"
	run --separate-stderr fp --workers -j1 sh -c 'exit 4' ::: a
	assert_equal "$status" 1
	assert_output ""
	assert_equal "$stderr" "forkpool: worker 1 exited (status 4) with record #1 in flight: no answer"
}

@test "--workers: --plus strings, {0#}, {##} and --header column names in the command are refused, named" {
	for r in '{+.}' '{..}' '{:-x}' '{#a}' '{0#}' '{##}'; do
		run --separate-stderr fp --workers --plus echo "x$r" ::: a
		assert_equal "$status" 255
		assert_equal "$stderr" "forkpool: --workers: the command cannot use $r: records go to the workers' stdin"
	done
	run --separate-stderr fpin $'a\n1\n' --workers --header : echo 'x{a}'
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers: the command cannot use {a}: records go to the workers' stdin"
	run --separate-stderr fp --workers -j2 --plus sh -c 'while read -r l; do echo "$l $1"; done' sh '{0%}{slot}' ::: a
	assert_success
	assert_output "a 11"
}

@test "--workers with no command is refused" {
	run --separate-stderr fp --workers ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers needs a command"
}

@test "--workers --results FILE.csv: Send is the bytes of the record and its delimiter" {
	run fp --workers -j1 -k --results r.csv "$BIN/ans" ::: a bc
	assert_success
	assert_equal "$(tail -n +2 r.csv | grep '^[0-9]' | cut -d, -f1,5,6)" $'1,2,6\n2,3,7'
}

@test "--workers --retries: a record holding a newline is refused once, not retried" {
	run --separate-stderr fp --workers -j1 -k --retries 3 "$BIN/ans" ::: $'a\nb' c
	assert_equal "$status" 1
	assert_output "ans c"
	assert_equal "$stderr" "forkpool: input record 1: holds a newline, which ends a record for a worker: not sent (-0 sends records NUL-terminated)"
}

@test "--workers --ungroup: the error names the option as given" {
	run --separate-stderr fp --workers --ungroup cat ::: a
	assert_equal "$status" 255
	assert_equal "$stderr" "forkpool: --workers cannot be used with --ungroup: forkpool reads each answer"
}

@test "--workers: a worker sees sequence 0 and its slot in the environment" {
	run fp --workers -j1 -k sh -c 'while read -r l; do echo "$l $FORKPOOL_SEQ $PARALLEL_SEQ $FORKPOOL_SLOT $PARALLEL_JOBSLOT"; done' ::: a b
	assert_success
	assert_output $'a 0 0 1 1\nb 0 0 1 1'
}
