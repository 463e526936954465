#!/usr/bin/env bats
# --joblog: format, append and stdout forms; --resume, --resume-failed,
# --retry-failed; and crash safety: after kill -9 mid-run, --resume completes
# the run, with no job's output lost and extra copies only within the bounds
# the man page states for each output mode.

bats_require_minimum_version 1.5.0
load helper
load crash

HEADER=$'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand'

setup_file() {
	# ex CODE: leave the marker ran.SEQ, exit with CODE (K: kill itself with
	# SIGKILL); with the file "fixed" present, exit 0 instead
	mkbin ex ': >"ran.$FORKPOOL_SEQ"
[ ! -e fixed ] || exit 0
[ "$1" != K ] || kill -9 $$
exit "$1"'
	mkbin sleeper 'sleep "$1"; echo "$1"'
	export EX="$BATS_FILE_TMPDIR/bin/ex" SLEEPER="$BATS_FILE_TMPDIR/bin/sleeper"
	crash_setup
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# rows JOBLOG: "Seq Exitval Signal Command" of every row, TAB-separated, in
# file order.
rows() {
	tail -n +2 "$1" | cut -f 1,7,8,9
}

# Epoch seconds with a fraction.
now() {
	date +%s.%N
}

# --- format ----------------------------------------------------------------------

@test "--joblog: the header names the columns; rows match the jobs that ran" {
	local t0 t1
	t0=$(now)
	run --separate-stderr fp -j1 --joblog jl "$SLEEPER" ::: 0.3 0
	t1=$(now)
	assert_success
	assert_output $'0.3\n0'
	run head -n 1 jl
	assert_output "$HEADER"
	assert_equal "$(wc -l <jl)" 3
	# every column found by its name in the header
	run awk -F '\t' -v t0="$t0" -v t1="$t1" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{
			bad = ""
			if (NF != 9) bad = bad " NF=" NF
			if ($c["Host"] != ":") bad = bad " Host"
			if ($c["Starttime"] !~ /^[0-9]+\.[0-9][0-9][0-9]$/ ||
			    $c["Starttime"] < t0 - 1 || $c["Starttime"] > t1 + 1) bad = bad " Starttime"
			if ($c["JobRuntime"] !~ /^ *[0-9]+\.[0-9][0-9][0-9]$/ ||
			    length($c["JobRuntime"]) != 10) bad = bad " JobRuntime"
			if ($c["Send"] != "0" || $c["Receive"] != "0") bad = bad " Send/Receive"
			# the job that slept 0.3 s ran at least that long
			if ($c["Command"] ~ / 0\.3$/ && $c["JobRuntime"] < 0.3) bad = bad " too quick"
			print $c["Seq"], $c["Exitval"], $c["Signal"], $c["Command"] bad
		}' jl
	assert_success
	assert_output "1 0 0 $SLEEPER 0.3
2 0 0 $SLEEPER 0"
}

@test "--joblog: Exitval and Signal of failed, killed and timed-out jobs" {
	run --separate-stderr fp -k -j3 --joblog jl "$EX" ::: 3 K 0
	assert_failure 2
	run --separate-stderr fp -k --timeout 0.2 --joblog +jl "$SLEEPER" ::: 5
	assert_failure 1
	run rows jl
	assert_output "$(printf '1\t3\t0\t%s 3\n2\t0\t9\t%s K\n3\t0\t0\t%s 0\n1\t-1\t15\t%s 5' \
		"$EX" "$EX" "$EX" "$SLEEPER")"
}

@test "--joblog: Command is the command as --dry-run shows it" {
	run fp -k --joblog jl echo ::: 'a b' "it's" plain
	assert_success
	run fp -k --joblog +jl 'echo {} | tr a-z A-Z' ::: 'x y'
	assert_success
	local want
	want=$(fp --dry-run echo ::: 'a b' "it's" plain; fp --dry-run 'echo {} | tr a-z A-Z' ::: 'x y')
	run bash -c 'tail -n +2 jl | cut -f 9-'
	assert_output "$want"
}

@test "--joblog +FILE appends without a second header; FILE truncates" {
	run fp -j1 --joblog +jl echo ::: a b
	assert_success
	run fp -j1 --joblog +jl echo ::: c
	assert_success
	run cat jl
	assert_line --index 0 "$HEADER"
	run rows jl
	assert_output "$(printf '1\t0\t0\techo a\n2\t0\t0\techo b\n1\t0\t0\techo c')"
	run fp -j1 --joblog jl echo ::: d
	assert_success
	run head -n 1 jl
	assert_output "$HEADER"
	run rows jl
	assert_output "$(printf '1\t0\t0\techo d')"
	# appending to an empty file writes the header
	: >empty
	run fp -j1 --joblog +empty echo ::: e
	assert_success
	run cat empty
	assert_line --index 0 "$HEADER"
	assert_equal "${#lines[@]}" 2
}

@test "--joblog -: the header and each row go to stdout, after the job's output" {
	run --separate-stderr fp -j1 --joblog - echo ::: a b
	assert_success
	# Starttime and JobRuntime vary
	run awk -F '\t' 'BEGIN { OFS = "\t" } NF == 9 && NR > 1 { $3 = "T"; $4 = "R" } { print }' <<<"$output"
	assert_output "$HEADER
a
$(printf '1\t:\tT\tR\t0\t0\t0\t0\techo a')
b
$(printf '2\t:\tT\tR\t0\t0\t0\t0\techo b')"
}

@test "--joblog with -k: rows in input order; without -k: in the order jobs finish" {
	run fp -k -j3 --joblog jl "$SLEEPER" ::: 0.4 0.2 0
	assert_success
	assert_output $'0.4\n0.2\n0'
	run bash -c 'tail -n +2 jl | cut -f 1 | paste -sd " "'
	assert_output '1 2 3'
	run fp -j3 --joblog jl "$SLEEPER" ::: 0.4 0.2 0
	assert_success
	assert_output $'0\n0.2\n0.4'
	run bash -c 'tail -n +2 jl | cut -f 1 | paste -sd " "'
	assert_output '3 2 1'
}

@test "--joblog: many concurrent jobs give one whole row each" {
	run fp -j8 --joblog jl true ::: $(seq 100)
	assert_success
	run awk -F '\t' 'NR > 1 && NF == 9 && $9 == "true " $1 { print $1 }' jl
	assert_equal "$(sort -n <<<"$output")" "$(seq 100)"
	assert_equal "$(wc -l <jl)" 101
}

@test "--joblog with --dry-run writes nothing" {
	run fp --dry-run --joblog jl echo ::: a
	assert_success
	assert_output 'echo a'
	assert_file_not_exists jl
}

@test "--joblog +FILE: forkpools starting together on a new file write one header" {
	local i k fd pids
	# four writers released at once by a line each from a FIFO wrote two
	# headers in about 1 run in 4
	for ((i = 0; i < 30; i++)); do
		rm -f jl go
		mkfifo go
		exec {fd}<>go
		pids=()
		for k in 1 2 3 4; do
			(read -r _ <go && exec "$FP_BIN" --joblog +jl true ::: "$k") &
			pids+=($!)
		done
		sleep 0.05
		printf '\n\n\n\n' >&"$fd"
		wait "${pids[@]}"
		exec {fd}>&-
		assert_equal "$(grep -cxF "$HEADER" jl)" 1
		assert_equal "$(head -n 1 jl)" "$HEADER"
		assert_equal "$(wc -l <jl)" 5
	done
}

@test "--joblog: Command escapes backslash and control bytes, and no other byte" {
	local v want
	v=$'a\\b\tc\rd\x1be\x7ff\xe9g\x01h\ni \'q\' $x'
	run fp -j1 --joblog jl echo {} ::: "$v" plain
	assert_success
	assert_equal "$(wc -l <jl)" 3
	want='echo '\''a\\b\tc\rd\x1be\x7ff'$'\xe9''g\x01h\ni '\''"'\''"'\''q'\''"'\''"'\'' $x'\'
	run bash -c 'tail -n +2 jl | cut -f 9-'
	assert_output "$want
echo plain"
}

@test "--joblog: a newline in a value cannot forge a row that --retry-failed runs" {
	run fp -k --joblog log echo {} ::: a "$(printf 'x\n7\t:\t0\t0\t0\t0\t1\t0\ttouch PWNED #')"
	assert_success
	assert_output "$(printf 'a\nx\n7\t:\t0\t0\t0\t0\t1\t0\ttouch PWNED #')"
	assert_equal "$(wc -l <log)" 3
	run rows log
	assert_output "$(printf '1\t0\t0\techo a\n2\t0\t0\t%s' \
		"echo 'x\\n7\\t:\\t0\\t0\\t0\\t0\\t1\\t0\\ttouch PWNED #'")"
	run --separate-stderr fp --joblog log --retry-failed </dev/null
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_file_not_exists PWNED
	assert_equal "$(wc -l <log)" 3
}

@test "--resume: a file name with a newline cannot make a job that never ran count as done" {
	local forged
	forged=$(printf 'b\n3\t:\t0\t0\t0\t0\t0\t0\tx')
	printf 'a\0%s\0' "$forged" | fp -0 -j1 --joblog jl "$EX" 0
	assert_equal "$(ran)" '1 2'
	rm -f ran.*
	run --separate-stderr bash -c 'printf "a\0%s\0c\0" "$1" |
		"$FP_BIN" -0 -j1 --joblog jl --resume "$EX" 0' _ "$forged"
	assert_success
	assert_equal "$(ran)" '3'
	run bash -c 'tail -n +2 jl | cut -f 1 | paste -sd " "'
	assert_output '1 2 3'
}

@test "--retry-failed: a value with every byte from 1 to 255 runs again exactly" {
	local v i
	v=$(for ((i = 1; i < 256; i++)); do printf "\\x$(printf %02x "$i")"; done)
	printf '%s' "$v" >want
	assert_equal "$(wc -c <want)" 255
	run --separate-stderr fp --joblog jl 'printf %s {} >got; [ -e fixed ]' ::: "$v"
	assert_failure 1
	cmp want got
	rm got
	: >fixed
	run --separate-stderr fp --joblog jl --retry-failed </dev/null
	assert_success
	assert_equal "$stderr" ''
	cmp want got
	# one line per row, and the row written again is the same command
	assert_equal "$(wc -l <jl)" 3
	run bash -c 'tail -n +2 jl | cut -f 1,7,8'
	assert_output "$(printf '1\t1\t0\n1\t0\t0')"
	run bash -c 'tail -n +2 jl | cut -f 9- | uniq | wc -l'
	assert_output 1
}

# --- --resume, --resume-failed, --retry-failed ---------------------------------------

@test "--resume skips the jobs that have a row, failed or not, and appends the new rows" {
	# with no job log yet, every job runs
	run fp -j1 --joblog jl --resume "$EX" ::: 0 5
	assert_failure 1
	assert_equal "$(ran)" '1 2'
	rm -f ran.*
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" ::: 0 5 0 0
	assert_success
	assert_equal "$(ran)" '3 4'
	assert_equal "$(grep -c '^Seq' jl)" 1
	run rows jl
	assert_output "$(printf '1\t0\t0\t%s 0\n2\t5\t0\t%s 5\n3\t0\t0\t%s 0\n4\t0\t0\t%s 0' \
		"$EX" "$EX" "$EX" "$EX")"
}

@test "--resume reads any job log: headers and incomplete lines are ignored" {
	{
		printf '%s\n' "$HEADER"
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t0\tanything\n'
		printf '4\t:\t1.000\t     0.100\t0\t0\t1\t0\tanything\n'
		printf '5\t:\t1.0'
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" ::: 0 0 0 0 0
	assert_success
	assert_equal "$(ran)" '1 3 5'
}

@test "--resume after an incomplete last line: the rows it appends are whole" {
	{
		printf '%s\n' "$HEADER"
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t0\tanything\n'
		printf '5\t:\t1.0'
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" ::: 0 0 0 0 0
	assert_success
	assert_equal "$(ran)" '1 3 4 5'
	rm -f ran.*
	# every job has a row now
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" ::: 0 0 0 0 0
	assert_success
	assert_equal "$(ran)" ''
	run bash -c "tail -n +4 jl | cut -f 1,7,8,9"
	assert_output "$(printf '1\t0\t0\t%s 0\n3\t0\t0\t%s 0\n4\t0\t0\t%s 0\n5\t0\t0\t%s 0' \
		"$EX" "$EX" "$EX" "$EX")"
}

@test "--resume-failed runs again the failed jobs (and new ones) only" {
	run fp -j1 --joblog jl "$EX" ::: 0 5 0
	assert_failure 1
	rm -f ran.*
	: >fixed
	run --separate-stderr fp -j1 --joblog jl --resume-failed "$EX" ::: 0 5 0 0
	assert_success
	assert_equal "$(ran)" '2 4'
	rm -f ran.*
	# the last row of job 2 now shows success
	run --separate-stderr fp -j1 --joblog jl --resume-failed "$EX" ::: 0 5 0 0
	assert_success
	assert_equal "$(ran)" ''
}

@test "--resume-failed: a job with a Signal or an Exitval of -1 failed" {
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t9\tx\n'
		printf '3\t:\t1.000\t     0.100\t0\t0\t-1\t15\tx\n'
		printf '4\t:\t1.000\t     0.100\t0\t0\t2\t0\tx\n'
		printf '5\t:\t1.000\t     0.100\t0\t0\t2\t0\tx\n'
		printf '5\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume-failed "$EX" ::: 0 0 0 0 0 0
	assert_success
	assert_equal "$(ran)" '2 3 4 6'
}

@test "--resume-failed: an Exitval or Signal too large for an int still failed" {
	# read with atoi(), 4294967296 became 0 on LP64: a success
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1.000\t     0.100\t0\t0\t4294967296\t0\tx\n'
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t4294967296\tx\n'
		printf '3\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume-failed "$EX" ::: 0 0 0
	assert_success
	assert_equal "$(ran)" '1 2'
}

@test "--resume: a job number in the log above 2^63 - 1 is an error, not a hang" {
	local seq
	# 2^64 - 1 made the map's growth loop forever
	for seq in 9223372036854775808 18446744073709551615 123456789012345678901234567890; do
		{
			printf '%s\n' "$HEADER"
			printf '%s\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n' "$seq"
		} >jl
		run --separate-stderr timeout 20 "$FP_BIN" --joblog jl --resume "$EX" ::: 0
		assert_failure 255
		assert_equal "$stderr" "forkpool: jl:2: bad row: Seq \"$seq\" is too large"
		assert_equal "$(ran)" ''
	done
}

@test "--retry-failed runs only the failed commands, with their job numbers, ignoring input" {
	run fp -j1 --joblog jl "$EX" ::: 0 5 0 7
	assert_failure 2
	rm -f ran.*
	: >fixed
	run --separate-stderr fp -j1 --joblog jl --retry-failed </dev/null
	assert_success
	assert_output ''
	assert_equal "$(ran)" '2 4'
	run rows jl
	assert_output "$(printf '1\t0\t0\t%s 0\n2\t5\t0\t%s 5\n3\t0\t0\t%s 0\n4\t7\t0\t%s 7\n2\t0\t0\t%s 5\n4\t0\t0\t%s 7' \
		"$EX" "$EX" "$EX" "$EX" "$EX" "$EX")"
}

@test "--retry-failed: the commands run through the shell; a command template and input are ignored" {
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1.000\t     0.100\t0\t0\t1\t0\techo one $FORKPOOL_SEQ | tr a-z A-Z\n'
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t0\techo two\n'
		printf '3\t:\t1.000\t     0.100\t0\t0\t0\t0\techo three\n'
		printf '3\t:\t1.000\t     0.100\t0\t0\t1\t0\techo three $FORKPOOL_SEQ\n'
	} >jl
	run --separate-stderr fp -k --joblog jl --retry-failed touch bad ::: x y
	assert_success
	assert_output $'ONE 1\nthree 3'
	assert_file_not_exists bad
}

@test "--resume, --resume-failed and --retry-failed need --joblog: exit 255" {
	local opt
	for opt in --resume --resume-failed --retry-failed; do
		run --separate-stderr fp "$opt" touch ran ::: x
		assert_failure 255
		assert_output ''
		if [[ $opt == --resume ]]; then
			assert_equal "$stderr" 'forkpool: --resume needs --joblog FILE'
		else
			[[ $stderr == "forkpool: --resume needs --joblog FILE" ||
				$stderr == "forkpool: $opt needs --joblog FILE" ]] ||
				fail "$opt: unexpected diagnostic: $stderr"
		fi
	done
	assert_file_not_exists ran
}

@test "--retry-failed decodes escapes; any other backslash, and a NUL (GNU parallel's newline), are read as they are" {
	local cmd
	cmd=$(cat <<-'EOF'
	printf '[%s]' 'a\tb' 'c\\d' 'e\.f' 'g\x41h' 'i\x4' 'j\x00k' 'l\x0D' 'm\x0a' 'n\'
	EOF
	)
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1.000\t     0.100\t0\t0\t1\t0\t%s\n' "$cmd"
		printf '2\t:\t1.000\t     0.100\t0\t0\t1\t0\tprintf "[%%s]" "x\0y"\n'
	} >jl
	run --separate-stderr fp -k --joblog jl --retry-failed </dev/null
	assert_success
	assert_output $'[a\tb][c\\d][e\\.f][gAh][i\\x4][j\\x00k][l\r][m\n][n\\][x\ny]'
}

@test "--retry-failed, --resume, --resume-failed on a large job log: the last row of each job counts" {
	# 100,000 rows in scrambled order, then rows that fix every ninth job and
	# break every tenth
	awk -v h="$HEADER" 'BEGIN {
		n = 100000
		print h
		for (i = 0; i < n; i++) {
			s = (i * 7919) % n + 1
			printf "%d\t:\t1.000\t     0.100\t0\t0\t%d\t0\techo %d\n", s, s % 3 == 0, s
		}
		for (s = 9; s <= n; s += 9)
			printf "%d\t:\t1.000\t     0.100\t0\t0\t0\t0\techo %d\n", s, s
		for (s = 1; s <= n; s += 10)
			printf "%d\t:\t1.000\t     0.100\t0\t0\t0\t15\techo %d\n", s, s
	}' >jl
	run --separate-stderr fp --joblog jl --retry-failed --dry-run </dev/null
	assert_success
	assert_equal "$output" "$(awk 'BEGIN {
		for (s = 1; s <= 100000; s++)
			if (s % 10 == 1 || (s % 3 == 0 && s % 9 != 0))
				print "echo " s
	}')"
	run --separate-stderr bash -c 'seq 100005 | "$FP_BIN" --dry-run --joblog jl --resume echo'
	assert_success
	assert_output "$(seq 100001 100005 | sed 's/^/echo /')"
	run --separate-stderr bash -c 'seq 100005 | "$FP_BIN" --dry-run --joblog jl --resume-failed echo'
	assert_success
	assert_equal "$output" "$(awk 'BEGIN {
		for (s = 1; s <= 100005; s++)
			if (s > 100000 || s % 10 == 1 || (s % 3 == 0 && s % 9 != 0))
				print "echo " s
	}')"
}

@test "--resume: a huge job number costs no more memory than a small one" {
	skip_if_sanitized "ulimit -v"
	{
		printf '%s\n' "$HEADER"
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
		printf '4294967295\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
		printf '9223372036854775807\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
	} >jl
	# a map with a bit per job number took 1 GiB for 4294967295
	run --separate-stderr bash -c 'ulimit -v 100000 && exec "$FP_BIN" -j1 --joblog jl --resume "$EX" 0 ::: a b c'
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(ran)" '1 3'
}

@test "--resume, --resume-failed: a row with an empty Host (a job that ran nowhere) is read" {
	{
		printf '%s\n' "$HEADER"
		printf '1\t\t1.000\t     0.000\t0\t0\t255\t0\t%s\n' "$EX 0"
		printf '2\t:\t1.000\t     0.100\t0\t0\t0\t0\t%s\n' "$EX 0"
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" 0 ::: a b c
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(ran)" '3'
	rm -f ran.*
	run --separate-stderr fp -j1 --joblog jl --resume-failed "$EX" 0 ::: a b c
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(ran)" '1'
}

@test "--resume: a bad row is an error naming the file, the line and the column: exit 255" {
	local -a bad=(
		$'1x\t:\t1.000\t     0.100\t0\t0\t0\t0\tx' 'Seq "1x" is invalid'
		$'7\t\t\t\t\t\t\t\t' 'Starttime "" is invalid'
		$'0\t:\t1.000\t     0.100\t0\t0\t0\t0\tx' 'Seq "0" is too small'
		$'9223372036854775808\t:\t1.000\t     0.100\t0\t0\t0\t0\tx' 'Seq "9223372036854775808" is too large'
		$' 5\t:\t1.000\t     0.100\t0\t0\t0\t0\tx' 'Seq " 5" is invalid'
		$'+5\t:\t1.000\t     0.100\t0\t0\t0\t0\tx' 'Seq "+5" is invalid'
		$'5\t:\t1.0x\t     0.100\t0\t0\t0\t0\tx' 'Starttime "1.0x" is invalid'
		$'5\t:\t1.000\tfast\t0\t0\t0\t0\tx' 'JobRuntime "fast" is invalid'
		$'5\t:\t1.000\t     0.100\t-1\t0\t0\t0\tx' 'Send "-1" is invalid'
		$'5\t:\t1.000\t     0.100\t0\t1e3\t0\t0\tx' 'Receive "1e3" is invalid'
		$'5\t:\t1.000\t     0.100\t0\t0\t\t0\tx' 'Exitval "" is invalid'
		$'5\t:\t1.000\t     0.100\t0\t0\t0x\t0\tx' 'Exitval "0x" is invalid'
		$'5\t:\t1.000\t     0.100\t0\t0\t0\t9x\tx' 'Signal "9x" is invalid'
		$'5\t:\t1.000\t     0.100\t0\t0\t0\t-9\tx' 'Signal "-9" is invalid'
		$'5\t\t1.0x' 'Starttime "1.0x" is invalid'
		$'5x\t:\t1.0' 'Seq "5x" is invalid'
		'garbage' 'Seq "garbage" is invalid'
	)
	local n mode
	for ((n = 0; n < ${#bad[@]}; n += 2)); do
		for mode in --resume --resume-failed --retry-failed; do
			{
				printf '%s\n' "$HEADER"
				printf '2\t:\t1.000\t     0.100\t0\t0\t1\t0\t%s\n' "$EX 0"
				printf '%s\n' "${bad[n]}"
				printf '4\t:\t1.000\t     0.100\t0\t0\t1\t0\t%s\n' "$EX 0"
			} >jl
			cp jl jl.orig
			run --separate-stderr fp -j1 --joblog jl "$mode" "$EX" 0 ::: a b c d e
			assert_output ''
			assert_equal "$stderr" "forkpool: jl:3: bad row: ${bad[n + 1]}"
			assert_equal "$(ran)" ''
			cmp jl jl.orig
		done
	done
}

@test "--resume: rows cut short anywhere, and headers, are skipped: those jobs run again" {
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
		printf '2\n'
		printf '3\t:\t1.000\t     0.100\t0\t0\t0\t0\n'
		printf 'Seq\tHost\tStart\n'
		printf '\n'
		printf '%s\n' "$HEADER"
		printf '4\t:\t1.000\t     0.100\t0\t0\t0\t0\tx\n'
		printf '5\t:\t1.0'
	} >jl
	run --separate-stderr fp -j1 --joblog jl --resume "$EX" 0 ::: a b c d e f
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(ran)" '2 3 5 6'
}

# --- crash safety ----------------------------------------------------------------------

# The runs killed are of 100 jobs printing 100 lines each, -j4 (crash.bash).
# crash_test WHO MODE DUPS CUTS OPTION...: kill 3 runs at random moments,
# then check what came out against the bound for MODE.
crash_test() {
	local who=$1 mode=$2 dups=$3 cuts=$4
	shift 4
	crash_rounds "$who" 3 100 0 "$@"
	((KILLED > 0)) || fail "no run was killed"
	assert_equal "$STATUS_LAST" 0
	assert_equal "$(cat err)" ''
	crash_check "$mode" "$dups" "$cuts" 100 0
}

@test "crash safety: kill -9 of forkpool, then --resume (--group): each job whole at least once; per kill one more, cut anywhere" {
	require_cmd setsid
	require_cmd ps
	crash_test fp group 1 1
}

@test "crash safety: kill -9 of forkpool, then --resume (-k): the same, and each run in input order" {
	require_cmd setsid
	require_cmd ps
	crash_test fp keep 1 1 -k
}

@test "crash safety: kill -9 of forkpool, then --resume (--line-buffer): per kill at most -j jobs more, each its first lines" {
	require_cmd setsid
	require_cmd ps
	crash_test fp line 4 4 --line-buffer
}

@test "crash safety: kill -9 of forkpool, then --resume (-u): per kill at most -j jobs more, printed whole by the jobs left running" {
	require_cmd setsid
	require_cmd ps
	crash_test fp line 4 0 -u
}

@test "crash safety: kill -9 of forkpool and its jobs, then --resume (--group, -k, -u): the same bounds" {
	require_cmd setsid
	require_cmd pkill
	require_cmd ps
	crash_test all group 1 1
	rm -f jl out err
	crash_test all keep 1 1 -k
	rm -f jl out err
	crash_test all line 4 4 -u
}

@test "crash safety: kill -9 while a job's output is being printed: --resume prints that job again whole after the part printed" {
	require_cmd mkfifo
	require_cmd dd
	# 188,895 bytes, more than a pipe holds: forkpool waits to write the
	# rest while the reader takes the first 100,000 and waits
	seq 30000 >want
	mkfifo fifo
	{
		dd bs=1000 count=100 iflag=fullblock of=out 2>/dev/null
		sleep 30
	} <fifo &
	local reader=$! pid i
	fp -j1 --joblog jl seq {} ::: 30000 >fifo 2>err &
	pid=$!
	for ((i = 0; i < 250; i++)); do
		[[ -s out ]] && (($(stat -c %s out) == 100000)) && break
		sleep 0.02
	done
	# forkpool blocked in its write: the row is not written yet
	sleep 0.2
	run cat jl
	assert_output "$HEADER"
	kill -9 "$pid"
	wait "$pid" || true
	kill "$reader"
	wait "$reader" || true
	assert_equal "$(stat -c %s out)" 100000
	fp -j1 --joblog jl --resume seq {} ::: 30000 >>out
	cmp out <(head -c 100000 want; cat want)
	run rows jl
	assert_output "$(printf '1\t0\t0\tseq 30000')"
	assert_equal "$(cat err)" ''
}

# Each job marks itself running in r/, waits, and prints how many jobs ran
# meanwhile: the highest count tells how many ran at once.
overlap_job() {
	mkdir -p r
	printf '%s' 'touch r/{}; sleep 0.4; ls r | wc -l; rm -f r/{}'
}

@test "-k after --resume keeps -j jobs running, though the job numbers skip" {
	run fp -k --joblog jl echo ::: 1 2 3 4
	assert_success
	run --separate-stderr fp -k -j4 --joblog jl --resume "$(overlap_job)" ::: 1 2 3 4 5 6 7 8 9 10 11 12
	assert_success
	assert_equal "${#lines[@]}" 8
	max=$(printf '%s\n' "${lines[@]}" | sort -n | tail -1)
	((max >= 3)) || fail "at most $max jobs ran at once at -j4"
}

@test "-k with --retry-failed keeps -j jobs running, though the job numbers skip" {
	run fp --joblog jl 'exit $(({} > 4))' ::: 1 2 3 4 5 6 7 8 9 10 11 12
	assert_failure 8
	# the failed jobs are 5 to 12: make each of them the overlap job
	mkdir r
	awk -F '\t' -v OFS='\t' -v cmd='f=r/$$; touch $f; sleep 0.4; ls r | wc -l; rm -f $f' \
		'NR > 1 { $9 = cmd } { print }' jl >jl2 && mv jl2 jl
	run --separate-stderr fp -k -j4 --joblog jl --retry-failed
	assert_success
	assert_equal "${#lines[@]}" 8
	max=$(printf '%s\n' "${lines[@]}" | sort -n | tail -1)
	((max >= 3)) || fail "at most $max jobs ran at once at -j4"
}

@test "--joblog - with a closed stdout exits 141 without a message" {
	run --separate-stderr bash -c '"$FP_BIN" --joblog - "sleep 0.2; : {}" ::: 1 2 3 | true; echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$stderr" ""
}

@test "--joblog - never blocks on a slow reader: --timeout still ends a job on time" {
	# 300 rows of 2 KB fill the pipe long before the reader wakes after 4 s
	run bash -c 'pad=$(printf "%02000d" 0); { echo 30; seq 300 | sed s/.*/0/; } |
	    "$FP_BIN" -j2 --timeout 1 --joblog - "sleep {}; : $pad" | { sleep 4; cat; }'
	assert_success
	assert_equal "${#lines[@]}" 302
	run awk -F'\t' '$1 == 1 && $4 < 2.5 { print "on time" }' <<<"$output"
	assert_output "on time"
}

@test "--joblog to a FIFO whose reader waits gets every row" {
	require_cmd strace
	mkfifo log.fifo
	cat log.fifo >got &
	local reader=$!
	# a pause before the second open of the FIFO, were there one, lets
	# the reader see the end of the first; LeakSanitizer cannot run
	# under ptrace
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 run strace -o /dev/null \
	    -P log.fifo -e trace=openat -e inject=openat:delay_enter=300000:when=2 \
	    "$FP_BIN" -k --joblog log.fifo echo ::: a b
	assert_success
	wait "$reader"
	assert_equal "$(wc -l <got)" 3
	assert_equal "$(cut -f 9 got | tail -n 2 | tr '\n' ' ')" "echo a echo b "
}
