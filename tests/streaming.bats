#!/usr/bin/env bats
# Input is consumed as a stream: jobs start before the input ends, and large
# or endless inputs work.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# handshake FORKPOOL-ARGS...: the producer writes the printf format
# FIRST_INPUT, then waits (up to 5 s) for a flag that the reader of forkpool's
# output sets when it sees the first line.  The producer then writes the record
# "b-released" (terminated as LAST_FMT says), or "b-timeout" when the flag never
# came, i.e. forkpool waited for the end of input before printing.
handshake() {
	local flag="$BATS_TEST_TMPDIR/flag.$RANDOM"
	local last_fmt=${LAST_FMT:-'%s\n'}
	{
		# shellcheck disable=SC2059
		printf "$FIRST_INPUT"
		local i=0
		while [ ! -e "$flag" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		# shellcheck disable=SC2059
		if [ -e "$flag" ]; then printf "$last_fmt" b-released; else printf "$last_fmt" b-timeout; fi
	} | "$FP_BIN" "$@" | while IFS= read -r line; do
		printf '%s\n' "$line"
		: >"$flag"
	done
}

@test "the first job's output appears before the input ends" {
	FIRST_INPUT='a\n' run handshake echo
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with -k" {
	FIRST_INPUT='a\n' run handshake -k echo
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with -j1" {
	FIRST_INPUT='a\n' run handshake -j1 echo
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with :::: -" {
	FIRST_INPUT='a\n' run handshake echo :::: -
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with -a -" {
	FIRST_INPUT='a\n' run handshake -a - echo
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with -0" {
	FIRST_INPUT='a\0' LAST_FMT='%s\0' run handshake -0 echo
	assert_success
	assert_output $'a\nb-released'
}

@test "streaming with -n: a full batch runs before the input ends" {
	FIRST_INPUT='1\n2\n' run handshake -k -n 2 echo
	assert_success
	assert_output $'1 2\nb-released'
}

@test "streaming with --dry-run" {
	FIRST_INPUT='a\n' run handshake --dry-run echo
	assert_success
	assert_output $'echo a\necho b-released'
}

@test "100000 records with --dry-run" {
	run bash -c 'set -o pipefail; seq 100000 | "$FP_BIN" -k --dry-run echo | cksum'
	assert_success
	local got=$output
	run bash -c 'seq 100000 | sed "s/^/echo /" | cksum'
	assert_equal "$got" "$output"

	run bash -c 'set -o pipefail; seq 100000 | "$FP_BIN" --dry-run echo | wc -l'
	assert_success
	assert_output 100000
}

@test "1000 real jobs all run exactly once" {
	run bash -c 'set -o pipefail; seq 1000 | "$FP_BIN" /bin/echo | sort -n | cksum'
	assert_success
	local got=$output
	run bash -c 'seq 1000 | cksum'
	assert_equal "$got" "$output"
}

@test "endless input: forkpool stops when its output is closed" {
	run bash -c 'yes | timeout 20 "$FP_BIN" -k echo 2>"$1" | head -n 3; echo "status=${PIPESTATUS[1]}"' _ "$BATS_TEST_TMPDIR/err"
	assert_output $'y\ny\ny\nstatus=141'
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ''
}

@test "endless input with --dry-run" {
	run bash -c 'yes | timeout 20 "$FP_BIN" --dry-run echo 2>"$1" | head -n 3; echo "status=${PIPESTATUS[1]}"' _ "$BATS_TEST_TMPDIR/err"
	assert_output $'echo y\necho y\necho y\nstatus=141'
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ''
}
