#!/usr/bin/env bats
# --plus replacement strings, {= perl =} refused, --tagstring escapes.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# gnu ARGS...: GNU parallel, quiet about its citation notice.
gnu() {
	env HOME="$BATS_TEST_TMPDIR" parallel --will-cite "$@"
}

@test "--plus: {..} {...} {/..} {/...} drop two or three extensions" {
	run fp -k --plus "$SHOWARGS" {..} {...} {/..} {/...} ::: a/b.c.d.e noext /x/y.z
	assert_success
	assert_output "$(showargs_expect a/b.c a/b b.c b
		showargs_expect noext noext noext noext
		showargs_expect /x/y.z /x/y.z y.z y.z)"
}

@test "--plus: {+/} {+.} {+..} {+...} are what the others leave out" {
	run fp -k --plus "$SHOWARGS" {+/} {+.} {+..} {+...} ::: a/b.c.d.e noext /x/y.z
	assert_success
	assert_output "$(showargs_expect a e d.e c.d.e
		showargs_expect '' '' '' ''
		showargs_expect /x z '' '')"
}

@test "--plus: {} = {+/}/{/} = {.}.{+.} = {..}.{+..} = {+/}/{/...}.{+...}" {
	run fp -k --plus echo {+/}/{/} {.}.{+.} {..}.{+..} {+/}/{/...}.{+...} ::: d/a.b.c.d x/y.v1.tar.gz
	assert_success
	assert_output $'d/a.b.c.d d/a.b.c.d d/a.b.c.d d/a.b.c.d\nx/y.v1.tar.gz x/y.v1.tar.gz x/y.v1.tar.gz x/y.v1.tar.gz'
}

@test "--plus: a dot that begins a name is no extension, as for {.}" {
	run fp -k --plus "$SHOWARGS" {.} {..} {+.} {+..} ::: d/.bashrc .a.b dir.d/f
	assert_success
	assert_output "$(showargs_expect d/.bashrc d/.bashrc '' ''
		showargs_expect .a .a.b b ''
		showargs_expect dir.d/f dir.d/f '' '')"
}

@test "--plus: {##} is the number of jobs, {0#} the job number zero-padded to its width" {
	run fp -k --plus echo {##} {0#} {#} ::: a b c d e f g h i j k
	assert_success
	assert_line --index 0 '11 01 1'
	assert_line --index 8 '11 09 9'
	assert_line --index 10 '11 11 11'
	assert_equal "${#lines[@]}" 11
}

@test "--plus: {##} counts jobs, not records, with -N and -n" {
	run fp -k -N2 --plus "$SHOWARGS" {##} {1..} {2+.} ::: a.b.c d.e.f g.h
	assert_success
	assert_output "$(showargs_expect 2 a f
		showargs_expect 2 g.h)"
	run fp -k -n3 --plus echo {##} {} ::: 1 2 3 4 5 6 7
	assert_success
	assert_output $'3 1 2 3\n3 4 5 6\n3 7'
}

@test "--plus: {##} with stdin reads all of it before the first job" {
	run bash -c 'seq 5 | "$FP_BIN" -k --plus echo {##}/{#}'
	assert_success
	assert_output $'5/1\n5/2\n5/3\n5/4\n5/5'
}

@test "--plus: {##} in --tagstring and with a progress bar" {
	run fp -k --plus --tagstring '{0#}/{##}' echo {} ::: a b
	assert_success
	assert_output $'1/2\ta\n2/2\tb'
	run fp -k --bar --plus echo {##} {} ::: a b
	assert_success
	assert_output $'2 a\n2 b'
}

@test "--plus: {##} holds what memory does not take on disk, RSS stays bounded" {
	require_cmd /usr/bin/time
	skip_if_sanitized "peak RSS"
	run bash -c 'seq 400000 | /usr/bin/time -f %M -o rss "$FP_BIN" --plus --dry-run echo {##} {0#} | sed -n "1p;399999p;\$p"; cat rss'
	assert_success
	assert_line --index 0 'echo 400000 000001'
	assert_line --index 1 'echo 400000 399999'
	assert_line --index 2 'echo 400000 400000'
	# Held in memory they would take some 200 MiB; the bound is 64 MiB.
	(( ${lines[3]} < 102400 )) || fail "peak RSS ${lines[3]} KiB"
}

@test "--plus: {##} when the jobs read ahead cannot go to disk: those held run with their count, exit 255" {
	run bash -c 'seq 400000 | "$FP_BIN" --tmpdir "$BATS_TEST_TMPDIR/none" --plus --dry-run echo {##} >out 2>err'
	assert_failure 255
	assert_file_not_empty out
	local n
	n=$(wc -l <out)
	(( n < 400000 )) || fail "$n jobs"
	run sort -u out
	assert_output "echo $n"
	run cat err
	assert_output "forkpool: cannot create a file in $BATS_TEST_TMPDIR/none for the jobs read ahead: No such file or directory"
}

@test "--plus: {0%} is the slot zero-padded to the width of -j" {
	run fp -j12 --plus echo {0%} ::: a
	assert_success
	assert_output '01'
	run fp -j9 --plus echo {0%} {slot} ::: a
	assert_success
	assert_output '1 1'
}

@test "--plus: {:-STR} is STR for an empty value only" {
	run fp -k --plus "$SHOWARGS" {:-dflt} '{:-a b}' ::: abc '' 0
	assert_success
	assert_output "$(showargs_expect abc abc
		showargs_expect dflt 'a b'
		showargs_expect 0 0)"
}

@test "--plus: {:N} and {:N:M} are substrings, empty past the end" {
	run fp -k --plus "$SHOWARGS" {:2} {:1:3} {:0:2} {:10} {:3:10} {:9:2} ::: abcdef ab
	assert_success
	assert_output "$(showargs_expect cdef bcd ab '' def ''
		showargs_expect '' b ab '' '' '')"
}

@test "--plus: {#RE} {##RE} {%RE} {%%RE} remove the shortest or longest prefix or suffix" {
	run fp -k --plus "$SHOWARGS" '{#b}' '{##b*}' '{#a*b}' '{##a*b}' '{%.c}' '{%%.*}' '{%.*}' '{#z.*z.}' '{##z.*z.}' ::: abab.c bbb.c.c z.z.z.foo
	assert_success
	assert_output "$(showargs_expect abab.c abab.c ab.c ab.c abab '' abab.c abab.c abab.c
		showargs_expect bb.c.c .c.c bb.c.c bb.c.c bbb.c '' bbb.c.c bbb.c.c bbb.c.c
		showargs_expect z.z.z.foo z.z.z.foo z.z.z.foo z.z.z.foo z.z.z.foo '' z.z.z.foo z.foo foo)"
}

@test "--plus: {/RE/STR} {//RE/STR} {/#RE/STR} {/%RE/STR} replace, STR is text" {
	run fp -k --plus "$SHOWARGS" '{/b/X}' '{//b/X}' '{/#a/X}' '{/%c/X}' '{/b/}' '{/a/$1\t}' '{/(a)/x/y}' ::: abab.c
	assert_success
	assert_output "$(showargs_expect aXab.c aXaX.c Xbab.c abab.X aab.c '$1\tbab.c' 'x/ybab.c')"
}

@test "--plus: an RE with alternatives edits as the Perl substitution GNU parallel makes of it" {
	# An unset group is empty, as in Perl: {%\.gz|\.bz2} is s/(.*)\.gz|\.bz2$/$1/.
	run fp -k --plus "$SHOWARGS" '{%\.gz|\.bz2}' '{%%\.gz|\.bz2}' '{#https?://|ftp://}' '{##x|f}' '{/\.gz|\.bz2/Z}' '{/#f|x/Z}' '{/%\.gz|\.bz2/Z}' '{//a|b/Z}' '{^f|b}' '{^^f|b}' '{,F|B}' '{,,F|B}' ::: f.bz2 ftp://h/F.bz2
	assert_success
	assert_output "$(showargs_expect f f f.bz2 .bz2 fZ Z.bz2 fZ f.Zz2 F.bz2 F.Bz2 f.bz2 f.bz2
		showargs_expect ftp://h/F ftp://h/F h/F.bz2 tp://h/F.bz2 ftp://h/FZ Ztp://h/F.bz2 ftp://h/FZ ftp://h/F.Zz2 Ftp://h/F.bz2 Ftp://h/F.Bz2 ftp://h/F.bz2 ftp://h/f.bz2)"
	# Anchors hold for the branch they are written in, as in Perl.
	run fp -k --plus "$SHOWARGS" '{#f|x}' '{%a|\.y}' ::: ax.y
	assert_success
	assert_output "$(showargs_expect a.y x.y)"
}

@test "--plus: an edit PCRE2 gives up on (its match limit) fails that record, named; the others run" {
	# nested repetition backtracks without end on a run of a's and a b
	run --separate-stderr fp -k --plus "$SHOWARGS" '{/(a+)+c|b/X}' ::: ab "$(printf 'a%.0s' $(seq 40))b" cb
	assert_failure 1
	assert_output $'1:<aX>
1:<cX>'
	assert_equal "$stderr" "forkpool: input record 2: {/(a+)+c|b/X} gave up on it (PCRE2's match limit)"
	# in --tagstring as well, and with several records in a job
	run --separate-stderr fp -k -N2 --plus --tagstring '{1%(a+)+c|b}' "$SHOWARGS" ::: ab xb "$(printf 'a%.0s' $(seq 40))b" cb yb
	assert_failure 1
	assert_output $'a\t2:<ab><xb>\nc\t2:<cb><yb>'
	assert_equal "$stderr" "forkpool: input record 3: {1%(a+)+c|b} gave up on it (PCRE2's match limit)"
}

@test "--plus: {^RE} {^^RE} {,RE} {,,RE} change case as GNU parallel does" {
	run fp -k --plus "$SHOWARGS" '{^a}' '{^^b}' '{,A}' '{,,B}' '{^^.}' ::: abab.c ABAB.c
	assert_success
	assert_output "$(showargs_expect Abab.c aBaB.c abab.c abab.c ABAB.C
		showargs_expect ABAB.c ABAB.c aBAB.c AbAb.c ABAB.C)"
}

@test "--plus: positional forms {2..} {-1+/} {1:-x} {2:1} {1#a} {-1%.d} {2^^b}" {
	run fp -k --plus "$SHOWARGS" '{2..}' '{-1+/}' '{1:-x}' '{2:1}' '{1#a}' '{-1%.d}' '{2^^b}' ::: a.b.c '' ::: dir/b.c.d
	assert_success
	assert_output "$(showargs_expect dir/b dir a.b.c ir/b.c.d .b.c dir/b.c dir/B.c.d
		showargs_expect dir/b dir x ir/b.c.d '' dir/b.c dir/B.c.d)"
}

@test "--plus: a string of every value gives each value its own edit (-X, -n)" {
	run fp -j1 -X --plus "$SHOWARGS" '{..}' x{%.c}y ::: a.b.c d.e.c
	assert_success
	assert_output "$(showargs_expect a d xa.by xd.ey)"
	run fp -j1 -X --plus "$SHOWARGS" 'p{..}' ::: a.b.c d.e.c
	assert_success
	assert_output "$(showargs_expect pa pd)"
	run fp -n2 --plus "$SHOWARGS" '{:1}' ::: ab cd
	assert_success
	assert_output "$(showargs_expect b d)"
}

@test "--plus: edited values are quoted for the shell: spaces, quotes, \$(...), newlines" {
	local v="it's \$(touch pwned) \`touch pwned2\` \"q\""$'\n'"x.tar.gz"
	run fp -k --plus 'printf "<%s>\n" {..} {/%gz/$(touch pwned3)} {^^.} {:-$(touch pwned4)}' ::: "$v" ''
	assert_success
	local q="\$(touch pwned) \`touch pwned2\` \"q\""
	assert_output "<it's $q"$'\n'"x>
<it's $q"$'\n'"x.tar.\$(touch pwned3)>
<IT'S \$(TOUCH PWNED) \`TOUCH PWNED2\` \"Q\""$'\n'"X.TAR.GZ>
<it's $q"$'\n'"x.tar.gz>
<>
<>
<>
<\$(touch pwned4)>"
	assert_file_not_exists pwned
	assert_file_not_exists pwned2
	assert_file_not_exists pwned3
	assert_file_not_exists pwned4
}

@test "--plus: edited values stay single arguments in direct mode" {
	run fp --plus "$SHOWARGS" {..} '{/ /_}' '{:-a b}' ::: 'a b.c d.e' ''
	assert_success
	assert_line "$(showargs_expect 'a b' 'a_b.c d.e' 'a b.c d.e')"
	assert_line "$(showargs_expect '' '' 'a b')"
}

@test "without --plus the --plus strings are literal text" {
	run fp "$SHOWARGS" {..} {##} {+.} '{:-x}' '{#a}' '{%a}' '{/a/b}' '{^a}' {0#} {slot} {2..} ::: a.b.c
	assert_success
	# None is a replacement string, so the value is appended.
	assert_output "$(showargs_expect {..} {##} {+.} {:-x} {#a} {%a} {/a/b} {^a} {0#} {slot} {2..} a.b.c)"
}

@test "--plus: what matches no form stays literal: {###} {:x} {:-}" {
	run fp --plus "$SHOWARGS" '{###}' '{:x}' '{:-}' '{}x' ::: a
	assert_success
	assert_output "$(showargs_expect '{###}' '{:x}' '{:-}' 'ax')"
}

@test "--plus: a bad regex is refused at start, naming it" {
	run fp --plus echo '{#(}' ::: a
	assert_failure 255
	assert_output 'forkpool: {#(}: bad pattern (: missing closing parenthesis'
	run fp --plus --tagstring '{%[}' echo ::: a
	assert_failure 255
	assert_output --partial 'forkpool: {%[}: bad pattern [: '
	# PCRE2's message is about RE as written, not the pattern made of it
	run fp --plus echo '{#\}}' ::: a
	assert_failure 255
	assert_output 'forkpool: {#\}: bad pattern \: \ at end of pattern'
	run fp --plus echo '{%a)(b}' ::: a
	assert_failure 255
	assert_output 'forkpool: {%a)(b}: bad pattern a)(b: unmatched closing parenthesis'
}

@test "--plus: {host} {sshlogin} {hgrp} {agrp} {uniq} {choose_k} are refused" {
	local s
	for s in host sshlogin hgrp agrp uniq choose_k; do
		run fp --plus echo "{$s}" ::: a
		assert_failure 255
		assert_output "forkpool: {$s}: not supported: forkpool runs jobs here, with no remote hosts or skipped jobs"
	done
}

@test "{= perl =} is refused, naming the --plus string that does the same" {
	run fp echo '{= s/\.gz$// =}' ::: a.gz
	assert_failure 255
	assert_output 'forkpool: {= s/\.gz$// =}: Perl expressions are not supported; {%\.gz} with --plus does this'
	run fp echo '{=2 s/^x.*y// =}' ::: a
	assert_failure 255
	assert_output 'forkpool: {=2 s/^x.*y// =}: Perl expressions are not supported; {2##x.*y} with --plus does this'
	run fp echo '{= s/a/b/g; =}' ::: a
	assert_failure 255
	assert_output 'forkpool: {= s/a/b/g; =}: Perl expressions are not supported; {//a/b} with --plus does this'
	run fp echo '{= $_=total_jobs() =}' ::: a
	assert_failure 255
	assert_output 'forkpool: {= $_=total_jobs() =}: Perl expressions are not supported; {##} with --plus does this'
	run fp echo '{= s:.*/:: =}' ::: a
	assert_failure 255
	assert_output 'forkpool: {= s:.*/:: =}: Perl expressions are not supported; {/} does this'
}

@test "{= perl =} with no --plus equivalent gets the generic message, also in --tagstring" {
	run fp echo '{= $_ .= "x" =}' ::: a
	assert_failure 255
	assert_output 'forkpool: {= $_ .= "x" =}: Perl expressions are not supported; see --plus for replacement strings that edit values'
	run fp --tagstring '{=uc=}' echo ::: a
	assert_failure 255
	assert_output 'forkpool: {=uc=}: Perl expressions are not supported; see --plus for replacement strings that edit values'
}

@test "--tagstring: \\t and \\n are a TAB and a newline, other backslashes stay" {
	run fp --tagstring 'a\tb\nc\\d\x' echo x ::: 1
	assert_success
	assert_output $'a\tb\nc\\\\d\\x\tx 1'
	run fp --tagstring '{}' echo x ::: 'v\tw'
	assert_success
	assert_output $'v\\tw\tx v\\tw'
}

@test "--plus path strings agree with GNU parallel" {
	require_cmd parallel
	local vals=(a/b.c.d.e noext /x/y.z dir/sub/f.tar.gz a.b x/y)
	local strs=({..} {...} {/..} {/...} {+/} {+..} {+...} {2..} {-1/...})
	run gnu -k --plus "$SHOWARGS" "${strs[@]}" ::: "${vals[@]}" ::: a.b.c
	assert_success
	local expected=$output
	run fp -k --plus "$SHOWARGS" "${strs[@]}" ::: "${vals[@]}" ::: a.b.c
	assert_success
	assert_output "$expected"
}

@test "--plus edits and numbers agree with GNU parallel" {
	require_cmd parallel
	local vals=(abab.c ABAB.c bbb.c.c z.z.z.foo 'a b.tar.gz' '' x)
	local strs=({##} {0#} '{:-dflt}' {:2} {:1:3} {:10} '{#b}' '{##b*}' '{%.c}' '{%%.*}'
		'{/b/X}' '{//b/X}' '{/#a/X}' '{/%c/X}' '{^a}' '{^^b}' '{,A}' '{,,B}' '{1#z.*z.}')
	run gnu -k --plus "$SHOWARGS" "${strs[@]}" ::: "${vals[@]}"
	assert_success
	local expected=$output
	run fp -k --plus "$SHOWARGS" "${strs[@]}" ::: "${vals[@]}"
	assert_success
	assert_output "$expected"
}

@test "--tagstring escapes agree with GNU parallel" {
	require_cmd parallel
	run gnu -k --tagstring 'a\tb\nc\\d\x{}' echo x ::: 1 2
	assert_success
	local expected=$output
	run fp -k --tagstring 'a\tb\nc\\d\x{}' echo x ::: 1 2
	assert_success
	assert_output "$expected"
}

@test "--plus: an unclosed string in the command stays text, apart from the appended values" {
	run fp --dry-run --plus echo 'x{%.' ::: a.b
	assert_success
	assert_output 'echo x{%. a.b'
	# -I's string is not in the command: no value, as in xargs.
	run fp --dry-run --plus -I '{/.}:{#}' echo 'x{/%3' ::: a.b
	assert_success
	assert_output 'echo x{/%3'
}
