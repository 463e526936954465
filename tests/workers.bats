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
	assert_equal "$stderr" "oops"
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
	assert_equal "$stderr" ""
}

@test "--workers --retries: workers crashing at random lose and double no answer" {
	cat >w.py <<'EOF'
import os, random, sys
for line in sys.stdin:
    if random.random() < 0.2:
        os._exit(1)
    print("r" + line.strip(), flush=True)
EOF
	run fp --workers -j3 --retries 100 python3 w.py ::: $(seq 60)
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -V)" "$(seq 60 | sed 's/^/r/')"
}

@test "--workers --timeout: the worker is ended and replaced; the record fails as timed out" {
	SECONDS=0
	run --separate-stderr fp --workers -j1 -k --timeout 0.5 --joblog log "$BIN/sleepy3" ::: 1 2 3 4
	assert_equal "$status" 1
	assert_output $'1\n2\n4'
	[ "$SECONDS" -lt 10 ]
	# timed out (-1), killed by the first step of --termseq, SIGTERM
	assert_equal "$(awk -F'\t' '$1 == 3 { print $7, $8 }' log)" "-1 15"
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
	"$FP_BIN" --workers -j2 sh -c 'echo $$ >>pids; while read -r l; do sleep 30; echo "$l"; done' ::: a b c &
	pid=$!
	for _ in $(seq 50); do [ "$(wc -l <pids 2>/dev/null)" = 2 ] && break; sleep 0.1; done
	kill -TERM "$pid"
	run wait "$pid"
	assert_equal "$status" 143
	for p in $(cat pids); do
		run kill -0 "$p"
		assert_failure
	done
}
