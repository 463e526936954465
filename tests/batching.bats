#!/usr/bin/env bats
# Several records per job: -n, -N, -X, -s.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# 20 records of exactly 10 bytes each: rec0000001 .. rec0000020
ten_byte_records() {
	local i
	for i in $(seq 20); do printf 'rec%07d\n' "$i"; done
}

@test "-n N passes up to N records per job as separate arguments" {
	run fpin $'1\n2\n3\n4\n5\n' -k -n 2 "$SHOWARGS"
	assert_success
	assert_output $'2:<1><2>\n2:<3><4>\n1:<5>'
}

@test "-n N with {}: {} is all the job's records, one argument each" {
	run fpin $'a b\nc\nd\n' -k -n 2 "$SHOWARGS" first {} last
	assert_success
	assert_output $'4:<first><a b><c><last>\n3:<first><d><last>'
}

@test "--max-args is the long form of -n" {
	run fp -k --max-args 3 "$SHOWARGS" x ::: 1 2 3 4 5 6 7
	assert_success
	assert_output $'4:<x><1><2><3>\n4:<x><4><5><6>\n2:<x><7>'
}

@test "-n 1 is one record per job" {
	run fp -k -n 1 "$SHOWARGS" ::: a b
	assert_success
	assert_output $'1:<a>\n1:<b>'
}

@test "-N N gives exactly N records per job as {1}..{N}" {
	run fpin $'1\n2\n3\n4\n' -k -N 2 "$SHOWARGS" {2} {1}
	assert_success
	assert_output $'2:<2><1>\n2:<4><3>'
}

@test "-N: the last job may have fewer records; a word of a missing one is left out, as in GNU parallel" {
	run fpin $'1\n2\n3\n4\n5\n' -k -N 2 "$SHOWARGS" {1} {2}
	assert_success
	assert_output $'2:<1><2>\n2:<3><4>\n1:<5>'
}

@test "--max-replace-args is the long form of -N" {
	run fp -k --max-replace-args 3 "$SHOWARGS" {3}-{1} ::: a b c d e f
	assert_success
	assert_output $'1:<c-a>\n1:<f-d>'
}

@test "-N without replacement strings appends the N records" {
	run fpin $'1\n2\n3\n4\n' -k -N 2 "$SHOWARGS" x
	assert_success
	assert_output $'3:<x><1><2>\n3:<x><3><4>'
}

@test "-X puts all records in one job, repeating the word around {}" {
	run fp -j1 -X "$SHOWARGS" first pre{}post last ::: a b 'c d'
	assert_success
	assert_output '5:<first><preapost><prebpost><prec dpost><last>'
}

@test "--xargs is GNU parallel's: {} is all the values, the word around it once" {
	run fp -j2 --xargs echo a{}b ::: 1 2 3
	assert_success
	assert_output 'a1 2 3b'
	run fpin $'1\n2\n3\n' -j1 --xargs "$SHOWARGS" x{}y z
	assert_success
	assert_output '4:<x1><2><3y><z>'
}

@test "-m is --xargs that spreads the last values over the slots" {
	run fp -k -j2 -m echo a{}b c{}d ::: 1 2 3
	assert_success
	assert_output $'a1 2b c1 2d\na3b c3d'
	run fp -k -j1 -m echo a{}b ::: 1 2 3
	assert_success
	assert_output 'a1 2 3b'
}

@test "-X repeats the word around {} per value, -m does not: {1} and {.}" {
	run fp -k -j1 -X echo a{}b c{1}d ::: 1 2 3
	assert_success
	assert_output 'a1b a2b a3b c1d'
	run fp -k -j1 -m echo a{}b c{1}d 'e{.}' ::: 1.x 2.y
	assert_success
	assert_output 'a1.x 2.yb c1.xd e1 2'
}

@test "-X and -m spread the last values evenly over the slots, as GNU parallel" {
	local j n want
	# Lines of values per job, from GNU parallel 20221122.
	# From a file, whose end is seen at once: a pipe's may come later.
	while read -r j n want; do
		seq "$n" >in
		run fp -k -j"$j" -X echo <in
		assert_success
		assert_equal "$(tr '\n' '|' <<<"$output")" "$want"
		run fp -k -j"$j" -m echo <in
		assert_success
		assert_equal "$(tr '\n' '|' <<<"$output")" "$want"
	done <<-'EOF'
	2 1 1|
	2 3 1 2|3|
	2 10 1 2 3 4 5|6 7 8 9 10|
	3 10 1 2 3 4|5 6 7 8|9 10|
	4 7 1 2|3 4|5 6|7|
	4 10 1 2 3|4 5 6|7 8 9|10|
	EOF
}

@test "-X spreads only what is left after full command lines, -n too" {
	seq 10 >in
	run fp -k -j2 -s 20 -X echo <in
	assert_success
	assert_output $'1 2 3 4 5 6 7\n8 9\n10'
	run fp -k -j2 -n5 -X echo <in
	assert_success
	assert_output $'1 2 3 4 5\n6 7 8\n9 10'
	run fp -k -j2 -n3 echo <in
	assert_success
	assert_output $'1 2 3\n4 5 6\n7 8 9\n10'
}

@test "-n2 -X does not hold a full job back to see whether the input ends" {
	# Two values come, then the input stays open for 4 s: the first job
	# runs at once, before a third value or the end could be seen.
	run timeout 10 bash -c 'exec 3< <({ seq 2; sleep 4; } |
		"$FP_BIN" -j2 -n2 -X --line-buffer echo)
		read -t 2 -r a <&3 && echo "$a"'
	assert_success
	assert_output '1 2'
}

@test "-N repeats the word around {} per value, as GNU parallel" {
	run fp -k -N2 echo a{}b ::: 1 2 3 4
	assert_success
	assert_output $'a1b a2b\na3b a4b'
	run fp -k -N2 echo a{}b c{1}d ::: 1 2 3 4 5
	assert_success
	assert_output $'a1b a2b c1d\na3b a4b c3d\na5b c5d'
	run fp -k -n2 echo a{}b ::: 1 2 3 4
	assert_success
	assert_output $'a1 2b\na3 4b'
}

@test "-N0 and -n0 read one record per job and pass no value" {
	run fp -k -N0 echo x ::: 1 2 3
	assert_success
	assert_output $'x\nx\nx'
	run fpin $'a\nb\n' -k -n0 "$SHOWARGS" y {} '{#}'
	assert_success
	assert_output $'2:<y><1>\n2:<y><2>'
}

@test "-i and --replace are -I, {} without a string" {
	run fp -k -iXX echo aXXb ::: 1 2
	assert_success
	assert_output $'a1b\na2b'
	run fp -k -i echo a{}b ::: 1
	assert_success
	assert_output 'a1b'
	run fp -k --replace=@ echo a@b ::: 1
	assert_success
	assert_output 'a1b'
	run fp -k --replace echo a{}b ::: 1
	assert_success
	assert_output 'a1b'
}

@test "-i STR and --replace STR in a word of their own, as GNU parallel, when STR is in the command; else the command starts there, as xargs" {
	run fp --dry-run -k -i {} mv {} {}.bak ::: a.txt
	assert_success
	assert_output 'mv a.txt a.txt.bak'
	run fp --dry-run -k --replace @@ echo x@@y ::: 1
	assert_success
	assert_output 'echo x1y'
	run fp -k -i echo got {} ::: 1
	assert_success
	assert_output 'got 1'
	run fp -k -i -k echo got {} ::: 2
	assert_success
	assert_output 'got 2'
}

@test "-l N and --max-lines N in a word of their own take N when it is a number, as GNU parallel" {
	run fp --dry-run -k -l 2 echo ::: a b c
	assert_success
	assert_output $'echo a b\necho c'
	run fp --dry-run -k --max-lines 2 echo ::: a b c
	assert_success
	assert_output $'echo a b\necho c'
	run fp --dry-run -k -l echo ::: a b
	assert_success
	assert_output $'echo a\necho b'
}

@test "-X -s MAX splits the records so that each command line fits" {
	# "/bin/echo" + 5 records of 10 bytes fits in 65 bytes however separators
	# and terminators are counted; 6 records never do.
	run fp -k -j1 -X -s 65 /bin/echo {} < <(ten_byte_records)
	assert_success
	assert_output "$(ten_byte_records | paste -d ' ' - - - - -)"
}

@test "--max-chars is the long form of -s" {
	run fp -k -j1 -X --max-chars 65 /bin/echo {} < <(ten_byte_records)
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 'rec0000001 rec0000002 rec0000003 rec0000004 rec0000005'
}

@test "-n N -s MAX: the byte limit wins over N" {
	run fp -k -j1 -n 10 -s 65 /bin/echo < <(ten_byte_records)
	assert_success
	assert_output "$(ten_byte_records | paste -d ' ' - - - - -)"
}

@test "-X without -s runs 500 records in a single job" {
	run fp -j1 -X "$SHOWARGS" {} < <(seq 500)
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output "$(showargs_expect $(seq 500))"
}

@test "-X with {#} in the repeated word: full command lines, quickly" {
	# {#} is not in the per-record estimate, so the first guess is far too
	# many records; finding how many fit took minutes when it took off one
	# record at a time.
	seq 100000 >records
	run timeout 60 "$FP_BIN" -X --dry-run echo '{}x{#}{#}{#}{#}{#}' <records
	assert_success
	# Every record once, in lines of at most 128 KiB that are nearly full:
	# the 1.19 MB of words take 10 lines.
	assert_equal "$(awk '{ n += NF - 1 } END { print n }' <<<"$output")" 100000
	assert_equal "$(awk 'length($0) >= 131072' <<<"$output")" ''
	assert_equal "${#lines[@]}" 10
}

@test "-s: a record too long to fit alone is reported and counts as failed" {
	local long
	long=$(printf 'x%.0s' $(seq 200))
	run --separate-stderr fpin "short"$'\n'"$long"$'\n'"ok"$'\n' -k -s 100 echo
	assert_failure 1
	assert_output $'short\nok'
	assert_equal "$stderr" "forkpool: input record 2: too long for a command line of 100 bytes"
}

@test "-X -s: a record too long alone fails, the others still run" {
	local long
	long=$(printf 'y%.0s' $(seq 300))
	run --separate-stderr fpin "a"$'\n'"$long"$'\n'"c"$'\n' -j1 -X -s 100 echo {}
	assert_failure 1
	run sort <<<"$(tr ' ' '\n' <<<"$output")"
	assert_output $'a\nc'
	assert_equal "$stderr" "forkpool: input record 2: too long for a command line of 100 bytes"
}

@test "without -s, a record beyond the system's limit is reported as too long, in both exec modes and with -0" {
	# 200 KB: more than one argument may hold (128 KiB on Linux)
	head -c 200000 /dev/zero | tr '\0' z >long
	local mode delim
	for mode in direct shell; do
		for delim in '\n' '\0'; do
			printf "a${delim}%s${delim}c${delim}" "$(cat long)" >in
			run --separate-stderr fp -k --exec-mode "$mode" -d "$delim" echo <in
			assert_failure 1
			assert_output $'a\nc'
			[[ $stderr =~ ^forkpool:\ input\ record\ 2:\ too\ long\ for\ a\ command\ line\ of\ [0-9]+\ bytes$ ]] ||
				fail "$mode, -d $delim: unexpected diagnostic: $stderr"
		done
	done
}

@test "a record past the line limit that the command leaves out still runs: {#}, -N and --colsep" {
	# 300 KB: over the line limit, but none of it is on these lines
	head -c 300000 /dev/zero | tr '\0' z >long
	{ echo a; cat long; echo; echo c; } >in
	run --separate-stderr fp -k echo '{#}' <in
	assert_success
	assert_output $'1\n2\n3'
	assert_equal "$stderr" ""

	run --separate-stderr fp -k -N 2 echo '{1}' <in
	assert_success
	assert_output $'a\nc'
	assert_equal "$stderr" ""

	{ printf 'x,'; cat long; printf '\ny,w\n'; } >in
	run --separate-stderr fp -k --colsep , echo '{1}' <in
	assert_success
	assert_output $'x\ny'
	assert_equal "$stderr" ""
}

@test "a record past the line limit: a NUL byte in it is reported first, and -r still skips it when blank" {
	# the NUL comes after the first 256 KiB of the record
	{ echo a; head -c 300000 /dev/zero | tr '\0' z; printf '\0z\nc\n'; } >in
	run --separate-stderr fp -k echo <in
	assert_failure 1
	assert_output $'a\nc'
	assert_equal "$stderr" "forkpool: input record 2: contains a NUL byte"

	{ echo a; head -c 300000 /dev/zero | tr '\0' ' '; printf '\t\nc\n'; } >in
	run --separate-stderr fp -k -r echo <in
	assert_success
	assert_output $'a\nc'
	assert_equal "$stderr" ""
}

@test "invalid -n value is a usage error naming -n" {
	run --separate-stderr fp -n abc echo ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*(-n|--max-args).*abc'
}

@test "invalid -N value is a usage error naming -N" {
	run --separate-stderr fp -N x1 echo ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*(-N|--max-replace-args).*x1'
}

@test "invalid -s value is a usage error naming -s" {
	run --separate-stderr fp -s 12q echo ::: a
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*(-s|--max-chars).*12q'
}

@test "-L N: N lines per job, the word around {} repeated, as GNU parallel" {
	run fpin $'a b\nc d\ne\n' -k -L2 "$SHOWARGS" x{}y
	assert_success
	assert_output $'2:<xa by><xc dy>\n1:<xey>'
	run fpin $'a\nb\nc\nd\n' -k -L2 "$SHOWARGS" x{1}y
	assert_success
	assert_output $'1:<xay>\n1:<xcy>'
	run fpin $'a\nb\nc\nd\n' -k -j1 -L2 -m echo x{}y
	assert_success
	assert_output $'xa by\nxc dy'
}

@test "-L: a line ending in a blank goes on on the next; blank lines do not count" {
	run fpin $'a \nb\n\nc\n \nd\ne\t\nf\n' -k -L2 "$SHOWARGS"
	assert_success
	assert_output $'2:<a b><c>\n2:<d><e\tf>'
}

@test "-l is -L 1, -l N and --max-lines=N are -L N, -L 0 passes no value" {
	run fpin $'a \nb\nc\n' -k -l "$SHOWARGS"
	assert_success
	assert_output $'1:<a b>\n1:<c>'
	run fpin $'a\nb\nc\n' -k -l2 "$SHOWARGS"
	assert_success
	assert_output $'2:<a><b>\n1:<c>'
	run fpin $'a\nb\nc\n' -k --max-lines=2 "$SHOWARGS"
	assert_success
	assert_output $'2:<a><b>\n1:<c>'
	run fpin $'a\nb\nc\n' -k -L0 echo x
	assert_success
	assert_output $'x\nx\nx'
	run fpin $'a\nb\n' -k -l0 echo
	assert_success
	assert_output $'a\nb'
}

@test "-L with -n or -N is a usage error; a bad -L names it" {
	run --separate-stderr fp -L2 -n2 echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: -L and -n cannot be used together"
	run --separate-stderr fp -L x echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: -L x: invalid"
}

@test "-E EOF: the input ends at a record equal to EOF, without an error" {
	run --separate-stderr fpin $'a\nEND\nb\n' -k -E END echo
	assert_success
	assert_output 'a'
	assert_equal "$stderr" ""
	run fp -k -E END echo ::: q w END r
	assert_success
	assert_output $'q\nw'
	run fpin $'a\nEND\nb\n' -k --eof=END echo
	assert_success
	assert_output 'a'
	run fpin $'a\nEND\nb\n' -k -eEND echo
	assert_success
	assert_output 'a'
	# -e alone: no end string.
	run fpin $'a\nEND\n' -k -e echo
	assert_success
	assert_output $'a\nEND'
	printf 'f1\nEND\nf2\n' >f
	run fp -k -E END echo :::: f
	assert_success
	assert_output 'f1'
}

@test "--arg-sep and --arg-file-sep replace ::: and ::::" {
	printf 'f1\nf2\n' >f
	run fp -k --arg-sep ,, echo ,, a b
	assert_success
	assert_output $'a\nb'
	run fp -k --arg-sep ,, echo ::: ,, a
	assert_success
	assert_output '::: a'
	run fp -k --arg-file-sep ,, echo ,, f
	assert_success
	assert_output $'f1\nf2'
	run fp -k --arg-sep ,, echo ,, a b ,,+ 1 2
	assert_success
	assert_output $'a 1\nb 2'
	run --separate-stderr fp --arg-sep '' echo
	assert_failure 255
	assert_equal "$stderr" "forkpool: --arg-sep: the separator is empty"
	run --separate-stderr fp --arg-file-sep ::: echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --arg-sep and --arg-file-sep are both :::, so values and files could not be told apart'
	run --separate-stderr fp --arg-sep , --arg-file-sep , echo , a
	assert_failure 255
}

@test "--max-line-length-allowed prints the longest command line and exits 0" {
	run --separate-stderr fp --max-line-length-allowed
	assert_success
	assert_regex "$output" '^[0-9]+$'
	local max=$output
	run --separate-stderr fp -s $((max + 1)) true ::: a
	assert_success
	assert_equal "$stderr" "forkpool: -s $((max + 1)): lowered to $max, the system's limit"
}

@test "differential: -X, -m, --xargs, -N, -L and -E as GNU parallel" {
	require_cmd parallel
	local args
	for args in "-X echo a{}b" "-m echo a{}b c{}d" "--xargs echo a{}b" \
		"-N2 echo a{}b c{1}d" "-L2 echo x{}y" "-E 5 echo" "-N0 echo x" \
		"-n5 -X echo"; do
		seq 11 >in
		# shellcheck disable=SC2086
		run fp -k -j3 $args <in
		# shellcheck disable=SC2086
		assert_output "$(seq 11 | parallel -k -j3 $args)"
	done
}

@test "differential: -n with -s as xargs" {
	require_cmd xargs
	run fp -k -j1 -n 4 -s 30 echo < <(seq 20)
	assert_output "$(seq 20 | xargs -n 4 -s 30 echo)"
}

@test "-x: a job that -s would cut short of -n N values stops the run (255)" {
	run --separate-stderr fp -k -j1 -x -n 4 -s 12 echo < <(seq 20)
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: -x: -n 4: the job from input record 1 does not fit in a command line of 12 bytes"
	run --separate-stderr fp -k -j1 --exit -n 2 -s 12 echo < <(seq 4)
	assert_success
	assert_output $'1 2\n3 4'
}

@test "-X, -N, -L in a shell line: the repeated word stops at ; & | ( ) < > and newlines" {
	run fp -j1 -X 'echo {}; true' ::: a b c
	assert_success
	assert_output 'a b c'
	run fp -j1 -X 'for f in {}; do echo "<$f>"; done' ::: a 'b c'
	assert_success
	assert_output $'<a>\n<b c>'
	run fp -j1 -X 'echo $(echo x{}y)' ::: a b
	assert_success
	assert_output 'xay xby'
	run fp -k -N2 'echo {}&& echo "[{} ]"|cat' ::: 1 2 3 4
	assert_success
	assert_output $'1 2\n[1 ] [2 ]\n3 4\n[3 ] [4 ]'
	run fp -j1 -L2 'echo {}>out; cat out' ::: a b
	assert_success
	assert_output 'a b'
	run fp -j1 -X $'echo {}\necho end' ::: a b
	assert_success
	assert_output $'a b\nend'
}

@test "-X in a shell line: a quoted blank or a nested command does not end the repeated word" {
	run fp -j1 -X 'echo "<{} x>" {}$(echo ";")' ::: a b
	assert_success
	assert_output '<a x> <b x> a; b;'
	run fp -j1 -X 'echo {}; echo $(( {} + 1 ))' ::: 1 2
	assert_success
	assert_output $'1 2\n2 3'
}

@test "-X in a shell line: a value with shell syntax is still data" {
	run fp -j1 -X 'echo {}; true' ::: 'a;b' '$(id)' '|'
	assert_success
	assert_output 'a;b $(id) |'
}

@test "-N N: a job gets fewer records when N do not fit the line, as with -n" {
	run fp -k -j1 -N 3 -s 8 echo < <(seq 5)
	assert_success
	assert_output $'1\n2\n3\n4\n5'
	# "echo 1 2" takes 9 bytes (NULs counted), "echo 1 2 3" 11.
	run fp -k -j1 -N 3 -s 10 echo < <(seq 5)
	assert_success
	assert_output $'1 2\n3 4\n5'
	seq 100000 >in
	run fp -k -j1 -N 50000 echo <in
	assert_success
	assert_equal "$(wc -w <<<"$output")" 100000
	assert_equal "$(tr ' ' '\n' <<<"$output")" "$(cat in)"
	[[ ${#lines[@]} -gt 2 ]] || fail "${#lines[@]} lines: no job was made smaller"
}

@test "-x -N N: a job cut short of N records stops the run (255)" {
	run --separate-stderr fp -k -j1 -x -N 3 -s 8 echo < <(seq 5)
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: -x: -N 3: the job from input record 1 does not fit in a command line of 8 bytes"
}

@test "-x: a record that does not fit alone is named, with -X and with -L" {
	run --separate-stderr fp -k -j1 -x -X -s 12 echo ::: 1 2 3456789 4
	assert_failure 255
	assert_output '1 2'
	assert_equal "$stderr" "forkpool: -x: input record 3 does not fit in a command line of 12 bytes"
	run --separate-stderr fp -k -j1 -x -L 2 -s 8 echo < <(printf '1\n2\n3\n')
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: -x: -L 2: the job from input record 1 does not fit in a command line of 8 bytes"
}

@test "-N repeats the word around {} even with -m or --xargs; -L does not, as GNU parallel" {
	run fp -k -j1 -N2 -m echo a{}b ::: 1 2 3 4
	assert_success
	assert_output $'a1b a2b\na3b a4b'
	run fp -k -j1 -N2 --xargs echo a{}b ::: 1 2 3 4
	assert_success
	assert_output $'a1b a2b\na3b a4b'
	run fp -k -j1 -L2 -m echo a{}b ::: 1 2 3 4
	assert_success
	assert_output $'a1 2b\na3 4b'
}

@test "-N0 and -L0: {} is empty, the rest of its word stays, as GNU parallel" {
	run fpin $'a\nb\n' -k -N0 echo hi{}
	assert_success
	assert_output $'hi\nhi'
	run fpin $'a\nb\n' -k -N0 echo '{#}:{}'
	assert_success
	assert_output $'1:\n2:'
	run fpin $'a\nb\n' -k -L0 'echo "<x{}y>"; true'
	assert_success
	assert_output $'<xy>\n<xy>'
}

@test "a bad number given to a long option names the long option" {
	run --separate-stderr fp --max-lines=abc echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --max-lines abc: invalid"
	run --separate-stderr fp --max-args abc echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --max-args abc: invalid"
	run --separate-stderr fp --max-replace-args=0x echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --max-replace-args 0x: invalid"
	run --separate-stderr fp --max-chars=12q echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --max-chars 12q: invalid"
}

@test "-L: values of ::: are lines too: a blank one is skipped, one ending in a blank goes on" {
	run fp -k -L1 echo '[{}]' ::: 'a ' '' b
	assert_success
	assert_output '[a b]'
	run fp -k -L2 "$SHOWARGS" ::: 'a ' b ' ' c d$'\t' e
	assert_success
	assert_output $'2:<a b><c>\n1:<d\te>'
	printf 'a \n\nb\n' >in
	run fp -k -L1 echo '[{}]' :::: in
	assert_success
	assert_output '[a b]'
}

@test "{##} and {0#} take their real width in the line limit, not the widest number's" {
	# "echo 2 a" takes 9 bytes, NULs counted.
	run fpin $'a\nb\n' -k -j1 -s 10 --plus echo '{##}' {}
	assert_success
	assert_output $'2 a\n2 b'
	run fpin $'a\nb\n' -k -j1 -s 10 --plus echo '{0#}' {}
	assert_success
	assert_output $'1 a\n2 b'
	# 12 records: {##} is measured at 2 digits, 7 bytes and 4 values each.
	run fp -k -j1 -s 16 --plus -X echo '{##}' {} ::: a b c d e f g h i j k l
	assert_success
	assert_output $'3 a b c d\n3 e f g h\n3 i j k l'
}

@test "-x with -N or -L: a job the line cuts short stops the run with {1} {2} as with {}" {
	run --separate-stderr fp -j1 -N2 -s 20 -x echo {1} {2} ::: aaaaaaaaaa bbbbbbbbbb cccc
	assert_failure 255
	assert_output ''
	run --separate-stderr fp -j1 -L2 -s 20 -x echo {1} {2} ::: aaaaaaaaaa bbbbbbbbbb cccc
	assert_failure 255
	assert_output ''
	run --separate-stderr fp -j1 -N2 -s 40 -x echo {1} {2} ::: aaaaaaaaaa bbbbbbbbbb cccc
	assert_success
	assert_output $'aaaaaaaaaa bbbbbbbbbb\ncccc'
}
