#!/usr/bin/env bats
# --junit FILE: a JUnit XML report of the run, one testcase per job, valid
# against tests/junit.xsd (the structure the common test reporters read),
# well-formed whatever bytes the jobs write, written even when the run is
# cut short.

bats_require_minimum_version 1.5.0
load helper

SCHEMA="$FP_TESTS/junit.xsd"

setup() {
	fp_setup
	require_cmd xmllint
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# valid FILE [OPTION]: FILE is well-formed and valid against the schema.
valid() {
	run xmllint --noout ${2:+"$2"} --schema "$SCHEMA" "$1"
	assert_success
}

# xq FILE XPATH: the string value of XPATH in FILE, followed by "|" so that
# trailing newlines survive $(...).
xq() {
	xmllint --xpath "concat($2, '|')" "$1"
}

# cases FILE ATTR: attribute ATTR of every testcase, one per line.
cases() {
	local i n
	n=$(xmllint --xpath 'count(//testcase)' "$1")
	for ((i = 1; i <= n; i++)); do
		xmllint --xpath "string(//testcase[$i]/@$2)" "$1"
	done
}

# counts FILE: tests failures errors skipped of the testsuite, then the same
# of testsuites (without skipped).
counts() {
	xmllint --xpath 'concat(//testsuite/@tests, " ", //testsuite/@failures, " ", //testsuite/@errors, " ", //testsuite/@skipped, " / ", /testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)' "$1"
}

@test "the schema refuses a testcase without a name and output before the result" {
	local head='<?xml version="1.0"?><testsuites><testsuite name="s" tests="1">'
	printf '%s<testcase name="a" time="0.001"><failure message="m"/><system-out>x</system-out></testcase></testsuite></testsuites>\n' "$head" >good.xml
	valid good.xml
	printf '%s<testcase time="0.001"/></testsuite></testsuites>\n' "$head" >noname.xml
	run xmllint --noout --schema "$SCHEMA" noname.xml
	assert_failure 3
	printf '%s<testcase name="a"><system-out>x</system-out><failure message="m"/></testcase></testsuite></testsuites>\n' "$head" >order.xml
	run xmllint --noout --schema "$SCHEMA" order.xml
	assert_failure 3
	printf '%s<testcase name="a" time="-1"/></testsuite></testsuites>\n' "$head" >time.xml
	run xmllint --noout --schema "$SCHEMA" time.xml
	assert_failure 3
}

@test "--junit: one testcase per job with the counts, names, result, output; the output is printed as well" {
	run --separate-stderr fp -k --junit r.xml 'echo out {}; echo err {} >&2; [ {} != b ]' ::: a b c
	assert_failure 1
	assert_equal "$output" $'out a\nout b\nout c'
	assert_equal "$stderr" $'err a\nerr b\nerr c'
	valid r.xml
	assert_equal "$(counts r.xml)" "3 1 0 0 / 3 1 0"
	assert_equal "$(cases r.xml name | paste -sd ' ')" "a b c"
	assert_equal "$(cases r.xml classname | paste -sd ' ')" "forkpool forkpool forkpool"
	assert_equal "$(xmllint --xpath 'count(//failure)' r.xml)" 1
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure/@message)')" "exit status 1|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure/@type)')" "exit|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure)')" "echo out b; echo err b >&2; [ b != b ]|"
	assert_equal "$(xq r.xml 'string(//testcase[1]/system-out)')" $'out a\n|'
	assert_equal "$(xq r.xml 'string(//testcase[3]/system-err)')" $'err c\n|'
	assert_equal "$(xq r.xml 'string(//testsuite/@name)')" "forkpool|"
	assert_equal "$(xq r.xml 'string(//testsuite/@hostname)')" "$(uname -n)|"
	[[ $(xq r.xml 'string(//testsuite/@timestamp)') =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\|$ ]]
	[[ $(xq r.xml 'string(//testsuite/@time)') =~ ^[0-9]+\.[0-9]{3}\|$ ]]
	[[ $(xq r.xml 'string(//testcase[1]/@time)') =~ ^[0-9]+\.[0-9]{3}\|$ ]]
}

@test "--junit: a job's time is its run time in seconds with 3 decimals" {
	run fp --junit r.xml sleep ::: 0.3
	assert_success
	valid r.xml
	[[ $(xq r.xml 'string(//testcase/@time)') =~ ^0\.[3-9][0-9]{2}\|$ ]]
}

@test "--junit: a job's name is its values, space-joined; --retry-failed's is the command" {
	run fp -k -N2 --junit r.xml echo {2} {1} ::: 'a b' c d e
	assert_success
	valid r.xml
	assert_equal "$(cases r.xml name)" $'a b c\nd e'
	printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n7\t:\t1.000\t     0.001\t0\t0\t1\t0\techo "retried <7>"\n' >log
	run fp --retry-failed --joblog log --junit r2.xml
	assert_success
	assert_output "retried <7>"
	valid r2.xml
	assert_equal "$(cases r2.xml name)" 'echo "retried <7>"'
}

@test "--junit: with --tagstring the name is its value, without the TAB" {
	run fp -k --tagstring 'job {#}: {}' --junit r.xml echo ::: x y
	assert_success
	assert_output $'job 1: x\tx\njob 2: y\ty'
	valid r.xml
	assert_equal "$(cases r.xml name)" $'job 1: x\njob 2: y'
	assert_equal "$(xq r.xml 'string(//testcase[2]/system-out)')" $'y\n|'
}

@test "--junit: timed out, killed by a signal and exited non-zero are told apart" {
	run --separate-stderr fp -k --timeout 0.3 --junit r.xml sh -c {} ::: 'sleep 5' 'kill -KILL $$' 'exit 3' true
	assert_failure 3
	valid r.xml
	assert_equal "$(counts r.xml)" "4 3 0 0 / 4 3 0"
	[[ $(xq r.xml 'string(//testcase[1]/failure/@message)') =~ ^timed\ out\ after\ 0\.[3-9][0-9]{2}\ s\|$ ]]
	assert_equal "$(xq r.xml 'string(//testcase[1]/failure/@type)')" "timeout|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure/@message)')" "killed by signal SIGKILL|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure/@type)')" "signal|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/failure)')" "sh -c 'kill -KILL \$\$'|"
	assert_equal "$(xq r.xml 'string(//testcase[3]/failure/@message)')" "exit status 3|"
	assert_equal "$(xq r.xml 'string(//testcase[3]/failure/@type)')" "exit|"
	assert_equal "$(xmllint --xpath 'count(//testcase[4]/*[self::failure or self::error])' r.xml)" 0
}

@test "--junit: a job that cannot start is an error" {
	run --separate-stderr fp -k --junit r.xml {} ::: ./nosuch true
	assert_failure 1
	assert_equal "$stderr" "forkpool: ./nosuch: command not found"
	valid r.xml
	assert_equal "$(counts r.xml)" "2 0 1 0 / 2 0 1"
	assert_equal "$(xq r.xml 'string(//testcase[1]/@name)')" "./nosuch|"
	assert_equal "$(xq r.xml 'string(//testcase[1]/error/@message)')" "cannot start: command not found|"
	assert_equal "$(xq r.xml 'string(//testcase[1]/error/@type)')" "start|"
	assert_equal "$(xq r.xml 'string(//testcase[1]/@time)')" "0.000|"
}

@test "--junit: a rejected input record is an error testcase" {
	run --separate-stderr bash -c 'printf "a\nb\0c\nd\n" | "$FP_BIN" -k --junit r.xml echo'
	assert_failure 1
	assert_output $'a\nd'
	assert_equal "$stderr" "forkpool: input record 2: contains a NUL byte"
	valid r.xml
	assert_equal "$(counts r.xml)" "3 0 1 0 / 3 0 1"
	# the record's testcase comes when it is read, before the jobs end
	assert_equal "$(cases r.xml name | sort | paste -sd ,)" "a,d,input record 2"
	assert_equal "$(xq r.xml 'string(//testcase[error]/@name)')" "input record 2|"
	assert_equal "$(xq r.xml 'string(//testcase/error/@message)')" "input record 2 rejected|"
	assert_equal "$(xq r.xml 'string(//testcase/error/@type)')" "rejected|"
}

@test "--junit: markup in the output and in names is escaped" {
	run fp --junit r.xml echo ::: 'a<b&c>d"e'"'"'f ]]> g'
	assert_success
	valid r.xml
	assert_equal "$(xq r.xml 'string(//testcase/system-out)')" "a<b&c>d\"e'f ]]> g"$'\n|'
	assert_equal "$(xq r.xml 'string(//testcase/@name)')" "a<b&c>d\"e'f ]]> g|"
	grep -Fq '<system-out>a&lt;b&amp;c&gt;d&quot;e'"'"'f ]]&gt; g' r.xml
}

@test "--junit: control bytes become control pictures, TAB, newline and CR are kept" {
	run fp --junit r.xml 'printf "n\0u\001e\033[1mt\tl\nc\rx\177"' ::: 1
	assert_success
	valid r.xml
	# U+2400, U+2401 and U+241B, in UTF-8
	assert_equal "$(xq r.xml 'string(//testcase/system-out)')" $'n\342\220\200u\342\220\201e\342\220\233[1mt\tl\nc\rx\177|'
}

@test "--junit: invalid UTF-8 becomes U+FFFD per byte, valid UTF-8 is kept" {
	# é, €, U+1F600; a stray continuation byte, a lone lead byte, an
	# overlong NUL, a surrogate, U+FFFE and a code point above U+10FFFF
	run fp --junit r.xml 'printf "\303\251\342\202\254\360\237\230\200|\200|\303x|\300\200|\355\240\200|\357\277\276|\364\220\200\200|\377"' ::: 1
	assert_success
	valid r.xml
	local r=$'\357\277\275'
	assert_equal "$(xq r.xml 'string(//testcase/system-out)')" $'\303\251\342\202\254\360\237\230\200|'"$r|${r}x|$r$r|$r$r$r|$r|$r$r$r$r|$r|"
}

@test "--junit: a character split across read chunks is kept whole" {
	run fp --junit r.xml 'head -c {} /dev/zero | tr "\0" a; printf "\342\202\254\n"' ::: 65535 65534 131071
	assert_success
	valid r.xml
	assert_equal "$(xmllint --xpath "count(//system-out[contains(., '"$'\357\277\275'"')])" r.xml)" 0
	assert_equal "$(xmllint --xpath "count(//system-out[substring(., string-length(.) - 1) = '"$'\342\202\254\n'"'])" r.xml)" 3
}

@test "--junit with 12 MiB of output: the report holds it all, the output is printed, memory stays small" {
	require_cmd /usr/bin/time
	skip_if_sanitized "peak RSS"
	run bash -c '/usr/bin/time -f %M -o rss "$FP_BIN" --junit r.xml ": {}; head -c 12582912 /dev/zero | tr \"\\0\" x; echo; echo done >&2" ::: 1 2>err | wc -c; cat err rss'
	assert_success
	assert_equal "${lines[0]}" 12582913
	assert_equal "${lines[1]}" "done"
	(( ${lines[2]} < 16384 )) || fail "peak RSS ${lines[2]} KiB"
	# libxml2 takes a text node above 10,000,000 bytes only when told
	valid r.xml --huge
	assert_equal "$(xmllint --huge --xpath 'string-length(//testcase/system-out) = 12582913' r.xml)" true
	assert_equal "$(xmllint --huge --xpath 'concat(//testcase/system-err, "|")' r.xml)" $'done\n|'
}

@test "--junit with -k lists the jobs in input order, without it in the order they ended" {
	run fp -k -j3 --junit k.xml 'sleep {}' ::: 0.6 0.3 0.05
	assert_success
	assert_equal "$(cases k.xml name | paste -sd ' ')" "0.6 0.3 0.05"
	run fp -j3 --junit g.xml 'sleep {}' ::: 0.6 0.3 0.05
	assert_success
	assert_equal "$(cases g.xml name | paste -sd ' ')" "0.05 0.3 0.6"
	valid k.xml
	valid g.xml
}

@test "--junit with --halt now: the report is valid, with the ended job as an error" {
	run --separate-stderr fp -k -j2 --halt now,fail=1 --junit r.xml 'if [ {} = 1 ]; then sleep 0.3; echo failed; exit 1; fi; echo partial; sleep 30' ::: 1 2
	assert_failure 1
	valid r.xml
	assert_equal "$(counts r.xml)" "2 1 1 0 / 2 1 1"
	assert_equal "$(xq r.xml 'string(//testcase[1]/failure/@message)')" "exit status 1|"
	assert_equal "$(xq r.xml 'string(//testcase[1]/system-out)')" $'failed\n|'
	assert_equal "$(xq r.xml 'string(//testcase[2]/error/@message)')" "interrupted: forkpool was stopping|"
	assert_equal "$(xq r.xml 'string(//testcase[2]/error/@type)')" "interrupted|"
}

@test "--junit: SIGTERM to forkpool still writes a valid report" {
	start_fp --junit r.xml 'echo {}; sleep {}' ::: 0 30
	wait_files 1 out
	sleep 0.5
	kill -TERM "$FP_PID"
	finish_fp
	assert_equal "$FP_STATUS" 143
	valid r.xml
	assert_equal "$(counts r.xml)" "2 0 1 0 / 2 0 1"
	assert_equal "$(cases r.xml name | paste -sd ' ')" "0 30"
}

@test "--junit with --retries reports the last attempt only" {
	run fp --retries 3 --junit r.xml ': {}; echo try; test -e flag || { : >flag; echo first; exit 1; }' ::: x
	assert_success
	valid r.xml
	assert_equal "$(counts r.xml)" "1 0 0 0 / 1 0 0"
	assert_equal "$(xq r.xml 'string(//testcase/system-out)')" $'try\n|'
}

@test "--junit with --files: names printed, the report holds stdout and stderr, no stderr file is left" {
	mkdir t.d
	run --separate-stderr fp -k --files --tmpdir t.d --junit r.xml 'echo out{}; echo err{} >&2' ::: a b
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "$(cat "${lines[1]}")" "outb"
	assert_equal "$stderr" $'erra\nerrb'
	assert_equal "$(ls t.d | wc -l)" 2
	valid r.xml
	assert_equal "$(xq r.xml 'string(//testcase[1]/system-out)')" $'outa\n|'
	assert_equal "$(xq r.xml 'string(//testcase[2]/system-err)')" $'errb\n|'
}

@test "--junit names the file it cannot create, and no job runs" {
	run --separate-stderr fp --junit nodir/r.xml 'touch ran' ::: a
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --junit nodir/r.xml: No such file or directory"
	assert_file_not_exists ran
}

@test "--junit names the file it cannot write" {
	run --separate-stderr fp --junit /dev/full echo ::: a
	assert_failure 255
	assert_output "a"
	assert_equal "$stderr" "forkpool: --junit /dev/full: No space left on device"
}

@test "--junit with an empty file name, or with -u, is refused" {
	run --separate-stderr fp --junit '' echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --junit: the file name is empty"
	run --separate-stderr fp --junit r.xml -u echo ::: a
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --junit cannot be used with -u: the jobs' output would not pass through forkpool"
	assert_file_not_exists r.xml
}

@test "--junit with --tty is refused unless --group or --line-buffer is given" {
	run --separate-stderr fp --tty --junit r.xml echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --junit cannot be used with --tty unless --group or --line-buffer is given: --tty passes output straight through"
	assert_file_not_exists r.xml
	run --separate-stderr fp --tty -u --junit r.xml echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --junit cannot be used with -u: the jobs' output would not pass through forkpool"
	assert_file_not_exists r.xml
}

@test "--junit with --dry-run writes no report" {
	run fp --dry-run --junit r.xml echo ::: a
	assert_success
	assert_output "echo a"
	assert_file_not_exists r.xml
}

@test "--junit FILE is left as it was when the temporary directory cannot be used, and no job runs" {
	echo precious >keep.xml
	run --separate-stderr fp --junit keep.xml --tmpdir "$BATS_TEST_TMPDIR/no" 'echo ran >ran' ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: cannot create a temporary file in $BATS_TEST_TMPDIR/no: No such file or directory"
	assert_equal "$(cat keep.xml)" precious
	assert [ ! -e ran ]
}
