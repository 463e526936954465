#!/usr/bin/env bats
# Shell quoting: every value reaches a real shell as one word that reads
# back as exactly its bytes, wherever it stands in the command.  The values
# are the seed corpus of fuzz/fuzz_quote.c plus the hostile ones below.

bats_require_minimum_version 1.5.0
load helper

CORPUS="$FP_ROOT/fuzz/corpus/fuzz_quote"

# Programs named like syntax, to see whether a value runs as a command:
# written once, before any test runs, since a test that rewrote one while
# a test beside it ran it would make exec fail with ETXTBSY.
setup_file() {
	mkbin if 'echo "if ran: $*"'
	mkbin while 'echo "while ran: $*"'
	mkbin time 'echo "time ran: $*"'
	mkbin 'A=b' 'echo "A=b ran: $*"'
	mkbin '=x' 'echo "=x ran: $*"'
}

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	PATH="$BATS_FILE_TMPDIR/bin:$PATH"
}

# The templates quote their own format strings: template words are shell
# text when the command runs through a shell.

# values.bin: every value of the corpus and a few more, each ended by a NUL.
make_values() {
	local f
	: >values.bin
	for f in "$CORPUS"/*; do
		[[ -s $f ]] || continue
		cat "$f" >>values.bin
		printf '\0' >>values.bin
	done
	printf '%s\0' '' "'\"'\"'" $'\n' '$(touch pwned)' 'if' 'a=$(id)' '=' \
		'x=' '{-1}' '{1/}' '{//}' '{/.}' '{#}' '{%}' >>values.bin
}

@test "the quote corpus is there and NUL-free" {
	local n
	n=$(find "$CORPUS" -type f | wc -l)
	((n >= 20))
	run grep -lP '\x00' -r "$CORPUS"
	assert_failure 1
}

@test "dash and bash read every quoted value back byte for byte" {
	local sh
	make_values
	for sh in dash bash; do
		require_cmd "$sh"
		echo "checking $sh"
		fp -k -0 -j2 --exec-mode shell --shell "$(command -v "$sh")" \
			printf "'%s\\0'" {} <values.bin >"out.$sh"
		cmp values.bin "out.$sh"
	done
	[[ ! -e pwned ]]
}

@test "values as several arguments of one shell command read back exactly" {
	local sh
	make_values
	for sh in dash bash; do
		require_cmd "$sh"
		fp -j1 -0 -X --exec-mode shell --shell "$(command -v "$sh")" \
			printf "'%s\\0'" <values.bin >"out.$sh"
		cmp values.bin "out.$sh"
	done
}

@test "a value that is a reserved word runs as a command, not as syntax" {
	local sh
	for sh in dash bash; do
		require_cmd "$sh"
		run --separate-stderr fp -k --exec-mode shell \
			--shell "$(command -v "$sh")" {} arg ::: if while time
		assert_success
		assert_output $'if ran: arg\nwhile ran: arg\ntime ran: arg'
	done
}

@test "a value NAME=... runs as a command, not as an assignment" {
	local sh
	for sh in dash bash; do
		require_cmd "$sh"
		run --separate-stderr fp --exec-mode shell \
			--shell "$(command -v "$sh")" {} arg ::: A=b
		assert_success
		assert_output 'A=b ran: arg'
	done
}

@test "zsh: a value beginning with = is not expanded to a path" {
	require_cmd zsh
	run --separate-stderr fp -k --exec-mode shell --shell "$(command -v zsh)" \
		printf "'<%s>\\n'" {} ::: =ls =x
	assert_success
	assert_output $'<=ls>\n<=x>'
	run --separate-stderr fp --exec-mode shell --shell "$(command -v zsh)" \
		{} arg ::: =x
	assert_success
	assert_output '=x ran: arg'
}

@test "--dry-run: a value standing first stays a command when sh runs it" {
	run fp -k --dry-run {} arg ::: if A=b
	assert_success
	assert_output $'\'if\' arg\n\'A=b\' arg'
	run sh -c "$output"
	assert_success
	assert_output $'if ran: arg\nA=b ran: arg'
}

# --- quoting contexts ---------------------------------------------------------
# A replacement string may stand inside the user's own quotes, command
# substitutions and parameter expansions; each value must still arrive as
# exactly its bytes, and never run.  Every context is tried with sh, dash,
# bash and zsh.

# Values that run code or change the word if quoted for the wrong context.
CTX_VALUES=(
	'$(touch PWNED1)'
	'`touch PWNED2`'
	"x'\$(touch PWNED3)'y"
	'a"$(touch PWNED4)"b'
	"'"
	'"'
	"it's"
	'a  b'
	'back\slash'
	'\'
	'\$(touch PWNED5)'
	'\`touch PWNED6\`'
	'$HOME'
	'${HOME}'
	'}'
	'{}'
	'!bang'
	'*'
	'-n'
	'~'
	''
	$'line1\nline2'
	$'trailing\n'
	$'tab\there'
	'; touch PWNED7'
	'#hash'
	'if'
)

# context_check TEMPLATE PREFIX SUFFIX: under every shell, each value of
# CTX_VALUES given to TEMPLATE comes out as PREFIX value SUFFIX followed by a
# NUL, in order, with status 0, no stderr and no file created.
context_check() {
	local sh v rc
	printf '%s\0' "${CTX_VALUES[@]}" >values.bin
	: >expected.bin
	for v in "${CTX_VALUES[@]}"; do
		printf '%s%s%s\0' "$2" "$v" "$3" >>expected.bin
	done
	for sh in sh dash bash zsh; do
		require_cmd "$sh"
		echo "checking $sh: $1"
		rc=0
		fp -k -0 -j2 --shell "$(command -v "$sh")" "$1" \
			<values.bin >"out.$sh" 2>"err.$sh" || rc=$?
		assert_equal "$rc" 0
		assert_equal "$(cat "err.$sh")" ""
		cmp expected.bin "out.$sh"
		run ls PWNED*
		assert_failure
	done
}

@test "context: bare word" {
	context_check "printf '%s\\0' {}" '' ''
}

@test "context: inside single quotes" {
	context_check "printf '%s\\0' '<{}>'" '<' '>'
}

@test "context: inside double quotes" {
	context_check "printf '%s\\0' \"<{}>\"" '<' '>'
}

@test "context: inside double quotes, between blanks" {
	context_check "printf '%s\\0' \" a {} b \"" ' a ' ' b '
}

@test "context: every replacement string inside double quotes" {
	local sh vals=('d/$(touch PWNED1).x' "d'\`touch PWNED2\`'/it's.tar.gz"
		'a"b/c\d.e' '$x/y.z' '/' 'noext' '.dot' 'a/\')
	run --separate-stderr fp -k --exec-mode direct "$SHOWARGS" {} {.} {/} {//} \
		{/.} {1} {-1} {1.} {1/} {1//} {1/.} ::: "${vals[@]}"
	assert_success
	local direct=$output
	assert_equal "${lines[0]}" "$(showargs_expect 'd/$(touch PWNED1).x' \
		'd/$(touch PWNED1)' '$(touch PWNED1).x' 'd' '$(touch PWNED1)' \
		'd/$(touch PWNED1).x' 'd/$(touch PWNED1).x' 'd/$(touch PWNED1)' \
		'$(touch PWNED1).x' 'd' '$(touch PWNED1)')"
	for sh in sh dash bash zsh; do
		require_cmd "$sh"
		run --separate-stderr fp -k --shell "$(command -v "$sh")" \
			"\"$SHOWARGS\" \"{}\" \"{.}\" \"{/}\" \"{//}\" \"{/.}\" \"{1}\" \"{-1}\" \"{1.}\" \"{1/}\" \"{1//}\" \"{1/.}\"" \
			::: "${vals[@]}"
		assert_success
		assert_equal "$output" "$direct"
		run ls PWNED*
		assert_failure
	done
}

@test "context: backquotes, bare and inside double quotes" {
	context_check "x=\`printf '%s<' {}\`; printf '%s\\0' \"\$x\"" '' '<'
	context_check "printf '%s\\0' \"\`printf '%s<' {}\`\"" '' '<'
}

@test "context: double quotes inside backquotes inside double quotes" {
	context_check "printf '%s\\0' \"\`printf '%s<' \\\"{}\\\"\`\"" '' '<'
}

@test "context: backquotes inside backquotes" {
	context_check "x=\`printf '%s>' \"\\\`printf '%s<' {}\\\`\"\`; printf '%s\\0' \"\$x\"" '' '<>'
}

@test "context: \$(...), bare and nested in double quotes" {
	context_check "x=\$(printf '%s<' {}); printf '%s\\0' \"\$x\"" '' '<'
	context_check "printf '%s\\0' \"\$(printf '%s<' \"{}\")\"" '' '<'
	context_check "printf '%s\\0' \"\$(printf '%s>' \"\$(printf '%s<' '{}')\")\"" '' '<>'
}

@test "context: \$(...) holding a case statement" {
	context_check "printf '%s\\0' \"\$(case x in x) printf '%s<' \"{}\";; esac)\"" '' '<'
}

@test "context: after a backslash, bare and inside double quotes" {
	context_check "printf '%s\\0' \\{}" '' ''
	context_check "printf '%s\\0' \"\\{}\"" '\' ''
	context_check "printf '%s\\0' \"\`printf '%s<' \\{}\`\"" '' '<'
}

@test "context: the word of \${var:-...}, bare and inside double quotes" {
	context_check "x=\${fp_unset:-{}}; printf '%s\\0' \"\$x\"" '' ''
	context_check "printf '%s\\0' \"\${fp_unset:-{}}\"" '' ''
	context_check "printf '%s\\0' \"\${fp_unset:-\"{}\"}\"" '' ''
}

@test "context: a comment holds no value" {
	context_check "printf '%s\\0' {} # {}" '' ''
}

@test "context: a template of several lines" {
	context_check "x={}"$'\n'"printf '%s\\0' \"\$x\""$'\n'"# {}" '' ''
}

@test "context: arithmetic takes numbers, and fails on anything else" {
	local sh
	for sh in sh dash bash zsh; do
		require_cmd "$sh"
		run --separate-stderr fp -k --shell "$(command -v "$sh")" \
			'echo $(({} * 2))' ::: 21 -4 +3
		assert_success
		assert_output $'42\n-8\n6'
		run --separate-stderr fp -k --shell "$(command -v "$sh")" \
			'echo $(({} * 2))' ::: 'x[$(touch PWNED)]' HOME '1;2'
		assert_failure 3
		assert_output ''
		assert_file_not_exists PWNED
	done
}

@test "GNU parallel habits: values inside the user's quotes" {
	run fp 'echo "{}"' ::: 'a b'
	assert_success
	assert_output 'a b'
	run fp "echo '{}'" ::: "it's"
	assert_success
	assert_output "it's"
	run fp echo {} ::: 'a  b'
	assert_success
	assert_output 'a  b'
	run fp -n2 'echo "<{}>"' ::: a b
	assert_success
	assert_output '<a b>'
	run fp -j1 -X 'echo "<{}>"' ::: a b
	assert_success
	assert_output '<a> <b>'
}

@test "a replacement string inside \$'...' is refused (255)" {
	run --separate-stderr fp "printf '%s\\n' \$'a{}'" ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: cannot quote {} inside \$'...': printf '%s\\n' \$'a{}'"
}

@test "\$ right before a replacement string is refused (255)" {
	run --separate-stderr fp 'echo "${}"' ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: cannot quote {} right after $: echo "${}"'
}

@test "a replacement string in a here-document is refused (255)" {
	run --separate-stderr fp 'cat <<EOF'$'\n''{}'$'\n''EOF' ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: cannot quote {} inside a here-document: cat <<EOF"$'\n''{}'$'\n''EOF'
}

# arith_check TEMPLATE: under bash and zsh, a hostile value in TEMPLATE runs
# no code, and --dry-run shows it as @, as $((...)) has it.
arith_check() {
	local sh hostile='a[$(echo PW""NED >&2)]'
	run --separate-stderr fp --dry-run "$1" ::: "$hostile"
	assert_success
	assert_output "${1//\{\}/@}"
	for sh in bash zsh; do
		require_cmd "$sh"
		echo "checking $sh: $1"
		run --separate-stderr fp --shell "$(command -v "$sh")" "$1" \
			::: "$hostile"
		[[ $stderr != *PWNED* ]]
	done
}

@test "context: array subscripts and other arithmetic take numbers only" {
	local t
	for t in 'a=(x y); echo ${a[{}]}' 'x[{}]=1' 'a=([{}]=1)' \
		'a+=([{}]=1)' 'echo ${#x[{}]}' 'for ((i={};i<1;i++)); do :; done' \
		'x=abc; echo ${x:{}}' 'x=abc; echo ${x:0:{}}' \
		'x=abc; echo ${x: -{}}' 'a=(x y); echo ${a[@]:{}}' \
		'x=abc; echo "${x:{}:1}"' 'declare x[{}]=1' 'echo $x[{}]' \
		'echo ${a["{}"]}' "echo \${a['{}']}" 'echo $(( "{}" ))'; do
		arith_check "$t"
	done
	run --separate-stderr fp --shell "$(command -v bash)" -k \
		'a=(x y z); echo ${a[{}]} ${a[@]:{}} "${a:0:{}}" ${#a[{}]}' ::: 1 2
	assert_success
	assert_output $'y y z x 1\nz z x 1'
}

@test "\${ right before a replacement string is refused (255)" {
	run --separate-stderr fp 'echo "${{}}"' ::: 'BASH_VERSION:?boom'
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: cannot quote {} right after ${: echo "${{}}"'
	run --separate-stderr fp 'echo ${{}}' ::: a b
	assert_failure 255
	assert_equal "$stderr" 'forkpool: cannot quote {} right after ${: echo ${{}}'
}

@test "a backslash-newline is taken out before the context is read" {
	local sh
	for sh in dash bash zsh; do
		require_cmd "$sh"
		run --separate-stderr fp --shell "$(command -v "$sh")" \
			$'echo "$\\\n{}"' ::: '(echo PW""NED >&2)'
		assert_failure 255
		assert_output ''
		assert_equal "$stderr" $'forkpool: cannot quote {} right after $: echo "$\\\n{}"'
		run --separate-stderr fp --shell "$(command -v "$sh")" \
			$'echo a \\\n#{}' ::: $'x\necho PW""NED #'
		assert_success
		assert_output 'a'
		assert_equal "$stderr" ''
		run --separate-stderr fp --shell "$(command -v "$sh")" \
			$'cat <\\\n<EOF\n{}\nEOF' ::: '$(echo PW""NED >&2)'
		assert_failure 255
		assert_output ''
		run --separate-stderr fp --shell "$(command -v "$sh")" -k \
			$'printf \'%s\\n\' "a\\\n{}" b\\\n{} \'c\\\n\'{}' \
			::: '$(echo PW""NED >&2)'
		assert_success
		assert_output $'a$(echo PW""NED >&2)\nb$(echo PW""NED >&2)\nc\\\n$(echo PW""NED >&2)'
		assert_equal "$stderr" ''
	done
}

@test "-X repeats the word after a redirection operator, not the operator" {
	run --separate-stderr fp -j1 -X --dry-run 'cat <<<{}' ::: a b c
	assert_success
	assert_output 'cat <<<a b c'
	run --separate-stderr fp -j1 -X --dry-run \
		'cat >{} 2>&{} <>{} >|{} &>{} >>{} <&{}' ::: a b
	assert_success
	assert_output 'cat >a b 2>&a b <>a b >|a b &>a b >>a b <&a b'
	run --separate-stderr fp --shell "$(command -v bash)" -j1 -X \
		$'cat - <<<{} 2>/dev/null\n: {}' ::: x y '$(echo PW""NED >&2)'
	assert_success
	assert_output 'x'
	assert_equal "$stderr" ''
}

@test "a replacement string as a here-document delimiter is refused (255)" {
	run --separate-stderr fp $'cat <<{}\nx' ::: x
	assert_failure 255
	assert_equal "$stderr" $'forkpool: cannot quote {} as a here-document delimiter: cat <<{}\nx'
	run --separate-stderr fp $'cat <<-"a{}"\nx' ::: x
	assert_failure 255
	assert_equal "$stderr" $'forkpool: cannot quote {} as a here-document delimiter: cat <<-"a{}"\nx'
}

@test "a here-document ends at its delimiter line" {
	local sh
	for sh in dash bash zsh; do
		require_cmd "$sh"
		run --separate-stderr fp --shell "$(command -v "$sh")" -k \
			$'cat <<EOF\nhi\nEOF\necho {}' ::: a '$(echo PW""NED >&2)'
		assert_success
		assert_output $'hi\na\nhi\n$(echo PW""NED >&2)'
		assert_equal "$stderr" ''
		run --separate-stderr fp --shell "$(command -v "$sh")" -k \
			$'cat <<-\'E F\'; cat <<X; echo "{}"\n\t\tE F not\n\tE F\nx {}\nX\necho {}' ::: a
		assert_failure 255
		assert_equal "$stderr" $'forkpool: cannot quote {} inside a here-document: cat <<-\'E F\'; cat <<X; echo "{}"\n\t\tE F not\n\tE F\nx {}\nX\necho {}'
		run --separate-stderr fp --shell "$(command -v "$sh")" -k \
			$'cat <<-\'E F\'; cat <<X; echo "{}"\n\t\tE F not\n\tE F\nx\nX\necho {}' ::: 'a"$(echo PW""NED >&2)'
		assert_success
		assert_output $'E F not\nx\na"$(echo PW""NED >&2)\na"$(echo PW""NED >&2)'
		assert_equal "$stderr" ''
	done
}

@test "-X repeats the shell word around {} inside SHELL -c SCRIPT" {
	local sh
	run --separate-stderr fp -j1 -X --dry-run sh -c 'printf "<%s>\n" x{}y; echo {}' ::: 1 2 3
	assert_success
	assert_output "sh -c 'printf \"<%s>\\n\" x1y x2y x3y; echo 1 2 3'"
	for sh in dash bash zsh; do
		require_cmd "$sh"
		run --separate-stderr fp -j1 -X "$sh" -c 'printf "<%s>\n" x{}y' {} ::: 1 'a b' '$(echo PW""NED >&2)'
		assert_success
		assert_output $'<x1y>\n<xa by>\n<x$(echo PW""NED >&2)y>'
		assert_equal "$stderr" ''
	done
}
