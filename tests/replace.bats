#!/usr/bin/env bats
# Replacement strings, -I, appended arguments, records as command lines.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

@test "{} is the whole record" {
	run fp "$SHOWARGS" {} ::: 'dir/sub/file.tar.gz'
	assert_success
	assert_output '1:<dir/sub/file.tar.gz>'
}

@test "{.} removes the extension" {
	run fp -k "$SHOWARGS" {.} ::: dir/sub/file.tar.gz file.c noext
	assert_success
	assert_output $'1:<dir/sub/file.tar>\n1:<file>\n1:<noext>'
}

@test "{.} does not touch a dot in a directory name" {
	run fp "$SHOWARGS" {.} ::: dir.d/file
	assert_success
	assert_output '1:<dir.d/file>'
}

@test "{/} is the basename" {
	run fp -k "$SHOWARGS" {/} ::: dir/sub/file.tar.gz /abs/x.y plain
	assert_success
	assert_output $'1:<file.tar.gz>\n1:<x.y>\n1:<plain>'
}

@test "{//} is the dirname" {
	run fp -k "$SHOWARGS" {//} ::: dir/sub/file.tar.gz /abs/x.y plain
	assert_success
	assert_output $'1:<dir/sub>\n1:</abs>\n1:<.>'
}

@test "{//} of a name ending in a slash, or with doubled slashes, is dirname(1)'s" {
	run fp -k "$SHOWARGS" {//} ::: a/ a/b/ a//b / // a//b// /a ./a
	assert_success
	assert_output $'1:<.>\n1:<a>\n1:<a>\n1:</>\n1:</>\n1:<a>\n1:</>\n1:<.>'
}

@test "{/.} is the basename without extension" {
	run fp -k "$SHOWARGS" {/.} ::: dir/sub/file.tar.gz /abs/x.y dir.d/file
	assert_success
	assert_output $'1:<file.tar>\n1:<x>\n1:<file>'
}

@test "replacement strings inside a word and used several times" {
	run fp "$SHOWARGS" pre{}post {.}.out {} {} ::: a.txt
	assert_success
	assert_output '4:<prea.txtpost><a.out><a.txt><a.txt>'
}

@test "all path replacement strings agree with GNU parallel" {
	require_cmd parallel
	local vals=(dir/sub/file.tar.gz /abs/x.y dir.d/file noext a/b.c)
	run env HOME="$BATS_TEST_TMPDIR" parallel --will-cite -k "$SHOWARGS" {} {.} {/} {//} {/.} ::: "${vals[@]}"
	assert_success
	local expected=$output
	run fp -k "$SHOWARGS" {} {.} {/} {//} {/.} ::: "${vals[@]}"
	assert_success
	assert_output "$expected"
}

@test "{#} is the job number, starting at 1" {
	run fp -k "$SHOWARGS" {#} {} ::: a b c
	assert_success
	assert_output $'2:<1><a>\n2:<2><b>\n2:<3><c>'
}

@test "{#} counts jobs of a cross product" {
	run fp -k "$SHOWARGS" {#} ::: a b ::: x y
	assert_success
	assert_output $'1:<1>\n1:<2>\n1:<3>\n1:<4>'
}

@test "{%} is always 1 with -j1" {
	run fp -k -j1 "$SHOWARGS" {%} ::: a b c
	assert_success
	assert_output $'1:<1>\n1:<1>\n1:<1>'
}

@test "{%} ranges over 1..j" {
	local slow
	slow=$(mkscript slow 'sleep 0.2; echo "$1"')
	run fp -j2 "$slow" {%} ::: 1 2 3 4 5 6
	assert_success
	run sort -u <<<"$output"
	assert_output $'1\n2'
}

@test "{n} picks the n-th source" {
	run fp -k "$SHOWARGS" {2} {1} ::: a b ::: x
	assert_success
	assert_output $'2:<x><a>\n2:<x><b>'
}

@test "{n.} {n/} {n//} {n/.} apply the modifiers to the n-th source" {
	run fp "$SHOWARGS" {1.} {2/} {2//} {2/.} {1} ::: a.txt ::: d/e/f.c
	assert_success
	assert_output '5:<a><f.c><d/e><f><a.txt>'
}

@test "negative {n} counts from the end" {
	run fp "$SHOWARGS" {-1} {-2} {-3} ::: a ::: b ::: c
	assert_success
	assert_output '3:<c><b><a>'
}

@test "negative modifiers {-n.} {-n/} {-n//} {-n/.}" {
	run fp "$SHOWARGS" {-1.} {-1/} {-1//} {-1/.} {-2/} ::: p/q.r ::: x/y/z.tar.gz
	assert_success
	assert_output '5:<x/y/z.tar><z.tar.gz><x/y><z.tar><q.r>'
}

@test "out-of-range {n} expands to nothing: a word of only that is left out, as in GNU parallel" {
	run fp "$SHOWARGS" {3} a{-3}b {5/} ::: x ::: y
	assert_success
	assert_output '1:<ab>'
	# In a shell line too; in quotes it is an empty argument.
	run fp "$SHOWARGS {3} a{-3}b {5/} \"{3}\" | cat" ::: x ::: y
	assert_success
	assert_output '2:<ab><>'
}

@test "a position beyond 1000000000, or a --plus count beyond 999999999, is refused, not text; exit 255" {
	run fp "$SHOWARGS" {1000000000} {-1000000000.} ::: x
	assert_success
	assert_output '0:'
	run --separate-stderr fp echo {2147483647} ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: {2147483647}: out of range: a position is from -1000000000 to 1000000000'
	run --separate-stderr fp -q echo '{-99999999999999999999999999/}' ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {-99999999999999999999999999/}: out of range: a position is from -1000000000 to 1000000000'
	run --separate-stderr fp --tagstring '{1000000001}' echo ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {1000000001}: out of range: a position is from -1000000000 to 1000000000'
	run --separate-stderr fp --plus echo '{:1000000000}' ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {:1000000000}: out of range: a count is at most 999999999'
	run --separate-stderr fp --plus echo '{1:2:1000000000}' ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: {1:2:1000000000}: out of range: a count is at most 999999999'
	# what is no replacement string at all stays text
	run --separate-stderr fp echo '{12345678901x}' ::: x
	assert_success
	assert_output '{12345678901x} x'
}

@test "{} with several sources is all of them, each one argument (shell mode)" {
	run fp --exec-mode shell "$SHOWARGS" {} ::: 'a b' ::: c
	assert_success
	assert_output '2:<a b><c>'
}

@test "{} with several sources is all of them, each one argument (direct mode)" {
	run fp --exec-mode direct "$SHOWARGS" {} ::: 'a b' ::: c
	assert_success
	assert_output '2:<a b><c>'
}

@test "-I STR replaces STR instead of {}" {
	run fp -k -I XX "$SHOWARGS" XX pre-XX ::: a b
	assert_success
	assert_output $'2:<a><pre-a>\n2:<b><pre-b>'
}

@test "-I STR in the template means nothing is appended" {
	run fp -I @@ "$SHOWARGS" @@. ::: a
	assert_success
	assert_output '1:<a.>'
}

@test "-I STR beginning with a blank is a usage error, not values dropped" {
	# Blanks split the template before STR is looked for, so such a STR
	# never matched, not even where it was appended: no value was used.
	local s
	for s in ' X' $'\tX' ' '; do
		run --separate-stderr fp -k -I "$s" "$SHOWARGS" ::: a b
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" \
			"forkpool: -I '$s': the replacement string begins with a blank"
	done
	# A trailing blank is allowed; a command without the string gets no
	# value, as in xargs.
	run fp -k -I 'X ' "$SHOWARGS" ::: a b
	assert_success
	assert_output $'0:\n0:'
}

@test "no replacement string: the record is appended as the last argument" {
	run fp -k "$SHOWARGS" x y ::: a 'b c'
	assert_success
	assert_output $'3:<x><y><a>\n3:<x><y><b c>'
}

@test "no replacement string with several sources: all are appended" {
	run fp "$SHOWARGS" x ::: a ::: b ::: 'c d'
	assert_success
	assert_output '4:<x><a><b><c d>'
}

@test "a template with a replacement string gets nothing appended" {
	run fp "$SHOWARGS" {#} ::: a
	assert_success
	assert_output '1:<1>'
}

@test "no command: each stdin record is a command line run by the shell" {
	run --separate-stderr fpin $'echo hi\necho a b | tr a-z A-Z\n' -k
	assert_success
	assert_output $'hi\nA B'
	assert_equal "$stderr" ""
}

@test "no command: ::: values are command lines" {
	run fp -k ::: 'echo 1' 'echo 2; echo 3' "$SHOWARGS 'x y' z"
	assert_success
	assert_output $'1\n2\n3\n2:<x y><z>'
}

@test "a value containing a replacement string is not expanded again" {
	run fp -k "$SHOWARGS" {} {.} ::: '{}' '{.}.x' '{#}'
	assert_success
	assert_output $'2:<{}><{}>\n2:<{.}.x><{.}>\n2:<{#}><{#}>'
}
