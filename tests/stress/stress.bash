# Shared by the stress tests in tests/stress (make stress, or make
# stress-quick for the short run CI does); every .bats file here does
# `load ../helper` and `load stress`.
#
#   STRESS_QUICK=1   smaller counts, for a run of a few minutes
#   STRESS_SEED=N    the seed of the jobs' random outputs (default 1)

STRESS_SEED=${STRESS_SEED:-1}
export STRESS_SEED

# stress_size FULL QUICK: the count for this run.
stress_size() {
	if [[ ${STRESS_QUICK:-0} == 1 ]]; then
		printf '%s\n' "$2"
	else
		printf '%s\n' "$1"
	fi
}

# stress_build: compile fpstress.c (the stress jobs and their checker, see
# its header) into $BATS_FILE_TMPDIR; FPSTRESS is its path.  For setup_file.
stress_build() {
	FPSTRESS="$BATS_FILE_TMPDIR/fpstress"
	"${CC:-cc}" -std=c11 -O2 -Wall -D_GNU_SOURCE -o "$FPSTRESS" \
		"$BATS_TEST_DIRNAME/fpstress.c"
	export FPSTRESS
}

# stress_note TEXT: show TEXT in the TAP output, as a comment line.
stress_note() {
	printf '# %s\n' "$*" >&3
}
