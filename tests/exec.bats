#!/usr/bin/env bats
# How jobs are executed: direct exec vs the shell, quoting, --shell,
# missing/non-executable programs, --dry-run.

bats_require_minimum_version 1.5.0
load helper

# Values that would do damage if a shell ever interpreted them as code.
HOSTILE=(
	'$(touch pwned1)'
	'; touch pwned2'
	'`touch pwned3`'
	'&& touch pwned4'
	'| touch pwned5'
	'> pwned6'
	'; rm -rf victim'
	'*'
	'f?'
	'[f]1'
	$'line1\nline2'
	'-n'
	'--help'
	$'\xff\xfe bad \xc3 utf8'
	"it's"
	'"dq"'
	'back\slash'
	'$HOME'
	'~'
	'< /etc/hostname'
	' lead and trail '
	''
	$'tab\there'
	'{}'
	'#hash'
	'( sub )'
	'!bang'
	'a=b'
)

setup() {
	fp_setup
	WORK="$BATS_TEST_TMPDIR/work"
	mkdir -p "$WORK/victim"
	touch "$WORK/f1" "$WORK/victim/keep"
	cd "$WORK"
}

# The work directory must still hold exactly what setup put there.
assert_work_untouched() {
	run ls -A "$WORK"
	assert_output $'f1\nvictim'
	assert_file_exists "$WORK/victim/keep"
}

hostile_expected() {
	local v
	for v in "${HOSTILE[@]}"; do showargs_expect "$v"; done
}

# fake_shell NAME: a shell wrapper that logs its first argument to NAME.log
# in $BATS_TEST_TMPDIR and then runs /bin/sh.  Prints its path.
fake_shell() {
	mkscript "$1" "printf '%s\\n' \"\$1\" >>'$BATS_TEST_TMPDIR/$1.log'
exec /bin/sh \"\$@\""
}

# --- hostile values -----------------------------------------------------------

@test "hostile values arrive byte-for-byte as one argument: --exec-mode direct" {
	run --separate-stderr fp -k --exec-mode direct "$SHOWARGS" {} ::: "${HOSTILE[@]}"
	assert_success
	assert_output "$(hostile_expected)"
	assert_equal "$stderr" ""
	assert_work_untouched
}

@test "hostile values arrive byte-for-byte as one argument: --exec-mode shell" {
	run --separate-stderr fp -k --exec-mode shell "$SHOWARGS" {} ::: "${HOSTILE[@]}"
	assert_success
	assert_output "$(hostile_expected)"
	assert_equal "$stderr" ""
	assert_work_untouched
}

@test "hostile values arrive byte-for-byte as one argument: auto, plain template" {
	run --separate-stderr fp -k "$SHOWARGS" {} ::: "${HOSTILE[@]}"
	assert_success
	assert_output "$(hostile_expected)"
	assert_equal "$stderr" ""
	assert_work_untouched
}

@test "hostile values arrive byte-for-byte as one argument: auto, template needing a shell" {
	run --separate-stderr fp -k "$SHOWARGS" {} '|' cat ::: "${HOSTILE[@]}"
	assert_success
	assert_output "$(hostile_expected)"
	assert_equal "$stderr" ""
	assert_work_untouched
}

@test "hostile values appended (no replacement string) in shell mode" {
	run --separate-stderr fp -k --exec-mode shell "$SHOWARGS" ::: "${HOSTILE[@]}"
	assert_success
	assert_output "$(hostile_expected)"
	assert_work_untouched
}

@test "hostile values from stdin (-0) in both modes" {
	local mode
	for mode in shell direct; do
		echo "checking --exec-mode $mode"
		run --separate-stderr fp -k -0 --exec-mode "$mode" "$SHOWARGS" \
			< <(printf '%s\0' "${HOSTILE[@]}")
		assert_success
		assert_output "$(hostile_expected)"
		assert_work_untouched
	done
}

@test "hostile values embedded in words and through modifiers: both modes agree" {
	run --separate-stderr fp -k --exec-mode direct "$SHOWARGS" pre{}post {.} {/} {//} {/.} {#} \
		::: "${HOSTILE[@]}" 'd/$(touch pwned7).x' "x/it's.tar.gz"
	assert_success
	local direct=$output
	assert_equal "${lines[-1]}" "6:<prex/it's.tar.gzpost><x/it's.tar><it's.tar.gz><x><it's.tar><30>"

	run --separate-stderr fp -k --exec-mode shell "$SHOWARGS" pre{}post {.} {/} {//} {/.} {#} \
		::: "${HOSTILE[@]}" 'd/$(touch pwned7).x' "x/it's.tar.gz"
	assert_success
	assert_equal "$output" "$direct"
	assert_work_untouched
}

@test "invalid UTF-8 bytes are passed through unchanged" {
	fp --exec-mode shell "$SHOWARGS" {} ::: $'\xff\xfe\x80\xc3(' >"$BATS_TEST_TMPDIR/out.shell"
	fp --exec-mode direct "$SHOWARGS" {} ::: $'\xff\xfe\x80\xc3(' >"$BATS_TEST_TMPDIR/out.direct"
	run od -An -tx1 "$BATS_TEST_TMPDIR/out.shell"
	assert_output ' 31 3a 3c ff fe 80 c3 28 3e 0a'
	run od -An -tx1 "$BATS_TEST_TMPDIR/out.direct"
	assert_output ' 31 3a 3c ff fe 80 c3 28 3e 0a'
}

@test "several replacement strings with several hostile sources: both modes agree" {
	run fp -k --exec-mode direct "$SHOWARGS" {2} {1} {-1} {} ::: '$(id)' "'" ::: '*' '`id`'
	assert_success
	local direct=$output
	run fp -k --exec-mode shell "$SHOWARGS" {2} {1} {-1} {} ::: '$(id)' "'" ::: '*' '`id`'
	assert_success
	assert_equal "$output" "$direct"
	assert_output "$(showargs_expect '*' '$(id)' '*' '$(id)' '*'
		showargs_expect '`id`' '$(id)' '`id`' '$(id)' '`id`'
		showargs_expect '*' "'" '*' "'" '*'
		showargs_expect '`id`' "'" '`id`' "'" '`id`')"
}

# --- direct mode refusing templates that need a shell ---------------------------

@test "--exec-mode direct with a template needing a shell is an error (255)" {
	local tmpl
	for tmpl in '|' ';' '&&' '>out' '$HOME' '*' '"q"' '`id`' 'a\b' '~' '(' '#x'; do
		echo "checking template word: $tmpl"
		run --separate-stderr fp --exec-mode direct "$SHOWARGS" {} "$tmpl" ::: x
		assert_failure 255
		assert_output ''
		assert_regex "$stderr" '^forkpool: '
	done
	assert_work_untouched
}

@test "--exec-mode direct refuses VAR=value, builtins and keywords as first word" {
	run --separate-stderr fp --exec-mode direct FOO=bar "$SHOWARGS" {} ::: x
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: '

	run --separate-stderr fp --exec-mode direct cd {} ::: /
	assert_failure 255
	assert_regex "$stderr" '^forkpool: '

	run --separate-stderr fp --exec-mode direct '!' false {} ::: x
	assert_failure 255
	assert_regex "$stderr" '^forkpool: '
}

@test "invalid --exec-mode value is a usage error naming the option" {
	run --separate-stderr fp --exec-mode sometimes "$SHOWARGS" ::: x
	assert_failure 255
	assert_output ''
	assert_regex "$stderr" '^forkpool: .*--exec-mode.*sometimes'
}

# --- which path auto takes ----------------------------------------------------

@test "auto: a plain template is executed directly, not through the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run env FORKPOOL_SHELL="$sh" "$FP_BIN" -k "$SHOWARGS" {} x{.}y ::: 'a b' c.d
	assert_success
	assert_output $'2:<a b><xa by>\n2:<c.d><xcy>'
	assert_file_not_exists "$BATS_TEST_TMPDIR/fakesh.log"
}

@test "--exec-mode shell runs even a plain template through SHELL -c" {
	local sh
	sh=$(fake_shell fakesh)
	run fp -k --shell "$sh" --exec-mode shell "$SHOWARGS" {} ::: a b
	assert_success
	assert_output $'1:<a>\n1:<b>'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output $'-c\n-c'
}

@test "auto: a pipe makes the template run through the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run fp --shell "$sh" "$SHOWARGS" {} '|' tr a-z A-Z ::: 'a b'
	assert_success
	assert_output '1:<A B>'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: quotes, \$, backquotes and backslashes are shell syntax in the template" {
	local sh
	sh=$(fake_shell fakesh)
	run fp --shell "$sh" "$SHOWARGS {} \"q r\" \$HOME \`echo bq\` a\\b" ::: x
	assert_success
	assert_output "$(showargs_expect x 'q r' "$HOME" bq ab)"
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: ; & redirections and subshells are shell syntax in the template" {
	local sh
	sh=$(fake_shell fakesh)
	run fp -k --shell "$sh" '(' "$SHOWARGS" {} ')' ';' "$SHOWARGS" {} '>' out '&' wait ::: x
	assert_success
	assert_output '1:<x>'
	assert_file_exists out
	run cat out
	assert_output '1:<x>'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
	rm out
}

@test "auto: glob characters and ~ in the template are expanded by the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run fp --shell "$sh" "$SHOWARGS" 'f*' 'f?' '[f]1' '~' {} ::: x
	assert_success
	assert_output "$(showargs_expect f1 f1 f1 "$HOME" x)"
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: # starts a comment and a newline separates commands" {
	local sh
	sh=$(fake_shell fakesh)
	run fp --shell "$sh" "$SHOWARGS {}"$'\n'"$SHOWARGS" 'end' '#' {} ::: x
	assert_success
	assert_output $'1:<x>\n1:<end>'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: braces that are not replacement strings need the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run fp --shell "$sh" "$SHOWARGS" '{a,b}' {} ::: x
	assert_success
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: VAR=value as first word runs through the shell" {
	local sh showvar
	sh=$(fake_shell fakesh)
	showvar=$(mkscript showvar 'echo "[$FP_TEST_VAR] $1"')
	run fp --shell "$sh" FP_TEST_VAR=set "$showvar" {} ::: x
	assert_success
	assert_output '[set] x'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "auto: a builtin as first word runs through the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run --separate-stderr fp --shell "$sh" cd {} ::: / "$BATS_TEST_TMPDIR"
	assert_success
	assert_output ''
	assert_equal "$stderr" ""
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output $'-c\n-c'
}

@test "auto: a keyword as first word runs through the shell" {
	local sh
	sh=$(fake_shell fakesh)
	run --separate-stderr fp --shell "$sh" '!' false {} ::: x
	assert_success
	assert_equal "$stderr" ""
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

# --- choice of shell ----------------------------------------------------------

@test "FORKPOOL_SHELL is the shell used for templates that need one" {
	local sh
	sh=$(fake_shell fakesh)
	run env FORKPOOL_SHELL="$sh" "$FP_BIN" "$SHOWARGS" {} '|' cat ::: x
	assert_success
	assert_output '1:<x>'
	run cat "$BATS_TEST_TMPDIR/fakesh.log"
	assert_output '-c'
}

@test "--shell overrides FORKPOOL_SHELL and SHELL" {
	local a b c
	a=$(fake_shell fromopt)
	b=$(fake_shell fromenv)
	c=$(fake_shell bash)
	run env SHELL="$c" FORKPOOL_SHELL="$b" "$FP_BIN" --shell "$a" "$SHOWARGS" {} '|' cat ::: x
	assert_success
	assert_output '1:<x>'
	run cat "$BATS_TEST_TMPDIR/fromopt.log"
	assert_output '-c'
	assert_file_not_exists "$BATS_TEST_TMPDIR/fromenv.log"
	assert_file_not_exists "$BATS_TEST_TMPDIR/bash.log"
}

@test "FORKPOOL_SHELL overrides SHELL" {
	local b c
	b=$(fake_shell fromenv)
	c=$(fake_shell bash)
	run env SHELL="$c" FORKPOOL_SHELL="$b" "$FP_BIN" "$SHOWARGS" {} '|' cat ::: x
	assert_success
	assert_output '1:<x>'
	assert_file_exists "$BATS_TEST_TMPDIR/fromenv.log"
	assert_file_not_exists "$BATS_TEST_TMPDIR/bash.log"
}

@test "SHELL is used when it names a known shell" {
	local c name
	for name in sh dash bash ksh mksh zsh; do
		echo "checking SHELL=.../$name"
		c=$(fake_shell "$name")
		run env -u FORKPOOL_SHELL SHELL="$c" "$FP_BIN" "$SHOWARGS" {} '|' cat ::: x
		assert_success
		assert_output '1:<x>'
		run cat "$BATS_TEST_TMPDIR/$name.log"
		assert_output '-c'
	done
}

@test "SHELL naming another shell is ignored in favour of /bin/sh" {
	local c
	c=$(fake_shell fish)
	run env -u FORKPOOL_SHELL SHELL="$c" "$FP_BIN" "$SHOWARGS" {} '|' cat ::: x
	assert_success
	assert_output '1:<x>'
	assert_file_not_exists "$BATS_TEST_TMPDIR/fish.log"
}

# --- missing and non-executable programs ----------------------------------------

@test "missing program: message naming it, exit 127 as xargs" {
	run -127 --separate-stderr fp fp-no-such-program-xyz ::: a
	assert_output ''
	assert_equal "$stderr" "forkpool: fp-no-such-program-xyz: command not found
forkpool: starting no more jobs: the command cannot run"
}

@test "missing program: said once, no later job starts, the joblog has the one that failed" {
	run -127 --separate-stderr fp -k --joblog log fp-no-such-program-xyz ::: a b c
	assert_output ''
	assert_equal "$stderr" "forkpool: fp-no-such-program-xyz: command not found
forkpool: starting no more jobs: the command cannot run"
	assert_equal "$(cut -f1,7 log | tail -n +2)" $'1\t127'
}

@test "non-executable file: Permission denied naming it, counted as failed" {
	printf '#!/bin/sh\necho ran\n' >"$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr fp "$BATS_TEST_TMPDIR/noexec" {} ::: a
	assert_failure 126
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" "forkpool: $BATS_TEST_TMPDIR/noexec: Permission denied"
}

@test "a directory as program: Permission denied" {
	mkdir "$BATS_TEST_TMPDIR/adir"
	run --separate-stderr fp "$BATS_TEST_TMPDIR/adir" {} ::: a
	assert_failure 126
	assert_equal "${stderr%%$'\n'*}" "forkpool: $BATS_TEST_TMPDIR/adir: Permission denied"
}

@test "missing program in shell mode: the shell reports it, job fails" {
	run --separate-stderr fp --exec-mode shell fp-no-such-program-xyz ::: a b
	assert_failure 2
	assert_output ''
	assert_regex "$stderr" 'fp-no-such-program-xyz'
}

@test "successful jobs are unaffected by a failing sibling" {
	run --separate-stderr fp -k ::: 'echo ok1' 'fp-no-such-program-xyz' 'echo ok2'
	assert_failure 1
	assert_output $'ok1\nok2'
}

# --- --dry-run ------------------------------------------------------------------

@test "--dry-run shell-quotes values exactly" {
	run --separate-stderr fp -k --dry-run echo {} ::: plain 'a b' "it's" ''
	assert_success
	assert_output "echo plain
echo 'a b'
echo 'it'\"'\"'s'
echo ''"
	assert_equal "$stderr" ""
}

@test "--dry-run quotes appended values too" {
	run fp -k --dry-run echo x ::: 'a b' "it's"
	assert_success
	assert_output "echo x 'a b'
echo x 'it'\"'\"'s'"
}

@test "--dry-run quotes shell syntax in values" {
	run fp -k --dry-run echo {} ::: '$(touch pwned)' '`id`' ';' '*'
	assert_success
	assert_output "echo '\$(touch pwned)'
echo '\`id\`'
echo ';'
echo '*'"
	assert_work_untouched
}

@test "--dry-run prints a shell template as its command line" {
	run fp --dry-run echo {} '|' tr a-z A-Z ::: 'a b'
	assert_success
	assert_output "echo 'a b' | tr a-z A-Z"
}

@test "--dry-run with --tag or --tagstring shows each command after its tag, as GNU parallel" {
	run -0 fp --dry-run -k --tag echo ::: a 'b c'
	assert_output $'a\techo a\nb c\techo \'b c\''
	run -0 fp --dry-run -k --tagstring '{}-x' echo ::: a
	assert_output $'a-x\techo a'
	run -0 fp --dry-run --pipe --tagstring 'blk{#}' cat < <(echo x)
	assert_output $'blk1\tcat'
}

@test "--dry-run runs nothing" {
	run fp -k --dry-run touch {} ::: made1 made2
	assert_success
	assert_output $'touch made1\ntouch made2'
	assert_file_not_exists made1
	assert_file_not_exists made2
}

@test "--dry-run output run by sh gives exactly what the real run gives" {
	run fp -k --dry-run "$SHOWARGS" {} ::: "${HOSTILE[@]}"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/script.sh"
	run sh "$BATS_TEST_TMPDIR/script.sh"
	assert_success
	assert_output "$(hostile_expected)"
	assert_work_untouched
}

# --- exported bash functions --------------------------------------------------

# The function the tests below export: one <value> per argument.
fp_show() { printf '<%s>' "$@"; printf '\n'; }

@test "an exported bash function runs as the command; hostile values stay data" {
	export -f fp_show
	run env SHELL=/bin/sh "$FP_BIN" -k -j3 fp_show ::: '$(touch pwned1)' \
		"it's" '"dq"' $'a\nb' '; touch pwned2' '`touch pwned3`'
	assert_success
	assert_output "<\$(touch pwned1)>
<it's>
<\"dq\">
<a
b>
<; touch pwned2>
<\`touch pwned3\`>"
	assert_work_untouched
}

@test "an exported bash function with {} inside words and several values" {
	export -f fp_show
	run fp -k fp_show x{}y {.} -n ::: 'a b.c' '$(touch pwned).d'
	assert_success
	assert_output $'<xa b.cy><a b><-n>\n<x$(touch pwned).dy><$(touch pwned)><-n>'
	run fp -n2 fp_show ::: 'a b' ';c'
	assert_success
	assert_output '<a b><;c>'
	assert_work_untouched
}

@test "an exported bash function wins over a program of the same name, as in GNU parallel" {
	mkscript fp_show 'echo program "$@"' >/dev/null
	export -f fp_show
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$FP_BIN" fp_show ::: a
	assert_success
	assert_output '<a>'
}

@test "a missing command is still 127 when other functions are exported" {
	export -f fp_show
	run -127 --separate-stderr fp fp-no-such-program-xyz ::: a
	assert_output ''
	assert_equal "$stderr" "forkpool: fp-no-such-program-xyz: command not found
forkpool: starting no more jobs: the command cannot run"
}

# --- sh -c SCRIPT -------------------------------------------------------------

@test "sh -c SCRIPT: values in SCRIPT are quoted, so they stay data" {
	run fp -k sh -c 'echo {}; echo "[{}]"' ::: 'a b; touch pwned' \
		'$(touch pwned2)' "it's"
	assert_success
	assert_output "a b; touch pwned
[a b; touch pwned]
\$(touch pwned2)
[\$(touch pwned2)]
it's
[it's]"
	assert_work_untouched
}

@test "sh -c SCRIPT: the xargs idiom with -I and a command list" {
	printf 'x\n' >'a b'
	run fp -I % sh -c 'gzip % && echo done %' ::: 'a b'
	assert_success
	assert_output 'done a b'
	assert_file_exists "$WORK/a b.gz"
}

@test "sh -c SCRIPT: with no replacement string the values become \$0 \$1 ..." {
	run fp -k sh -c 'echo "$0"' ::: 'a; touch pwned' '$(touch pwned2)'
	assert_success
	assert_output $'a; touch pwned\n$(touch pwned2)'
	run fp -n2 sh -c 'printf "<%s>" "$@"; echo' _ ::: 'x y' '`touch pwned3`'
	assert_success
	assert_output '<x y><`touch pwned3`>'
	assert_work_untouched
}

@test "sh -c SCRIPT: words after SCRIPT are plain arguments" {
	run fp sh -c 'printf "<%s>" "$0" "$@"; echo' {} 'x{}' {.} ::: '$(touch p).c'
	assert_success
	assert_output '<$(touch p).c><x$(touch p).c><$(touch p)>'
	assert_work_untouched
}

@test "sh -c SCRIPT: shells by path, with options before -c" {
	run fp -k /bin/sh -ec 'false; echo no {}' ::: a
	assert_failure 1
	assert_output ''
	run fp bash -o pipefail -c 'false | true; echo "$? {}"' ::: 'x;y'
	assert_success
	assert_output '1 x;y'
	run fp bash --norc -euc 'echo {}' ::: '$HOME'
	assert_success
	assert_output '$HOME'
	run fp dash -c 'echo "{}" "$1"' _ {} ::: 'a"b'
	assert_success
	assert_output 'a"b a"b'
}

@test "sh -c SCRIPT: options after -c, --, -o NAME in a cluster and bash's long options with an argument are the shell's" {
	local v='$(echo PW""NED >&2)' sh
	for sh in sh bash zsh; do
		command -v "$sh" >/dev/null || continue
		run --separate-stderr fp "$sh" -c -- 'echo "<{}>"' ::: "$v"
		assert_success
		assert_equal "$output" "<$v>"
		assert_equal "$stderr" ''
		run --separate-stderr fp "$sh" -c -e 'echo "<{}>"' ::: "$v"
		assert_success
		assert_equal "$output" "<$v>"
		assert_equal "$stderr" ''
		run --separate-stderr fp "$sh" -co errexit 'echo "<{}>"' ::: "$v"
		assert_success
		assert_equal "$output" "<$v>"
		assert_equal "$stderr" ''
	done
	: >rc
	run --separate-stderr fp bash -c -O extglob 'echo "<{}>"' ::: "$v"
	assert_equal "$output" "<$v>"
	assert_equal "$stderr" ''
	run --separate-stderr fp bash --rcfile rc -c 'echo "<{}>"' ::: "$v"
	assert_equal "$output" "<$v>"
	assert_equal "$stderr" ''
	run --separate-stderr fp -q bash --rcfile rc -c 'echo "<{}>"' ::: "$v"
	assert_equal "$output" "<$v>"
	assert_equal "$stderr" ''
}

@test "sh -c {}: the value is the script, as in xargs and GNU parallel" {
	run fp -k sh -c {} ::: 'echo a; echo b' 'exit 3'
	assert_failure 1
	assert_output $'a\nb'
	run fp -n2 sh -c {} ::: 'echo "[$0]"' 'x y'
	assert_success
	assert_output '[x y]'
}

@test "sh -c SCRIPT: several values in SCRIPT are quoted one by one" {
	run fp -n3 sh -c 'printf "<%s>" {}; echo' ::: 'a b' '' ';c'
	assert_success
	assert_output '<a b><><;c>'
}

@test "sh -c SCRIPT: --dry-run prints the argv quoted for a shell" {
	run fp --dry-run sh -c 'echo {}' ::: 'a b'
	assert_success
	assert_output "sh -c 'echo '\"'\"'a b'\"'\"''"
	run sh -c "$output"
	assert_output 'a b'
}

@test "sh -c SCRIPT: --exec-mode shell keeps the joined command line" {
	# The line is sh -c echo 'a': the inner sh runs echo with \$0 a.
	run fp --exec-mode shell sh -c 'echo {}' ::: 'a'
	assert_success
	assert_output ''
}

@test "sh -c SCRIPT: not a shell, or no -c, is not taken apart" {
	run fp -k sh -e "$SHOWARGS" {} ::: 'a b'
	assert_success
	assert_output '1:<a b>'
}

# --- -q, --quote --------------------------------------------------------------

@test "-q: shell syntax in the words is passed to the program as it is" {
	require_cmd perl
	printf 'a b\n' >two
	printf 'abc\n' >one
	run fp -k -q perl -ne '/^\S+\s+\S+$/ and print $ARGV,"\n"' ::: two one
	assert_success
	assert_output 'two'
	rm one two
	run fp --quote "$SHOWARGS" 'a  b' '$HOME;' 'x{}|' ::: '$(touch pwned)'
	assert_success
	assert_output '3:<a  b><$HOME;><x$(touch pwned)|>'
	assert_work_untouched
}

@test "-q: values are appended as arguments when there is no {}" {
	run fp -k -q "$SHOWARGS" '*' ::: 'a b' '`c`'
	assert_success
	assert_output $'2:<*><a b>\n2:<*><`c`>'
	run fp -q -n2 "$SHOWARGS" '*' ::: 'a b' '`c`'
	assert_success
	assert_output $'3:<*><a b><`c`>'
}

@test "-q with an exported bash function: each word means itself, values stay data" {
	export -f fp_show
	run fp -k -q fp_show 'a  b' '$HOME;' "it's" x{}y '' ::: '$(touch pwned)' 'c d'
	assert_success
	assert_output "<a  b><\$HOME;><it's><x\$(touch pwned)y><>
<a  b><\$HOME;><it's><xc dy><>"
	assert_work_untouched
}

@test "-q: --exec-mode shell contradicts it" {
	run -255 --separate-stderr fp -q --exec-mode shell echo ::: a
	assert_output ''
	assert_equal "$stderr" "forkpool: -q cannot be used with --exec-mode shell: -q runs the command's words as they are, without a shell"
}

# --- --workdir ----------------------------------------------------------------

@test "--workdir DIR: every job runs in DIR; --wd and . likewise" {
	mkdir -p "$BATS_TEST_TMPDIR/wd"
	run fp -k --workdir "$BATS_TEST_TMPDIR/wd" sh -c pwd ::: 1 2
	assert_success
	assert_output "$BATS_TEST_TMPDIR/wd"$'\n'"$BATS_TEST_TMPDIR/wd"
	run fp --wd victim ls ::: .
	assert_success
	assert_output 'keep'
	run fp --wd . sh -c pwd ::: 1
	assert_success
	assert_output "$WORK"
}

@test "--workdir: a missing directory or a file is an error naming it, exit 255" {
	run -255 --separate-stderr fp --workdir nodir pwd ::: 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: --workdir nodir: No such file or directory'
	run -255 --separate-stderr fp --wd f1 pwd ::: 1
	assert_output ''
	assert_equal "$stderr" 'forkpool: --workdir f1: Not a directory'
}

@test "--dry-run with -S: --workdir is the hosts' directory, not looked for or made here" {
	mkdir t
	run -0 --separate-stderr fp --dry-run -k -S nohost.invalid --workdir /no/such/dir \
		--tmpdir t echo ::: 1 2
	assert_output $'echo 1\necho 2'
	assert_equal "$stderr" ''
	run -0 --separate-stderr fp --dry-run -S nohost.invalid --workdir ... --tmpdir t echo ::: 1
	assert_output 'echo 1'
	run ls -A t
	assert_output ''
}

@test "--workdir ...: one private directory under --tmpdir for all jobs, removed at the end" {
	mkdir "$BATS_TEST_TMPDIR/t"
	run fp -j1 --tmpdir "$BATS_TEST_TMPDIR/t" --wd ... sh -c \
		'pwd; touch "f$0"; ls' ::: 1 2
	assert_success
	assert_line -n 0 --regexp "^$BATS_TEST_TMPDIR/t/forkpool\.wd\.[A-Za-z0-9]{6}\$"
	assert_output "${lines[0]}"$'\nf1\n'"${lines[0]}"$'\nf1\nf2'
	run ls -A "$BATS_TEST_TMPDIR/t"
	assert_output ''
}

@test "--workdir ...: removed with what the jobs left, read-only directories too, when not root" {
	require_cmd setpriv
	local d
	d=$(mktemp -d /tmp/fp-wd.XXXXXX)
	chmod 755 "$d"
	cp "$FP_BIN" "$d/forkpool"
	mkdir "$d/t"
	chmod 777 "$d/t"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$d/forkpool" --tmpdir "$d/t" --wd ... \
		'mkdir -p d/e; touch d/e/f; chmod 000 d; mkdir ro; touch ro/x; chmod 555 ro; echo {}' ::: 1
	local left
	left=$(ls -A "$d/t")
	chmod -R u+rwx "$d/t" 2>/dev/null || true
	rm -rf "$d"
	assert_success
	assert_output 1
	assert_equal "$stderr" ''
	assert_equal "$left" ''
}

@test "--workdir ...: removed when forkpool is interrupted" {
	mkdir "$BATS_TEST_TMPDIR/t"
	start_fp --tmpdir "$BATS_TEST_TMPDIR/t" --wd ... sh -c 'touch x; exec sleep 30' ::: 1
	wait_files 1 "$BATS_TEST_TMPDIR/t/*/x"
	kill -INT "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 130
	run ls -A "$BATS_TEST_TMPDIR/t"
	assert_output ''
}

# --- --env --------------------------------------------------------------------

@test "--env NAME, _ and patterns are accepted; locally every variable reaches the job" {
	run env FP_A=1 FP_B=2 "$FP_BIN" --env FP_A --env _ --env 'FP_*' \
		--env 'F[A-Z]_?' sh -c 'echo "$FP_A $FP_B"' ::: x
	assert_success
	assert_output '1 2'
}

@test "--env: an exported function's name may hold - . : + @, as bash allows" {
	my-f() { echo "f:$1"; }
	export -f my-f
	run --separate-stderr fp --env my-f --env a.b:c+d@e my-f ::: x
	assert_success
	assert_output 'f:x'
}

@test "--env: a name that is neither a variable name nor a pattern is an error naming it" {
	run -255 --separate-stderr fp --env 'A=B' true ::: x
	assert_output ''
	assert_equal "$stderr" 'forkpool: --env A=B: not a variable name, _ or a pattern'
	run -255 --separate-stderr fp --env 'a/b' true ::: x
	assert_equal "$stderr" 'forkpool: --env a/b: not a variable name, _ or a pattern'
	run -255 --separate-stderr fp --env '1X' true ::: x
	assert_equal "$stderr" 'forkpool: --env 1X: not a variable name, _ or a pattern'
	run -255 --separate-stderr fp --env '' true ::: x
	assert_equal "$stderr" 'forkpool: --env : not a variable name, _ or a pattern'
}

# --- --nice -------------------------------------------------------------------

# The niceness field of a /proc/PID/stat line on stdin.
stat_nice() {
	sed 's/.*) //' | cut -d' ' -f17
}

@test "--nice N: a job starts with N added to forkpool's niceness" {
	local base
	base=$(nice)
	run fp --nice 3 cat /proc/self/stat{} ::: ''
	assert_success
	assert_equal "$(stat_nice <<<"$output")" "$((base + 3 > 19 ? 19 : base + 3))"
	run fp -k --nice 2 sh -c 'nice' ::: 1 2
	assert_success
	assert_output "$((base + 2 > 19 ? 19 : base + 2))"$'\n'"$((base + 2 > 19 ? 19 : base + 2))"
}

@test "--nice: clamped to 19 as nice(1) does; a bad N is an error naming the option" {
	run fp --nice 100 sh -c 'nice' ::: 1
	assert_success
	assert_output '19'
	run -255 --separate-stderr fp --nice x true ::: 1
	assert_equal "$stderr" 'forkpool: --nice x: invalid'
	run -255 --separate-stderr fp --nice '' true ::: 1
	assert_equal "$stderr" 'forkpool: --nice : invalid'
}

# --- inherited descriptors ----------------------------------------------------

@test "a descriptor forkpool inherited reaches the job: <(...) as a value" {
	run fp cat ::: <(echo a)
	assert_success
	assert_output 'a'
}

# A job's descriptors, one a line: ls lists those of the sh that runs it.
FDS='ls /proc/$$/fd'
FDS_SEEN=$'0\n1\n2\n9'

# fp_fd9 ARGS...: run forkpool ARGS with no descriptor above 2 but 9, which
# is open on the file "file" (bats keeps some open in every test).
fp_fd9() {
	bash -c "$CLOSE_FDS"'; exec 9<file; exec "$FP_BIN" "$@"' fp_fd9 "$@"
}

@test "jobs see 0 1 2 and what forkpool inherited, none of forkpool's own: -j4, --joblog, --results, --timeout" {
	echo data >file
	run fp_fd9 -j4 --joblog log --timeout 20 sh -c "$FDS" ::: 1 2 3 4
	assert_success
	assert_output "$FDS_SEEN"$'\n'"$FDS_SEEN"$'\n'"$FDS_SEEN"$'\n'"$FDS_SEEN"
	run fp_fd9 -j4 --results res.json sh -c "$FDS" ::: 1 2 3 4
	assert_success
	run grep -c '"Stdout": "0\\u000a1\\u000a2\\u000a9\\u000a"' res.json
	assert_output '4'
	run fp_fd9 -j4 --results resdir sh -c "$FDS" ::: 1 2 3 4
	assert_success
	run cat resdir/1/1/stdout resdir/1/4/stdout
	assert_output "$FDS_SEEN"$'\n'"$FDS_SEEN"
}

@test "jobs see none of forkpool's own descriptors while -k holds output in a spill file" {
	echo data >file
	fp_fd9 -k -j2 sh -c 'case $0 in
		1) sleep 1 ;;
		2) head -c 20000000 /dev/zero ;;
		*) '"$FDS"' ;;
		esac' ::: 1 2 3 4 >out
	run tail -c 16 out
	assert_output "$FDS_SEEN"$'\n'"$FDS_SEEN"
}
