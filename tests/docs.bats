#!/usr/bin/env bats
# The manual page documents every option and is lint-clean.

bats_require_minimum_version 1.5.0
load helper

MANPAGE="$FP_ROOT/man/forkpool.1"

setup() {
	fp_setup
}

# The manual rendered as plain ASCII text (no overstrike, '-' for dashes).
rendered_man() {
	mandoc -Tascii "$MANPAGE" | sed 's/.\x08//g'
}

@test "man page exists" {
	assert_file_exists "$MANPAGE"
}

@test "mandoc -Tlint -Wwarning prints nothing" {
	require_cmd mandoc
	assert_file_exists "$MANPAGE"
	run mandoc -Tlint -Wwarning "$MANPAGE"
	assert_success
	assert_output ''
}

@test "man page is mdoc for forkpool in section 1" {
	assert_file_exists "$MANPAGE"
	run grep -E '^\.Dt[[:space:]]+FORKPOOL[[:space:]]+1([[:space:]]|$)' "$MANPAGE"
	assert_success
}

@test "every long option printed by --help appears in the man page" {
	require_cmd mandoc
	local opts text o missing=()
	opts=$("$FP_BIN" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	[ -n "$opts" ] || fail "--help printed no long options"
	text=$(rendered_man)
	while IFS= read -r o; do
		grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<<"$text" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "every short option printed by --help appears in the man page" {
	require_cmd mandoc
	local opts text o missing=()
	opts=$("$FP_BIN" --help | grep -oE -- '(^|[[:space:],])-[[:alnum:]]([[:space:],]|$)' |
		grep -oE -- '-[[:alnum:]]' | sort -u)
	[ -n "$opts" ] || fail "--help printed no short options"
	text=$(rendered_man)
	while IFS= read -r o; do
		grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<<"$text" || missing+=("$o")
	done <<<"$opts"
	assert_equal "${missing[*]}" ""
}

@test "man page documents the input separators and replacement strings" {
	require_cmd mandoc
	local text w missing=()
	text=$(rendered_man)
	for w in ':::' '::::' ':::+' '::::+' '{}' '{.}' '{/}' '{//}' '{/.}' '{#}' '{%}'; do
		grep -Fq -- "$w" <<<"$text" || missing+=("$w")
	done
	assert_equal "${missing[*]}" ""
}

@test "man page documents the environment variables" {
	require_cmd mandoc
	local text w missing=()
	text=$(rendered_man)
	for w in FORKPOOL_SHELL SHELL TMPDIR FORKPOOL_SEQ FORKPOOL_SLOT PARALLEL_SEQ PARALLEL_JOBSLOT; do
		grep -Eq -- "(^|[^[:alnum:]_])$w([^[:alnum:]_]|\$)" <<<"$text" || missing+=("$w")
	done
	assert_equal "${missing[*]}" ""
}

@test "man page documents the exit statuses" {
	require_cmd mandoc
	local text w missing=()
	text=$(rendered_man)
	grep -q 'EXIT STATUS' <<<"$text" || missing+=('EXIT STATUS section')
	for w in 101 141 255; do
		grep -Eq -- "(^|[^0-9])$w([^0-9]|\$)" <<<"$text" || missing+=("$w")
	done
	assert_equal "${missing[*]}" ""
}

@test "man page and README say what a write error on stdout does, with the message forkpool prints" {
	require_cmd mandoc
	local msg
	# the message itself, as forkpool prints it on a full device
	msg=$("$FP_BIN" echo ::: a 2>&1 >/dev/full) && fail "exit 0 on a full device"
	assert_equal "$msg" 'forkpool: write error on stdout: No space left on device'
	run bash -c 'rendered_man() { mandoc -Tascii "$1" | sed "s/.\x08//g" | tr -s " \n" "  "; }; rendered_man "$1"' _ "$MANPAGE"
	assert_output --partial "\"$msg\""
	assert_output --partial 'a write error on the standard output (see OUTPUT)'
	run grep -F "\`$msg\`" "$FP_ROOT/README.md"
	assert_success
}

@test "man page and README: on SIGINT or SIGTERM, what -k printed of the oldest job as it ran stays printed" {
	require_cmd mandoc
	# signals.bats: "start 1" of the oldest job, ended, is in the output
	run bash -c 'mandoc -Tascii "$1" | sed "s/.\x08//g" | tr -s " \n" "  "' _ "$MANPAGE"
	assert_output --partial 'The output of the oldest job is printed as it comes'
	assert_output --partial '(what -k printed of the oldest job as it ran, or --line-buffer or -u of any job, stays printed)'
	run grep -F 'what `-k` printed of the oldest job as it ran' "$FP_ROOT/README.md"
	assert_success
}

@test "man page quotes the errors of --slurm and --slurm-alloc as forkpool prints them" {
	require_cmd mandoc
	local text msgs=() m missing=()
	text=$(mandoc -Tascii "$MANPAGE" | sed 's/.\x08//g' | tr -s ' \n' '  ')
	mkdir "$BATS_TEST_TMPDIR/nobin"
	# outside an allocation
	run -255 env -u SLURM_JOB_ID "$FP_BIN" --slurm true ::: a
	assert_output "forkpool: --slurm: not in a Slurm allocation (SLURM_JOB_ID is not set): run forkpool under salloc or sbatch, or ask for one with --slurm-alloc 'SALLOC OPTIONS'"
	msgs+=("$output")
	# in one, without srun; and salloc missing
	run -255 env SLURM_JOB_ID=1 PATH="$BATS_TEST_TMPDIR/nobin" "$FP_BIN" --slurm true ::: a
	assert_output 'forkpool: --slurm: srun: command not found'
	msgs+=("$output")
	run -255 env PATH="$BATS_TEST_TMPDIR/nobin" "$FP_BIN" --slurm-alloc '-n 1' true ::: a
	assert_output 'forkpool: --slurm-alloc: salloc: command not found'
	msgs+=("$output")
	for m in "${msgs[@]}"; do
		grep -qF -- "$m" <<<"$text" || missing+=("$m")
	done
	assert_equal "${missing[*]}" ""
}

@test "man page's ENVIRONMENT names the Slurm variables forkpool reads and its steps get" {
	require_cmd mandoc
	local text w missing=()
	# the ENVIRONMENT section alone, from its heading to the next one
	text=$(rendered_man | sed -n '/^ENVIRONMENT$/,/^EXIT STATUS$/p')
	[ -n "$text" ] || fail "no ENVIRONMENT section"
	for w in SLURM_JOB_ID SLURM_NTASKS SLURM_NPROCS SLURM_CPUS_PER_TASK SLURMD_NODENAME; do
		grep -Eq -- "(^|[^[:alnum:]_])$w([^[:alnum:]_]|\$)" <<<"$text" || missing+=("$w")
	done
	assert_equal "${missing[*]}" ""
}
