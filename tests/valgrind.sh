#!/usr/bin/env bash
# Representative forkpool runs under valgrind's memcheck: every output mode,
# held and spilled output, timeouts, retries, halt, the job log and resume,
# --dry-run, signals, input sources, batching, shell and direct templates.
# Each run must end with the exit status it is expected to have and with no
# valgrind error (definite leaks count as errors).  The jobs themselves run
# natively (--trace-children=no).
#
# usage: tests/valgrind.sh  (FP_BIN names the binary, default ./forkpool)

set -u

root=$(cd "$(dirname "$0")/.." && pwd -P)
FP_BIN=${FP_BIN:-$root/forkpool}
[[ $FP_BIN == /* ]] || FP_BIN=$PWD/$FP_BIN
[[ -x $FP_BIN ]] || { echo "valgrind.sh: no binary $FP_BIN" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
mkdir bin logs
unset FORKPOOL_SHELL FORKPOOL_SEQ FORKPOOL_SLOT PARALLEL_SEQ PARALLEL_JOBSLOT

VALGRIND=(valgrind --leak-check=full --errors-for-leak-kinds=definite
	--error-exitcode=1 --trace-children=no --child-silent-after-fork=yes)

runs=0 failed=0

# script NAME BODY: an executable /bin/sh script bin/NAME.
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"bin/$1"
	chmod +x "bin/$1"
}

# check NAME WANT RC: judge a finished run by its exit status RC and by the
# valgrind log logs/NAME.log.
check() {
	local name=$1 want=$2 rc=$3 why=
	runs=$((runs + 1))
	if ! grep -q 'ERROR SUMMARY: 0 errors' "logs/$name.log"; then
		why="valgrind reported errors"
	elif [[ $rc != "$want" ]]; then
		why="exit status $rc, expected $want"
	fi
	if [[ -n $why ]]; then
		failed=$((failed + 1))
		echo "not ok $runs $name: $why"
		sed 's/^/#   /' "logs/$name.log"
		[[ -s $name.err ]] && sed 's/^/#   stderr: /' "$name.err" | head -n 20
	else
		echo "ok $runs $name"
	fi
}

# vg NAME WANT ARGS...: run forkpool ARGS under valgrind, stdin as given,
# stdout to NAME.out, stderr to NAME.err; WANT is the expected exit status.
vg() {
	local name=$1 want=$2 rc
	shift 2
	"${VALGRIND[@]}" --log-file="logs/$name.log" "$FP_BIN" "$@" \
	    >"$name.out" 2>"$name.err"
	rc=$?
	check "$name" "$want" "$rc"
}

# same NAME TEXT: the output of run NAME is TEXT (a failure of its own).
same() {
	runs=$((runs + 1))
	if [[ $(cat "$1.out") == "$2" ]]; then
		echo "ok $runs $1: output"
	else
		failed=$((failed + 1))
		echo "not ok $runs $1: output differs"
		diff <(printf '%s\n' "$2") "$1.out" | head -n 20 | sed 's/^/#   /'
	fi
}

# started N: wait (up to 60 s) until N markers started.* exist.
started() {
	local i
	for ((i = 0; i < 600; i++)); do
		(($(find . -maxdepth 1 -name 'started.*' | wc -l) >= $1)) && return 0
		sleep 0.1
	done
	return 1
}

# signalled NAME SIG WANT: start two sleeping jobs, send SIG to forkpool once
# both run, and expect exit status WANT.
signalled() {
	local name=$1 sig=$2 want=$3 pid rc
	rm -f started.*
	# A background command starts with SIGINT ignored, which forkpool keeps.
	env --default-signal=INT "${VALGRIND[@]}" --log-file="logs/$name.log" \
	    "$FP_BIN" -j2 bin/waiter ::: 1 2 3 >"$name.out" 2>"$name.err" &
	pid=$!
	started 2 || echo "# $name: the jobs did not start"
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	check "$name" "$want" "$rc"
}

script gen 'if [ "$1" = 0 ]; then sleep 2; echo first; else seq 1000000; fi'
script waiter ': >"started.$1"; sleep 30'
script stubborn 'trap "" TERM; : >"started.$1"; sleep 5'
script flaky 'n=$(cat "count.$1" 2>/dev/null || echo 0)
echo $((n + 1)) >"count.$1"
echo "try $((n + 1))"
[ $((n + 1)) -ge 3 ]'
script ex 'echo "job $1"; exit "$1"'
script sl 'sleep "0.$1"; echo "$1"'
script oe 'echo "out $1"; echo "err $1" >&2'
script ab 'echo "a$1"; sleep 0.2; echo "b$1"'
printf 'x\ny\n' >file
printf 'a,1\nb,2\nc,3\n' >csv
printf 'p\0q r\0' >nul

# Output modes.
vg group 0 --group -j2 bin/oe ::: 1 2 3
vg keep-order 0 -k -j3 bin/sl ::: 3 1 2
same keep-order $'3\n1\n2'
vg line-buffer 0 --line-buffer -j2 bin/ab ::: 1 2
vg line-buffer-k 0 --line-buffer -k -j2 bin/sl ::: 3 1
same line-buffer-k $'3\n1'
vg ungroup 0 -u -j2 echo ::: 1 2 3
vg tag 0 --tag -k echo x ::: a b
same tag $'a\tx a\nb\tx b'
vg tagstring 0 --tagstring '[{#}]' -k echo ::: a b
same tagstring $'[1]\ta\n[2]\tb'
vg verbose 0 -v -t -k echo ::: a b

# -k holding 2 x 6.9 MB behind a slow first job: more than the 4 MiB kept
# in memory, so the rest is spilled to a temporary file.
vg spill 0 -k -j3 bin/gen ::: 0 1 2
runs=$((runs + 1))
if [[ $(cksum <spill.out) == $({ echo first; seq 1000000; seq 1000000; } | cksum) ]]; then
	echo "ok $runs spill: output"
else
	failed=$((failed + 1))
	echo "not ok $runs spill: output differs"
fi

# Job control.
vg timeout 1 --timeout 0.5 sleep ::: 10 0
vg timeout-kill 1 --timeout 0.5 --termseq TERM,100,KILL,25 bin/stubborn ::: 1
vg retries 0 --retries 3 bin/flaky ::: 1
same retries 'try 3'
vg retries-fail 1 --retries 2 false ::: 1
vg halt-now 3 -j1 --halt now,fail=1 bin/ex ::: 0 3 0
vg halt-soon 1 -j2 --halt soon,fail=1 bin/ex ::: 1 0 0 0
vg delay 0 --delay 0.05 true ::: 1 2 3
vg joblog 2 -j2 --joblog jl bin/ex ::: 0 1 0 2
vg resume 0 -j2 --joblog jl --resume bin/ex ::: 0 1 0 2 0
vg resume-failed 2 -j2 --joblog jl --resume-failed bin/ex ::: 0 1 0 2 0
vg retry-failed 2 --joblog jl --retry-failed </dev/null
vg retry-failed-dry 0 --joblog jl --retry-failed --dry-run </dev/null
vg joblog-stdout 0 --joblog - echo ::: a

# --dry-run and write errors.
vg dry-run 0 --dry-run echo {} ::: 'a b' "c'd"
"${VALGRIND[@]}" --log-file=logs/dry-run-full.log "$FP_BIN" --dry-run \
    echo ::: a b >/dev/full 2>dry-run-full.err
check dry-run-full 255 $?
"${VALGRIND[@]}" --log-file=logs/closed-stdout.log "$FP_BIN" -k echo \
    :::: <(seq 100000) 2>closed-stdout.err | head -n 1 >/dev/null
check closed-stdout 141 "${PIPESTATUS[0]}"
vg exec-failure 1 forkpool-no-such-command ::: a

# Signals sent to forkpool while jobs run.
signalled sigint INT 130
signalled sigterm TERM 143
rm -f started.*
"${VALGRIND[@]}" --log-file=logs/sigusr1.log "$FP_BIN" -j2 bin/stubborn \
    ::: 1 2 >sigusr1.out 2>sigusr1.err &
pid=$!
started 2 || echo "# sigusr1: the jobs did not start"
kill -USR1 "$pid"
wait "$pid"
check sigusr1 0 $?

# Input sources.
vg sources 0 -k echo {1} {2} ::: a b :::: file
same sources $'a x\na y\nb x\nb y'
vg link 0 -k echo {1} {2} ::: a b :::+ 1 2
same link $'a 1\nb 2'
vg link-option 0 -k --link echo {1} {2} ::: a b c ::: 1 2
same link-option $'a 1\nb 2\nc 1'
vg stdin 0 -k echo <file
vg arg-file 0 -k -a file -a csv echo
vg null 0 -0 -k echo <nul
same null $'p\nq r'
vg colsep 0 -k --colsep , echo {2}-{1} :::: csv
same colsep $'1-a\n2-b\n3-c'
vg no-run-if-empty 0 -r echo <<<$'a\n\n  \nb'

# Batching.
vg xargs 0 -X -s 200 echo :::: <(seq 500)
vg max-replace-args 0 -k -N3 echo {1}-{2}-{3} ::: 1 2 3 4 5 6 7
same max-replace-args $'1-2-3\n4-5-6\n7--'
vg max-args 0 -k -n2 echo ::: 1 2 3
vg too-long 1 -s 100 echo ::: "$(printf '%0200d' 0)"

# What a run leaves behind: files, results, reports, summary, colour,
# partitions; the display needs a terminal, which script(1) gives.
vg files 0 -k --files --tmpdir . echo ::: a b
vg results-dir 1 -k --results rdir bin/ex ::: 0 1
vg results-csv 1 -k --results r.csv bin/ex ::: 0 1
vg results-json 0 -k --results r.json bin/gen ::: 1
vg junit 1 -k --junit j.xml bin/ex ::: 0 1 0
vg summary 1 --summary --retries 2 bin/ex ::: 0 1
vg color 1 --color=always --tag -k bin/ex ::: 0 1
vg output-on-failure 1 --output-on-failure -k bin/ex ::: 0 1
vg partition 0 -k --partition 2/3 echo :::: <(seq 30)
seq 50 >bar.in
command script -qfec "${VALGRIND[*]} --log-file=logs/bar.log $FP_BIN --bar --eta -j2 true :::: bar.in" \
    /dev/null </dev/null >bar.out 2>&1
check bar 0 $?

# Templates: one that needs a shell, one run directly, no command at all.
vg shell-template 0 -k 'echo {} | tr a-z A-Z; echo {.}' ::: a.c b.c
same shell-template $'A.C\na\nB.C\nb'
vg direct-template 0 -k --exec-mode direct printf '%s-' {/} {//} ::: /x/y.z
same direct-template 'y.z-/x-'
vg bare-commands 0 -k <<<$'echo one\necho two'
same bare-commands $'one\ntwo'
vg exec-mode-direct 255 --exec-mode direct 'echo {} | cat' ::: a
# Pipe mode and workers.
seq 3000 >pipe.in
vg pipe 0 --pipe -k -j2 --block 2k wc -l <pipe.in
vg pipe-part 0 --pipe-part -a pipe.in -k -j2 --block 3k wc -l
vg pipe-regexp 0 --pipe --regexp --recend '0\n' --rrs -k -N5 --header 1 cat <pipe.in
vg round-robin 0 --pipe --round-robin -j2 --block 1k wc -l <pipe.in
vg pipe-cat 0 --pipe --cat -k --block 4k wc -l <pipe.in
vg pipe-fifo 0 --pipe --fifo -k --block 4k wc -l <pipe.in
vg workers 0 --workers -k -j2 --max-tasks 3 sh -c 'while read -r l; do echo "w$l"; done' ::: 1 2 3 4 5 6 7
same workers "$(printf 'w%s\n' 1 2 3 4 5 6 7)"
vg workers-crash 1 --workers -k -j2 sh -c 'while read -r l; do [ "$l" = 2 ] && exit 3; echo "w$l"; done' ::: 1 2 3
vg usage-error 255 --jobs nope echo
vg help 0 --help

# Slurm job steps, on a one-node cluster of the run's own (tests/slurm.bash):
# without the daemons these runs are left out, and fail under CI=true.
slurm_skipped=
fail() { echo "# $*"; return 1; }
skip() { slurm_skipped=$*; return 1; }
require_cmd() {
	command -v "$1" >/dev/null && return 0
	if [[ ${CI:-} == true ]]; then
		fail "required command not found: $1"
	else
		skip "$1 is not installed"
	fi
}
# shellcheck source=tests/slurm.bash
source "$root/tests/slurm.bash"
trap 'slurm_stop; rm -rf "$work"' EXIT

# vgs NAME WANT N ARGS...: as vg, with --slurm, in an allocation of N tasks.
vgs() {
	local name=$1 want=$2 n=$3 rc
	shift 3
	salloc -Q -n "$n" -- "${VALGRIND[@]}" --log-file="logs/$name.log" \
	    "$FP_BIN" --slurm "$@" >"$name.out" 2>"$name.err"
	rc=$?
	check "$name" "$want" "$rc"
}

if slurm_start; then
	vgs slurm-k 0 2 -k echo ::: a b c
	same slurm-k $'a\nb\nc'
	vgs slurm-failed 2 2 --joblog slurm.log 'exit {}' ::: 0 1 2
	vgs slurm-timeout 1 1 --timeout 1 'sleep 30' ::: 1
	# every step refused: three requeued, then all fail
	salloc -Q -n1 -- env SLURM_CPUS_PER_TASK=64 "${VALGRIND[@]}" \
	    --log-file=logs/slurm-refused.log "$FP_BIN" --slurm true ::: 1 2 3 4 \
	    >slurm-refused.out 2>slurm-refused.err
	check slurm-refused 4 $?
	vg slurm-alloc 0 --slurm-alloc -n1 -k echo ::: x y
	same slurm-alloc $'x\ny'
	vg slurm-outside 255 --slurm true ::: 1
elif [[ -n $slurm_skipped ]]; then
	echo "# the Slurm runs are skipped: $slurm_skipped"
else
	runs=$((runs + 1)) failed=$((failed + 1))
	echo "not ok $runs slurm: the cluster did not start"
fi

echo "$((runs - failed)) passed, $failed failed"
[[ $failed == 0 ]]
