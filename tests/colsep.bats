#!/usr/bin/env bats
# --colsep as a Perl-style regular expression, and --trim.  The expected
# outputs are what GNU parallel 20221122 prints for the same input, pattern
# and `echo {1}-{2}-{3}/{-1}`; forkpool is held to agree with it.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# cols PATTERN INPUT...: the records INPUT, one a line, split on PATTERN;
# prints {1}-{2}-{3}/{-1} for each.
cols() {
	local pat=$1
	shift
	printf '%s\n' "$@" | "$FP_BIN" -k --colsep "$pat" echo '{1}-{2}-{3}/{-1}'
}

# --- the pattern -------------------------------------------------------------

@test "--colsep '\\t' splits on TAB, not on the letter t" {
	run --separate-stderr cols '\t' $'a\tb\tc' 'atb'
	assert_success
	assert_output $'a-b-c/c\natb--/atb'
	assert_equal "$stderr" ""
}

@test "--colsep takes Perl's classes: \\s+ and \\d" {
	run cols '\s+' $'a  b\tc' 'x1y'
	assert_success
	assert_output $'a-b-c/c\nx1y--/x1y'

	run cols '\d' 'a1b22c'
	assert_success
	assert_output 'a-b-/c'
}

@test "--colsep takes (?i), [...] and | as Perl does" {
	run cols '(?i)x' 'aXbxc'
	assert_success
	assert_output 'a-b-c/c'

	run cols '[,;]' 'a,b;c'
	assert_success
	assert_output 'a-b-c/c'

	run cols ',|;' 'a,b;c' 'd;;e'
	assert_success
	assert_output $'a-b-c/c\nd--e/e'
}

@test "--colsep: a separator at either end makes an empty column there; an empty record is one empty column" {
	run --separate-stderr fpin $',a,\n\n' -k --colsep , "$SHOWARGS" {1} {2} {3}
	assert_success
	# The empty record's missing columns are left out, as in GNU parallel.
	assert_output $'3:<><a><>\n1:<>'
	assert_equal "$stderr" ""

	# with no replacement string every column is an argument
	run fpin $',a,\n\n' -k --colsep , "$SHOWARGS"
	assert_success
	assert_output $'3:<><a><>\n1:<>'
}

@test "--colsep: a pattern that can match the empty string splits between characters, never loops" {
	# Perl's split: an empty match never makes an empty column at the
	# start of one, and the end of the record still closes a last column.
	run cols ',*' 'a,,b' 'ab' ',a'
	assert_success
	assert_output $'a-b-/\na-b-/\n-a-/'

	run cols 'x*' 'axxbc'
	assert_success
	assert_output 'a-b-c/'

	run cols '\b' 'ab cd'
	assert_success
	assert_output 'ab--cd/'

	run cols '$' 'ab'
	assert_success
	assert_output 'ab--/'

	run cols '(?=b)' 'abab'
	assert_success
	assert_output 'a-ba-b/b'

	run --separate-stderr timeout 10 "$FP_BIN" --colsep 'z*' "$SHOWARGS" ::: abc
	assert_success
	assert_output '4:<a><b><c><>'
	assert_equal "$stderr" ""
}

@test "--colsep: columns of each source are joined, in source order" {
	run fp --colsep , echo '{1}-{2}-{3}-{4}' ::: ' a,b ' ::: 'c , d'
	assert_success
	assert_output 'a-b-c-d'
}

@test "--colsep: a record of 1,000,000 columns is split in linear time" {
	# 200,000 columns took 1 s and 1,000,000 took 25 s when each match
	# cost the rest of the record; now both take a fraction of a second.
	awk 'BEGIN { for (i = 1; i < 1000000; i++) printf "%d,", i; print "end" }' >in
	run --separate-stderr timeout 10 "$FP_BIN" --colsep , "$SHOWARGS" '{1}' '{999999}' '{-1}' '{1000001}' <in
	assert_success
	assert_output '3:<1><999999><end>'
	assert_equal "$stderr" ""
}

@test "--colsep: a bad pattern names --colsep, the pattern and where it is wrong; exit 255" {
	run --separate-stderr fp --colsep 'a(b' true ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --colsep a(b: missing closing parenthesis at offset 3'

	run --separate-stderr fp --colsep 'x{2,1}' true ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --colsep x{2,1}: numbers out of order in {} quantifier at offset 5'
}

# --- --trim ------------------------------------------------------------------

@test "--colsep trims blanks around every column (--trim rl)" {
	run cols ',' ' a , b ,c '
	assert_success
	assert_output 'a-b-c/c'

	run cols ' ' ' a b'
	assert_success
	assert_output '-a-b/b'
}

@test "--trim n, l, r, lr, rl with --colsep" {
	local t
	for t in n l r lr rl; do
		run --separate-stderr fpin $' a , b \n' --colsep , --trim "$t" "$SHOWARGS" {1} {2}
		assert_success
		assert_equal "$stderr" ""
		case $t in
		n) assert_output '2:< a >< b >' ;;
		l) assert_output '2:<a ><b >' ;;
		r) assert_output '2:< a>< b>' ;;
		*) assert_output '2:<a><b>' ;;
		esac
	done
}

@test "--trim without --colsep trims every value; without --trim nothing is trimmed" {
	run fpin $' a b \n' --trim lr "$SHOWARGS"
	assert_success
	assert_output '1:<a b>'

	run fpin $' a b \n' --trim l "$SHOWARGS"
	assert_success
	assert_output '1:<a b >'

	run fp --trim r "$SHOWARGS" ::: ' x ' ::: ' y '
	assert_success
	assert_output '2:< x>< y>'

	run fpin $' a b \n' "$SHOWARGS"
	assert_success
	assert_output '1:< a b >'
}

@test "--trim removes spaces, tabs, CR, VT and FF, as Perl's \\s; other bytes stay" {
	run fpin $'\t \r\v\fa\xa0b \t\r\n' --trim rl "$SHOWARGS"
	assert_success
	assert_output $'1:<a\xa0b>'

	# a CRLF file: the CR is trimmed off the last column
	run fpin $'a,b\r\nc,d\r\n' -k --colsep , "$SHOWARGS" {1} {2}
	assert_success
	assert_output $'2:<a><b>\n2:<c><d>'
}

@test "--trim: a bad value names --trim and what it takes; exit 255" {
	run --separate-stderr fp --trim x true ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --trim x: must be n, l, r, lr or rl'
}

@test "--colsep: a record that matching gives up on is reported and counts as failed; the others run" {
	# nested repetition backtracks without end on a run of a's and a b
	run --separate-stderr fpin $'a,b\n'"$(printf 'a%.0s' $(seq 40))"$'b\nc\n' -k --colsep '(a+)+$|,' "$SHOWARGS" {1} {2}
	assert_failure 1
	assert_output $'2:<a><b>\n1:<c>'
	assert_equal "$stderr" "forkpool: input record 2: --colsep gave up on it (PCRE2's match limit)"
}
