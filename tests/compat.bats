#!/usr/bin/env bats
# Options forkpool accepts so that command lines written for GNU parallel
# run unchanged.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
}

@test "GNU parallel's notice flags --will-cite, --no-notice and --gnu are accepted and change nothing" {
	local flag
	for flag in --will-cite --no-notice --gnu; do
		run --separate-stderr fp "$flag" -k echo ::: a b
		assert_success
		assert_output $'a\nb'
		assert_equal "$stderr" ""
	done
	run --separate-stderr fp --will-cite --no-notice --gnu -k false ::: a b
	assert_failure 2
	assert_output ""
}

@test "--citation and --bibtex print nothing and exit 0 without running anything" {
	local flag
	for flag in --citation --bibtex; do
		run --separate-stderr fp "$flag" 'echo ran >ran' ::: a
		assert_success
		assert_output ""
		assert_equal "$stderr" ""
		assert [ ! -e ran ]
	done
}

@test "the notice flags take no value" {
	run --separate-stderr fp --will-cite=yes echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "${stderr%%$'\n'*}" "forkpool: --will-cite=yes: --will-cite takes no argument"
}
