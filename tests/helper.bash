# Shared setup for the forkpool test suite.  Every .bats file does `load helper`.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load /usr/lib/bats/bats-file/load

# The tests directory (this file's), also for the test files below it.
FP_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

# The binary under test (override with FP_BIN=/path/to/forkpool), always absolute.
FP_BIN="${FP_BIN:-$FP_TESTS/../forkpool}"
if [[ $FP_BIN != /* ]]; then
	FP_BIN="$PWD/$FP_BIN"
fi
if _fp_dir=$(cd "${FP_BIN%/*}" 2>/dev/null && pwd -P); then
	FP_BIN="$_fp_dir/${FP_BIN##*/}"
fi
unset _fp_dir
export FP_BIN

# Top of the source tree (man/, completions/ live there).
FP_ROOT="$(cd "$FP_TESTS/.." && pwd -P)"
export FP_ROOT

# Tests must not depend on how the calling environment configured forkpool.
unset FORKPOOL FORKPOOL_SHELL FORKPOOL_SEQ FORKPOOL_SLOT PARALLEL_SEQ PARALLEL_JOBSLOT

# Run the binary under test.
fp() {
	"$FP_BIN" "$@"
}

# fpin INPUT ARGS...: run forkpool ARGS with the literal string INPUT on stdin.
fpin() {
	local input=$1
	shift
	printf '%s' "$input" | "$FP_BIN" "$@"
}

# require_cmd NAME: skip the test when NAME is not installed; under CI=true a
# missing tool is a failure, so that nothing passes by not running.
require_cmd() {
	if ! command -v "$1" >/dev/null 2>&1; then
		if [[ ${CI:-} == true ]]; then
			fail "required command not found: $1"
		else
			skip "$1 is not installed"
		fi
	fi
}

# skip_if_sanitized WHY: skip the rest of a test that cannot hold for a build
# with AddressSanitizer, which `make check-asan` tells by FORKPOOL_SANITIZED=1:
# its shadow memory and quarantine alone exceed the peak RSS forkpool is held
# to.  By design, so allowed under CI=true as well.
skip_if_sanitized() {
	if [[ -n ${FORKPOOL_SANITIZED:-} ]]; then
		skip "sanitized build: $1"
	fi
}

# Number of online CPUs, the default -j.
ncpus() {
	getconf _NPROCESSORS_ONLN 2>/dev/null || nproc
}

# mkscript NAME BODY: write an executable /bin/sh script into the per-test bin
# directory and print its path.
mkscript() {
	local path="$BATS_TEST_TMPDIR/bin/$1"
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\n%s\n' "$2" >"$path"
	chmod +x "$path"
	printf '%s\n' "$path"
}

# Common per-test setup: check the binary exists and create small job scripts.
#   SHOWARGS  prints "ARGC:" followed by "<ARG>" for every argument, then a newline
fp_setup() {
	[[ -x $FP_BIN ]] || fail "forkpool binary not found or not executable: $FP_BIN"
	SHOWARGS=$(mkscript showargs 'printf "%s:" "$#"
for a in "$@"; do printf "<%s>" "$a"; done
printf "\n"')
	export SHOWARGS
}

# showargs_expect ARG...: what $SHOWARGS prints for one job with these arguments.
showargs_expect() {
	printf '%s:' "$#"
	local a
	for a in "$@"; do printf '<%s>' "$a"; done
	printf '\n'
}

# kill_leftovers: end whatever a failed test left running with its working
# directory in the test's temporary directory.
kill_leftovers() {
	cd / || return
	local p
	while read -r p; do
		p=${p#/proc/}
		kill -9 "${p%/cwd}" 2>/dev/null || true
	done < <(find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$BATS_TEST_TMPDIR" \
		-o -lname "$BATS_TEST_TMPDIR/*" \) 2>/dev/null)
}

# mkbin NAME BODY: write an executable /bin/sh script shared by the file's
# tests, in $BATS_FILE_TMPDIR/bin.
mkbin() {
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	printf '#!/bin/sh\n%s\n' "$2" >"$BATS_FILE_TMPDIR/bin/$1"
	chmod +x "$BATS_FILE_TMPDIR/bin/$1"
}

# ran: the numbers of the jobs that left a marker ran.N, sorted, on one line.
ran() {
	local f out=()
	for f in ran.*; do
		[[ -e $f ]] && out+=("${f#ran.}")
	done
	printf '%s\n' "${out[@]}" | sort -n | paste -sd ' '
}

# Shell code that closes every inherited descriptor above 2, for commands
# that count descriptors: bash -c "$CLOSE_FDS"'...'.
# shellcheck disable=SC2016
CLOSE_FDS='for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done'

# wait_files N GLOB [SECONDS]: wait (at most SECONDS, default 5) until N
# files match GLOB.
wait_files() {
	local i n f
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		n=0
		for f in $2; do
			[[ -e $f ]] && n=$((n + 1))
		done
		((n >= $1)) && return 0
		sleep 0.05
	done
	fail "timed out waiting for $1 files $2"
}

# start_fp ARGS...: run forkpool ARGS in the background, stdin from
# /dev/null, stdout to the file out and stderr to err; FP_PID is its pid.
# A shell without job control starts background commands with SIGINT
# ignored, which forkpool keeps: env gives it back its default.
start_fp() {
	env --default-signal=INT "$FP_BIN" "$@" </dev/null >out 2>err 3>&- &
	FP_PID=$!
}

# finish_fp [SECONDS]: wait (at most SECONDS, default 8) for forkpool to
# exit; FP_STATUS is its status.
finish_fp() {
	local i state
	for ((i = 0; i < ${1:-8} * 20; i++)); do
		state=Z
		read -r _ _ state _ 2>/dev/null <"/proc/$FP_PID/stat" || true
		[[ $state == Z ]] && break
		sleep 0.05
	done
	if [[ $state != Z ]]; then
		kill -9 "$FP_PID"
		wait "$FP_PID" || true
		fail "forkpool did not exit"
	fi
	FP_STATUS=0
	wait "$FP_PID" || FP_STATUS=$?
}
