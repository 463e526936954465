#!/usr/bin/env bats
# Input sources: stdin, -a, :::, ::::, :::+, ::::+, --link, -0, -d, --colsep, -r
# (--colsep patterns and --trim: colsep.bats).

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# --- stdin ------------------------------------------------------------------

@test "records come from stdin, one per line" {
	run --separate-stderr fpin $'a\nb\nc\n' -k "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>\n1:<c>'
	assert_equal "$stderr" ""
}

@test "last line without a trailing newline is still a record" {
	run --separate-stderr fpin $'one\ntwo' -k "$SHOWARGS"
	assert_success
	assert_output $'1:<one>\n1:<two>'
}

@test "a record with spaces is a single argument" {
	run fpin $'a b  c\n' "$SHOWARGS"
	assert_success
	assert_output '1:<a b  c>'
}

@test "empty input runs no job and exits 0" {
	run --separate-stderr fpin '' "$SHOWARGS"
	assert_success
	assert_output ''
	assert_equal "$stderr" ""
}

@test "empty lines are records unless -r" {
	run fpin $'a\n\nb\n' -k "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<>\n1:<b>'
}

@test "-r skips empty and blank-only records" {
	run fpin $'a\n\n   \n\t\n \t \nb\n' -k -r "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>'
}

@test "--no-run-if-empty is the long form of -r" {
	run fpin $'\n x\n\n' -k --no-run-if-empty "$SHOWARGS"
	assert_success
	assert_output '1:< x>'
}

@test "-r with only blank input runs nothing" {
	run fpin $'\n  \n\n' -r "$SHOWARGS"
	assert_success
	assert_output ''
}

# --- -a / --arg-file --------------------------------------------------------

@test "-a FILE reads records from FILE" {
	printf 'x\ny\n' >in1
	run fp -k -a in1 "$SHOWARGS" </dev/null
	assert_success
	assert_output $'1:<x>\n1:<y>'
}

@test "--arg-file is the long form of -a" {
	printf 'x\ny\n' >in1
	run fp -k --arg-file in1 "$SHOWARGS" </dev/null
	assert_success
	assert_output $'1:<x>\n1:<y>'
}

@test "-a - reads stdin" {
	run fpin $'p\nq\n' -k -a - "$SHOWARGS"
	assert_success
	assert_output $'1:<p>\n1:<q>'
}

@test "repeated -a gives one source each, combined as a cross product" {
	printf '1\n2\n' >in1
	printf 'a\nb\n' >in2
	run fp -k -a in1 -a in2 "$SHOWARGS" </dev/null
	assert_success
	assert_output $'2:<1><a>\n2:<1><b>\n2:<2><a>\n2:<2><b>'
}

@test "-a with a missing file exits 255 naming the file" {
	run --separate-stderr fp -a "$BATS_TEST_TMPDIR/no-such-file" "$SHOWARGS" </dev/null
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: $BATS_TEST_TMPDIR/no-such-file: No such file or directory"
}

# --- ::: and :::: ------------------------------------------------------------

@test "::: values are records and stdin is not read" {
	run fpin $'from-stdin\n' -k "$SHOWARGS" ::: a 'b c' ''
	assert_success
	assert_output $'1:<a>\n1:<b c>\n1:<>'
}

@test ":::: FILE reads records from FILE" {
	printf 'f1\nf2\n' >in1
	run fp -k "$SHOWARGS" :::: in1 </dev/null
	assert_success
	assert_output $'1:<f1>\n1:<f2>'
}

@test ":::: - reads stdin" {
	run fpin $'s1\ns2\n' -k "$SHOWARGS" :::: -
	assert_success
	assert_output $'1:<s1>\n1:<s2>'
}

@test ":::: with several files makes one source per file" {
	printf '1\n2\n' >in1
	printf 'a\nb\n' >in2
	run fp -k "$SHOWARGS" :::: in1 in2 </dev/null
	assert_success
	assert_output $'2:<1><a>\n2:<1><b>\n2:<2><a>\n2:<2><b>'
}

@test ":::: with a missing file exits 255 naming the file" {
	run --separate-stderr fp "$SHOWARGS" :::: missing.txt </dev/null
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: missing.txt: No such file or directory"
}

@test "cross product of three sources: the last varies fastest" {
	run fp -k "$SHOWARGS" ::: a b ::: 1 2 ::: x y
	assert_success
	assert_output "$(printf '3:<%s><%s><%s>\n' a 1 x a 1 y a 2 x a 2 y b 1 x b 1 y b 2 x b 2 y)"
}

@test "::: and :::: sources combine in command-line order" {
	printf '1\n2\n' >in1
	run fp -k "$SHOWARGS" :::: in1 ::: a b
	assert_success
	assert_output $'2:<1><a>\n2:<1><b>\n2:<2><a>\n2:<2><b>'
}

@test ":::: - combined with ::: values" {
	run fpin $'1\n2\n' -k "$SHOWARGS" ::: a b :::: -
	assert_success
	assert_output $'2:<a><1>\n2:<a><2>\n2:<b><1>\n2:<b><2>'
}

# --- linking ------------------------------------------------------------------

@test ":::+ links values pairwise with the previous source" {
	run fp -k "$SHOWARGS" ::: a b c :::+ 1 2 3
	assert_success
	assert_output $'2:<a><1>\n2:<b><2>\n2:<c><3>'
}

@test ":::+ stops at the end of the shorter source" {
	run fp -k "$SHOWARGS" ::: a b c :::+ 1 2
	assert_success
	assert_output $'2:<a><1>\n2:<b><2>'

	run fp -k "$SHOWARGS" ::: a :::+ 1 2 3
	assert_success
	assert_output '2:<a><1>'
}

@test ":::+ links only to the previous source; the result is crossed with the others" {
	run fp -k "$SHOWARGS" ::: a b ::: 1 2 :::+ x y
	assert_success
	assert_output $'3:<a><1><x>\n3:<a><2><y>\n3:<b><1><x>\n3:<b><2><y>'
}

@test "::::+ links a file pairwise with the previous source" {
	printf '1\n2\n3\n' >nums
	printf 'one\ntwo\nthree\n' >words
	run fp -k "$SHOWARGS" :::: nums ::::+ words </dev/null
	assert_success
	assert_output $'2:<1><one>\n2:<2><two>\n2:<3><three>'
}

@test "::::+ stops at the end of the shorter source" {
	printf 'one\ntwo\n' >words
	run fp -k "$SHOWARGS" ::: 1 2 3 4 ::::+ words </dev/null
	assert_success
	assert_output $'2:<1><one>\n2:<2><two>'
}

@test "--link pairs all sources and wraps the shorter ones around" {
	run fp -k --link "$SHOWARGS" ::: a b c ::: 1 2 ::: x
	assert_success
	assert_output $'3:<a><1><x>\n3:<b><2><x>\n3:<c><1><x>'
}

@test "--link with equal lengths pairs one to one" {
	run fp -k --link "$SHOWARGS" ::: a b ::: 1 2
	assert_success
	assert_output $'2:<a><1>\n2:<b><2>'
}

# --- delimiters ---------------------------------------------------------------

@test "-0 splits records on NUL; newlines and spaces are data" {
	run fp -k -0 "$SHOWARGS" < <(printf 'a b\0c\nd\0e\0')
	assert_success
	assert_output $'1:<a b>\n1:<c\nd>\n1:<e>'
}

@test "--null is the long form of -0; last record needs no terminator" {
	run fp -k --null "$SHOWARGS" < <(printf 'x\0y')
	assert_success
	assert_output $'1:<x>\n1:<y>'
}

@test "-d CHAR splits records on a literal character" {
	run fpin 'a,b,c' -k -d , "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>\n1:<c>'
}

@test "-d: a trailing delimiter does not make an extra empty record" {
	run fpin 'a,b,' -k -d , "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>'
}

@test "-d: newline is data when it is not the delimiter" {
	run fpin $'x\ny,z' -k --delimiter , "$SHOWARGS"
	assert_success
	assert_output $'1:<x\ny>\n1:<z>'
}

@test "-d '\\t' splits on TAB" {
	run fpin $'a\tb c\td' -k -d '\t' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b c>\n1:<d>'
}

@test "-d '\\n' splits on newline" {
	run fpin $'a\nb\n' -k -d '\n' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>'
}

@test "-d '\\0' behaves like -0" {
	run fp -k -d '\0' "$SHOWARGS" < <(printf 'a\nb\0c\0')
	assert_success
	assert_output $'1:<a\nb>\n1:<c>'
}

@test "-d '\\\\' splits on a backslash" {
	run fpin 'a\b\c' -k -d '\\' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>\n1:<c>'
}

@test "-d '\\xHH' splits on the byte with that hex code" {
	run fpin 'a;b;c' -k -d '\x3b' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>\n1:<c>'

	run fpin 'aXbXc' -k -d '\x58' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>\n1:<c>'
}

@test "-d '\\x' takes only hex digits: no sign, no blank" {
	local a
	for a in '\x-1' '\x+f' '\x 9' '\x-' '\xg'; do
		run --separate-stderr fpin 'a' -d "$a" "$SHOWARGS"
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" "forkpool: -d $a: invalid hex escape"
	done
	run fpin $'a\xffb' -k -d '\xFf' "$SHOWARGS"
	assert_success
	assert_output $'1:<a>\n1:<b>'
}

@test "-d with more than one character is a usage error (255)" {
	run --separate-stderr fpin 'a' -d ab "$SHOWARGS"
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*(-d|--delimiter)'
}

# --- NUL inside a record ------------------------------------------------------

@test "a record containing NUL is reported with its number, fails, others run" {
	run --separate-stderr fp -k "$SHOWARGS" < <(printf 'a\nb\0c\nd\n')
	assert_failure 1
	assert_output $'1:<a>\n1:<d>'
	assert_equal "$stderr" "forkpool: input record 2: contains a NUL byte"
}

@test "NUL records are counted one failed job each" {
	run --separate-stderr fp -k -d , "$SHOWARGS" < <(printf '\0x,ok,y\0,z\0z')
	assert_failure 3
	assert_output '1:<ok>'
	assert_equal "$stderr" $'forkpool: input record 1: contains a NUL byte\nforkpool: input record 3: contains a NUL byte\nforkpool: input record 4: contains a NUL byte'
}

# --- --colsep -----------------------------------------------------------------

@test "--colsep splits records into columns {1}..{n}" {
	run fpin $'a,b,c\n1,2,3\n' -k --colsep , "$SHOWARGS" {3} {1} {2}
	assert_success
	assert_output $'3:<c><a><b>\n3:<3><1><2>'
}

@test "--colsep: runs of separators with + and *" {
	run fpin $'a, b;;c\n' --colsep '[,;]+ *' "$SHOWARGS" {1} {2} {3}
	assert_success
	assert_output '3:<a><b><c>'

	run fpin $'x::y:::z\n' --colsep ':+' "$SHOWARGS" {1} {2} {3}
	assert_success
	assert_output '3:<x><y><z>'
}

@test "--colsep: negative column counts from the end, out of range is left out" {
	run fpin $'a b c\n' --colsep ' ' "$SHOWARGS" {-1} {-3} {4} {-4}
	assert_success
	assert_output '2:<c><a>'
}

@test "--colsep columns accept the path modifiers" {
	run fpin $'d/f.txt\tx/y/z.c\n' --colsep $'\t' "$SHOWARGS" {1.} {2/} {2//} {2/.}
	assert_success
	assert_output '4:<d/f><z.c><x/y><z>'
}

# --- every byte value -----------------------------------------------------------

@test "every byte value but NUL reaches the job unchanged, from stdin, with -0 and with newlines, in both exec modes" {
	local hexargs b mode want0='' wantnl=''
	# one line per argument: its bytes in hex
	hexargs=$(mkscript hexargs 'for a; do printf %s "$a" | od -An -tx1 -v | tr -d " \n"; echo; done')
	: >in0
	: >innl
	for ((b = 1; b < 256; b++)); do
		printf "\\x$(printf %02x "$b")\\0" >>in0
		want0+=$(printf '%02x' "$b")$'\n'
		((b == 10)) && continue
		printf "\\x$(printf %02x "$b")\\n" >>innl
		wantnl+=$(printf '%02x' "$b")$'\n'
	done
	for mode in direct shell; do
		run --separate-stderr fp -j1 -X -0 --exec-mode "$mode" "$hexargs" <in0
		assert_success
		assert_output "${want0%$'\n'}"
		run --separate-stderr fp -j1 -X --exec-mode "$mode" "$hexargs" <innl
		assert_success
		assert_output "${wantnl%$'\n'}"
	done
}

@test "a lone ::: or :::: with nothing after it is no source: the input is stdin, as in GNU parallel" {
	run --separate-stderr fp -k echo x ::: < <(printf 'a\nb\n')
	assert_success
	assert_output $'x a\nx b'
	assert_equal "$stderr" ''
	run --separate-stderr fp -k echo x :::: < <(printf 'a\nb\n')
	assert_success
	assert_output $'x a\nx b'
	# With -a, the file is the source, as without the separator.
	printf 'f\n' >file
	run --separate-stderr fp -k -a file echo x ::: < <(printf 'a\n')
	assert_success
	assert_output 'x f'
	assert_equal "$stderr" ''
	# Two empty ones are still two empty sources.
	run --separate-stderr fp echo ::: ::: < <(printf 'a\n')
	assert_success
	assert_output ''
	# A :::: followed by a ::: still wants its file.
	run --separate-stderr fp echo :::: ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: ::::: expects at least one file'
}

@test "an empty ::: or :::: source beside others is reported: no job runs, and the warning names it" {
	run --separate-stderr fp echo ::: a b :::
	assert_success
	assert_output ''
	assert_equal "$stderr" 'forkpool: input source 2 (:::) is empty, so no job runs'
	: >empty
	run --separate-stderr fp echo ::: a b :::: empty ::: c
	assert_success
	assert_output ''
	assert_equal "$stderr" 'forkpool: input source 2 (empty) is empty, so no job runs'
	run --separate-stderr fp --link echo ::: a b :::
	assert_success
	assert_equal "$stderr" 'forkpool: input source 2 (:::) is empty, so no job runs'
	run --separate-stderr fp echo :::: empty
	assert_success
	assert_equal "$stderr" ''
}
