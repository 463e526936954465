#!/usr/bin/env bats
# Stress: unusual input.  A 10 MiB record, the longest record that fits a
# command line, empty input, input without a final delimiter, every byte
# value, invalid UTF-8, and many random records packed by -X: each is
# handled as forkpool(1) says, and the jobs get exactly the bytes of their
# records.  Each job runs "fpstress save saved ARG...", which writes its
# arguments, each followed by a NUL, to saved/JOB-NUMBER.

bats_require_minimum_version 1.5.0
load ../helper
load stress

setup_file() {
	stress_build
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	mkdir saved
}

teardown() {
	kill_leftovers
}

# saved_args: what the jobs got, job after job, each argument followed by
# a NUL.
saved_args() {
	ls saved | sort -n | sed 's|^|saved/|' | xargs -r cat
}

# run_saving MODE OPTIONS...: forkpool OPTIONS, the jobs run directly
# (MODE direct) or by /bin/sh or bash (MODE sh, bash); input from the
# file in.  STATUS, STDERR are forkpool's; saved/ is emptied first.
run_saving() {
	local mode=$1
	shift
	rm -rf saved && mkdir saved
	STATUS=0
	case $mode in
	direct) "$FP_BIN" --exec-mode direct "$@" "$FPSTRESS" save saved {} <in >out 2>err || STATUS=$? ;;
	*) "$FP_BIN" --exec-mode shell --shell "/bin/$mode" "$@" "$FPSTRESS" save saved {} <in >out 2>err || STATUS=$? ;;
	esac
	STDERR=$(cat err)
	[[ ! -s out ]] || fail "$mode $*: unexpected output: $(head -c 500 out)"
}

# assert_saved EXPECTED-FILE: the jobs got exactly these bytes.
assert_saved() {
	saved_args >got
	cmp got "$1" || fail "the jobs got other bytes than $1 (got $(wc -c <got) bytes, want $(wc -c <"$1"))"
}

# The most bytes of a command line: what forkpool reports for a record
# that is too long.
line_limit() {
	head -c 300000 /dev/zero | tr '\0' r | "$FP_BIN" true 2>&1 >/dev/null |
		sed -n 's/^forkpool: input record 1: too long for a command line of \([0-9]*\) bytes$/\1/p'
}

@test "a 10 MiB record: reported as too long and counted as failed, with and without -0 and -X, alone or between others" {
	local delim mode x
	head -c 10485760 /dev/zero | tr '\0' r >big
	for delim in '\n' '\0'; do
		for mode in direct sh; do
			for x in '' -X; do
				{ printf "a$delim"; cat big; printf "${delim}c$delim"; } >in
				# shellcheck disable=SC2086
				run_saving "$mode" -k -d "$delim" $x
				[[ $STATUS == 1 && $STDERR =~ ^forkpool:\ input\ record\ 2:\ too\ long\ for\ a\ command\ line\ of\ [0-9]+\ bytes$ ]] ||
					fail "$mode -d $delim $x: exit $STATUS: $STDERR"
				printf 'a\0c\0' >want
				assert_saved want
			done
		done
		# the record alone, without its delimiter
		cp big in
		run_saving direct -d "$delim"
		assert_equal "$STATUS" 1
		[[ $STDERR =~ ^forkpool:\ input\ record\ 1:\ too\ long\ for\ a\ command\ line\ of\ [0-9]+\ bytes$ ]] ||
			fail "-d $delim, alone: $STDERR"
		assert_equal "$(ls saved)" ''
	done
}

@test "the longest record that fits a command line reaches its job byte for byte; one byte more is too long" {
	local limit len mode
	limit=$(line_limit)
	[[ $limit -gt 4096 ]] || fail "no limit found: '$limit'"
	for mode in direct sh; do
		# direct: FPSTRESS save saved RECORD, each with its NUL;
		# sh: /bin/sh -c 'FPSTRESS save saved RECORD', and the NULs
		if [[ $mode == direct ]]; then
			len=$((limit - ${#FPSTRESS} - 1 - 5 - 6 - 1))
		else
			len=$((limit - 8 - 3 - ${#FPSTRESS} - 12 - 1))
		fi
		head -c "$len" /dev/zero | tr '\0' r >in
		run_saving "$mode"
		[[ $STATUS == 0 && -z $STDERR ]] || fail "$mode, $len bytes: exit $STATUS: $STDERR"
		{ cat in; printf '\0'; } >want
		assert_saved want
		printf r >>in
		run_saving "$mode"
		assert_equal "$STATUS" 1
		assert_equal "$STDERR" "forkpool: input record 1: too long for a command line of $limit bytes"
		assert_equal "$(ls saved)" ''
	done
	stress_note "limit $limit bytes"
}

@test "empty input: no job, no output, exit 0, whatever the options" {
	local opts
	: >in
	for opts in '' -0 -X '-n 3' '-N 2' -k --line-buffer -u '-r -X' '-d ,'; do
		# shellcheck disable=SC2086
		run_saving direct $opts
		[[ $STATUS == 0 && -z $STDERR ]] || fail "$opts: exit $STATUS: $STDERR"
		assert_equal "$(ls saved)" ''
	done
}

@test "input without a final delimiter: the last record is whole, with newlines, -0 and -d; alone and with -X" {
	local delim byte mode x n
	n=$(stress_size 2000 50)
	for delim in '\n' '\0' ','; do
		case $delim in
		'\n') byte=10 ;; '\0') byte=0 ;; ,) byte=44 ;;
		esac
		{ "$FPSTRESS" records "$STRESS_SEED" "$n" 2000 "$byte"; printf 'last'; } >in
		# the records, each with a NUL, as the jobs must get them
		{ cat in; printf "$delim"; } | tr "$delim" '\0' >want
		for mode in direct sh; do
			for x in '' -X; do
				# shellcheck disable=SC2086
				run_saving "$mode" -j 4 -d "$delim" $x
				[[ $STATUS == 0 && -z $STDERR ]] || fail "$mode -d $delim $x: exit $STATUS: $STDERR"
				assert_saved want
			done
		done
	done
}

@test "every byte value: with -0 each of 1..255 alone and all 255 together; with newlines a record with NUL is reported" {
	local b mode
	# 255 records of one byte each, then one of all 255
	{
		for ((b = 1; b < 256; b++)); do printf "\\x$(printf %02x "$b")\\0"; done
		for ((b = 1; b < 256; b++)); do printf "\\x$(printf %02x "$b")"; done
		printf '\0'
	} >in
	cp in want
	# a job for each record, and (through both shells) -X's few jobs
	run_saving direct -j 4 -0
	[[ $STATUS == 0 && -z $STDERR ]] || fail "direct -0: exit $STATUS: $STDERR"
	assert_equal "$(ls saved | wc -l)" 256
	assert_saved want
	for mode in sh bash; do
		run_saving "$mode" -0 -X
		[[ $STATUS == 0 && -z $STDERR ]] || fail "$mode -0 -X: exit $STATUS: $STDERR"
		assert_saved want
	done
	# bytes 0..255 and a newline: record 1 (NUL to TAB) has a NUL byte,
	# record 2 is 11..255
	{
		for ((b = 0; b < 256; b++)); do printf "\\x$(printf %02x "$b")"; done
		printf '\n'
	} >in
	{
		for ((b = 11; b < 256; b++)); do printf "\\x$(printf %02x "$b")"; done
		printf '\0'
	} >want
	for mode in direct sh bash; do
		run_saving "$mode"
		assert_equal "$STATUS" 1
		assert_equal "$STDERR" 'forkpool: input record 1: contains a NUL byte'
		assert_saved want
	done
}

@test "invalid UTF-8 reaches the jobs unchanged, alone and with -X" {
	local mode x
	# a lone continuation byte, a cut sequence, a surrogate, an overlong
	# '/', a 5-byte form, 0xfe 0xff, and a valid one between them
	printf '\x80\0\xc3\x28\0\xed\xa0\x80\0\xc0\xaf\0\xf8\x88\x80\x80\x80\0\xfe\xff\0\xc3\xa9t\xc3\xa9\0\xe2\x82\0' >in
	cp in want
	for mode in direct sh bash; do
		for x in '' -X; do
			# shellcheck disable=SC2086
			run_saving "$mode" -0 $x
			[[ $STATUS == 0 && -z $STDERR ]] || fail "$mode $x: exit $STATUS: $STDERR"
			assert_saved want
		done
	done
}

@test "-X with many random records, some up to 100 KB: every record reaches a job once, byte for byte, in order" {
	local n mode
	n=$(stress_size 300000 30000)
	"$FPSTRESS" records "$STRESS_SEED" "$n" 100000 10 >in
	tr '\n' '\0' <in >want
	for mode in direct sh; do
		run_saving "$mode" -j 4 -X
		[[ $STATUS == 0 && -z $STDERR ]] || fail "$mode: exit $STATUS: $STDERR"
		assert_saved want
		stress_note "$mode: $n records in $(ls saved | wc -l) jobs"
	done
}
