#!/usr/bin/env bats
# Shell completions offer every long option that --help prints.

bats_require_minimum_version 1.5.0
load helper

BASH_COMPLETION="$FP_ROOT/completions/forkpool.bash"
ZSH_COMPLETION="$FP_ROOT/completions/_forkpool"
FISH_COMPLETION="$FP_ROOT/completions/forkpool.fish"

setup() {
	fp_setup
}

# Long options printed by --help, one per line, sorted.
help_long_options() {
	"$FP_BIN" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# bash_complete WORD...: run the bash completion function for the command line
# WORD... (the last word is the one being completed) and print COMPREPLY, one
# entry per line, without any trailing '=' or space.
bash_complete() {
	bash --norc --noprofile -c '
		[ -r /usr/share/bash-completion/bash_completion ] &&
			. /usr/share/bash-completion/bash_completion >/dev/null 2>&1
		. "$1" || exit 99
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		_forkpool "${COMP_WORDS[0]}" "$cur" "$prev"
		for w in "${COMPREPLY[@]}"; do
			w=${w%% }
			printf "%s\n" "${w%=}"
		done' _ "$BASH_COMPLETION" "$@"
}

@test "--help lists at least the 24 long options of the specification" {
	run help_long_options
	assert_success
	assert [ "${#lines[@]}" -ge 24 ]
}

@test "bash completion file exists and is valid bash" {
	assert_file_exists "$BASH_COMPLETION"
	run bash -n "$BASH_COMPLETION"
	assert_success
	assert_output ''
}

@test "bash completion registers _forkpool for forkpool" {
	run bash --norc --noprofile -c '. "$1" && complete -p forkpool' _ "$BASH_COMPLETION"
	assert_success
	assert_output --partial '_forkpool'
	assert_output --regexp 'forkpool$'
}

@test "bash completion offers every long option from --help" {
	local opts
	opts=$(help_long_options)
	[ -n "$opts" ] || fail "--help printed no long options"
	run bash_complete forkpool --
	assert_success
	local offered=$output o missing=()
	while IFS= read -r o; do
		grep -qxF -- "$o" <<<"$offered" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "bash completion narrows long options by prefix" {
	run bash_complete forkpool --max-
	assert_success
	run sort -u <<<"$output"
	assert_output $'--max-args\n--max-chars\n--max-line-length-allowed\n--max-lines\n--max-procs\n--max-replace-args\n--max-tasks'
}

@test "bash completion offers long options after other options" {
	run bash_complete forkpool -k --line-buffer
	assert_success
	run sort <<<"$output"
	assert_output $'--line-buffer\n--line-buffered'
}

@test "zsh completion file mentions every long option from --help" {
	assert_file_exists "$ZSH_COMPLETION"
	local opts o missing=()
	opts=$(help_long_options)
	[ -n "$opts" ] || fail "--help printed no long options"
	while IFS= read -r o; do
		grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" "$ZSH_COMPLETION" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "zsh completion file is valid zsh" {
	require_cmd zsh
	run zsh -n "$ZSH_COMPLETION"
	assert_success
	assert_output ''
}

@test "zsh completion file starts with #compdef forkpool" {
	run head -n 1 "$ZSH_COMPLETION"
	assert_output --regexp '^#compdef.* forkpool( |$)'
}

@test "fish completion file mentions every long option from --help" {
	assert_file_exists "$FISH_COMPLETION"
	local opts o name missing=()
	opts=$(help_long_options)
	[ -n "$opts" ] || fail "--help printed no long options"
	while IFS= read -r o; do
		name=${o#--}
		grep -Eq -- "(-l|--long-option)[[:space:]=]+['\"]?$name(['\"[:space:]]|\$)|(^|[^[:alnum:]-])--$name([^[:alnum:]-]|\$)" \
			"$FISH_COMPLETION" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "fish completion file is valid fish" {
	require_cmd fish
	run fish --no-execute "$FISH_COMPLETION"
	assert_success
	assert_output ''
}

@test "fish offers every long option from --help" {
	require_cmd fish
	local opts o missing=()
	opts=$(help_long_options)
	[ -n "$opts" ] || fail "--help printed no long options"
	run env HOME="$BATS_TEST_TMPDIR" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/.config" \
		XDG_DATA_HOME="$BATS_TEST_TMPDIR/.local/share" \
		fish --no-config -c 'source $argv[1]; complete -C "forkpool --"' "$FISH_COMPLETION"
	assert_success
	local offered
	offered=$(cut -f1 <<<"$output")
	while IFS= read -r o; do
		grep -qxF -- "$o" <<<"$offered" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "bash completion: --slurm-alloc takes salloc's options as its word, with nothing offered for them" {
	cd "$BATS_TEST_TMPDIR"
	touch nodes.txt
	# free text: no file, no command
	run bash_complete forkpool --slurm-alloc ''
	assert_success
	assert_output ''
	# the word after it is salloc's options, so the next one is the command
	run bash_complete forkpool --slurm-alloc "'-n 8'" ech
	assert_success
	assert_line echo
	refute_line nodes.txt
	run bash_complete forkpool --slurm -k --slurm
	assert_success
	run sort <<<"$output"
	assert_output $'--slurm\n--slurm-alloc'
}

@test "fish completion: --slurm-alloc takes salloc's options, with nothing offered for them" {
	require_cmd fish
	cd "$BATS_TEST_TMPDIR"
	touch nodes.txt
	run env HOME="$BATS_TEST_TMPDIR" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/.config" \
		XDG_DATA_HOME="$BATS_TEST_TMPDIR/.local/share" \
		fish --no-config -c 'source $argv[1]; complete -C "forkpool --slurm-alloc "' "$FISH_COMPLETION"
	assert_success
	assert_output ''
	run env HOME="$BATS_TEST_TMPDIR" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/.config" \
		XDG_DATA_HOME="$BATS_TEST_TMPDIR/.local/share" \
		fish --no-config -c 'source $argv[1]; complete -C "forkpool --slurm-alloc \"-n 8\" --slu"' "$FISH_COMPLETION"
	assert_success
	run cut -f1 <<<"$output"
	assert_output $'--slurm\n--slurm-alloc'
}
