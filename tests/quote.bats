#!/usr/bin/env bats
# Shell quoting: every value reaches a real shell as one word that reads
# back as exactly its bytes, wherever it stands in the command.  The values
# are the seed corpus of fuzz/fuzz_quote.c plus the hostile ones below.

bats_require_minimum_version 1.5.0
load helper

CORPUS="$FP_ROOT/fuzz/corpus/fuzz_quote"

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	# Programs named like syntax, to see whether a value runs as a command.
	mkbin if 'echo "if ran: $*"'
	mkbin while 'echo "while ran: $*"'
	mkbin time 'echo "time ran: $*"'
	mkbin 'A=b' 'echo "A=b ran: $*"'
	mkbin '=x' 'echo "=x ran: $*"'
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
		fp -0 -X --exec-mode shell --shell "$(command -v "$sh")" \
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
