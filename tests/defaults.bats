#!/usr/bin/env bats
# $FORKPOOL: default options, inserted before the command line's, as GNU
# parallel's $PARALLEL.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
	# sleeper SECONDS: sleep, then print SECONDS
	SLEEPER=$(mkscript sleeper 'sleep "$1"; echo "$1"')
}

@test "\$FORKPOOL=-k: the default options apply" {
	# without -k the job that sleeps would print last
	FORKPOOL=-k run --separate-stderr fp -j2 "$SLEEPER" ::: 0.5 0
	assert_success
	assert_output $'0.5\n0'
	assert_equal "$stderr" ''
}

@test "\$FORKPOOL: several options, a clustered one and an option with its argument" {
	FORKPOOL='-kj1 --tagstring T' run --separate-stderr fp echo ::: a b
	assert_success
	assert_output $'T\ta\nT\tb'
	assert_equal "$stderr" ''
}

@test "\$FORKPOOL: the command line overrides it; its other options still apply" {
	FORKPOOL='--tagstring env -k' run --separate-stderr fp -j2 --tagstring cmd "$SLEEPER" ::: 0.5 0
	assert_success
	assert_output $'cmd\t0.5\ncmd\t0'
	FORKPOOL='-k --timeout 0.2' run --separate-stderr fp -j2 --timeout 5 "$SLEEPER" ::: 0.5 0
	assert_success
	assert_output $'0.5\n0'
	assert_equal "$stderr" ''
}

@test "\$FORKPOOL: a backslash escapes a blank or a backslash; quotes group words, as GNU parallel's shell-like split" {
	FORKPOOL='--tagstring a\ b' run --separate-stderr fp echo ::: x
	assert_success
	assert_output $'a b\tx'
	FORKPOOL='--tagstring a\\b' run --separate-stderr fp echo ::: x
	assert_output $'a\\b\tx'
	FORKPOOL="--tagstring 'c  d'" run --separate-stderr fp echo ::: x
	assert_output $'c  d\tx'
	FORKPOOL='--tagstring "e\"f"g' run --separate-stderr fp echo ::: x
	assert_output $'e"fg\tx'
	FORKPOOL='--tagstring $HOME\$' run --separate-stderr fp echo ::: x
	assert_output $'$HOME$\tx'
	FORKPOOL=$'\t-k \n --tagstring\tt  ' run --separate-stderr fp echo ::: x y
	assert_success
	assert_output $'t\tx\nt\ty'
	assert_equal "$stderr" ''
}

@test "\$FORKPOOL: backslashes and quotes as in the shell: in double quotes a backslash escapes only \$ \` \" \\ and newline" {
	# in double quotes \t stays, and --tagstring then makes it a TAB
	FORKPOOL='--tagstring "x\ty"' run --separate-stderr fp echo ::: a
	assert_success
	assert_output $'x\ty\ta'
	assert_equal "$stderr" ''
	# in single quotes too; outside quotes the backslash escapes the t
	FORKPOOL="--tagstring 'x\\ty'" run --separate-stderr fp echo ::: a
	assert_output $'x\ty\ta'
	FORKPOOL='--tagstring x\ty' run --separate-stderr fp echo ::: a
	assert_output $'xty\ta'
	# the five a backslash escapes in double quotes, and one it does not
	FORKPOOL='--tagstring "1\$2\`3\"4\\5\'"'"'6\a"' run --separate-stderr fp echo ::: a
	assert_output $'1$2`3"4\\5\\\'6\\a\ta'
	# a backslash-newline is removed, in double quotes and outside them
	FORKPOOL=$'--tagstring "p\\\nq"r\\\ns -k\\\n' run --separate-stderr fp echo ::: a
	assert_success
	assert_output $'pqrs\ta'
	FORKPOOL=$'-k \\\n --tagstring t' run --separate-stderr fp echo ::: a
	assert_success
	assert_output $'t\ta'
	# in single quotes nothing is special
	FORKPOOL=$'--tagstring \'"\\\\\\$\'' run --separate-stderr fp echo ::: a
	assert_output $'"\\\\\\$\ta'
}

@test "\$FORKPOOL empty or blank changes nothing" {
	local v
	for v in '' ' ' $'\t\n'; do
		FORKPOOL=$v run --separate-stderr fp -k echo ::: a b
		assert_success
		assert_output $'a\nb'
		assert_equal "$stderr" ''
	done
}

@test "\$FORKPOOL: a bad option or value is named with the variable, exit 255" {
	FORKPOOL='-k --bogus' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_output ''
	assert_equal "${stderr_lines[0]}" 'forkpool: $FORKPOOL: --bogus: unknown option'
	FORKPOOL='--timeout 5x' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: --timeout 5x: not a duration such as 90, 1.5s or 1d2h3m4.5s'
	# an option's argument never comes from the command line
	FORKPOOL='-k -j' run --separate-stderr fp 2 touch ran ::: x
	assert_failure 255
	assert_equal "${stderr_lines[0]}" 'forkpool: $FORKPOOL: -j: needs an argument'
	assert_file_not_exists ran
}

@test "\$FORKPOOL: a word that is no option, an open quote or a lone backslash at the end is refused" {
	FORKPOOL='-k touch' run --separate-stderr fp ran ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: $FORKPOOL: touch: not an option (the variable holds options only)'
	FORKPOOL="--tagstring 'a b" run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: \$FORKPOOL: a ' quote is not closed"
	FORKPOOL='--tagstring "a b' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: a " quote is not closed'
	FORKPOOL='-k \' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: ends with a lone backslash'
	assert_file_not_exists ran
}

@test "\$FORKPOOL: a mistake on the command line is not blamed on the variable" {
	FORKPOOL=-k run --separate-stderr fp --bogus touch ran ::: x
	assert_failure 255
	assert_equal "${stderr_lines[0]}" 'forkpool: --bogus: unknown option'
	FORKPOOL=-k run --separate-stderr fp --timeout 5x touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --timeout 5x: not a duration such as 90, 1.5s or 1d2h3m4.5s'
	assert_file_not_exists ran
}

@test "\$FORKPOOL=--help prints the help, as the option would" {
	FORKPOOL=--help run --separate-stderr fp echo ::: x
	assert_success
	assert_line --index 0 --regexp '^usage: forkpool '
}

@test "\$FORKPOOL: a setting the command line gives drops the variable's options of that setting" {
	# -n, -N, -L, -l, -X, -m and --xargs are one setting
	FORKPOOL='-L 2' run --separate-stderr fp -k -n 1 echo ::: a b c
	assert_success
	assert_output $'a\nb\nc'
	assert_equal "$stderr" ''
	FORKPOOL='-n 2 -X' run --separate-stderr fp -k -N 1 echo x{} ::: a b
	assert_success
	assert_output $'xa\nxb'
	# -k and --no-keep-order are one setting
	FORKPOOL='-k' run --separate-stderr fp -j2 --no-keep-order "$SLEEPER" ::: 0.5 0
	assert_success
	assert_output $'0\n0.5'
	# --group, --line-buffer and -u are one: the -u is dropped, --tag stays
	FORKPOOL='-u --tag' run --separate-stderr fp --group echo ::: a
	assert_success
	assert_output $'a\ta'
	assert_equal "$stderr" ''
}

@test "\$FORKPOOL: -a FILE adds up with the command line's -a" {
	printf '1\n' >f1
	printf '2\n' >f2
	FORKPOOL='-a f1' run --separate-stderr fp -k -a f2 echo
	assert_success
	assert_output $'1 2'
}

@test "\$FORKPOOL: a conflict between its options names it; one with the command line's names both" {
	FORKPOOL='-L 2 -n 1' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: $FORKPOOL: -L and -n cannot be used together'
	FORKPOOL='-u' run --separate-stderr fp --tag touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL and the command line: --tag cannot be used with -u: an ungrouped line has no start to tag'
	assert_file_not_exists ran
}

@test "\$FORKPOOL: a bad value found after the options are read is named with the variable too" {
	FORKPOOL='-j 2k' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: -j 2k: invalid'
	FORKPOOL='--colsep (' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: --colsep (: missing closing parenthesis at offset 1'
	FORKPOOL='--header (' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: --header (: missing closing parenthesis at offset 1'
	FORKPOOL='--csv --colsep ab' run --separate-stderr fp touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL: --csv: --colsep ab: must be one character'
	FORKPOOL='--csv' run --separate-stderr fp --colsep ab touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: $FORKPOOL and the command line: --csv: --colsep ab: must be one character'
	# the command line's own mistakes are still not blamed on it
	FORKPOOL='-k' run --separate-stderr fp -j 2k touch ran ::: x
	assert_failure 255
	assert_equal "$stderr" 'forkpool: -j 2k: invalid'
	assert_file_not_exists ran
}

@test "\$FORKPOOL: carriage returns, form feeds and vertical tabs separate words too, as white space" {
	FORKPOOL=$'-k\r\f--tag\v' run --separate-stderr fp echo ::: a b
	assert_success
	assert_output $'a\ta\nb\tb'
}
