#!/usr/bin/env bats
# --results NAME: each job's stdout and stderr kept in a directory tree
# named by its values, or one row per job in a CSV, TSV or JSON-lines
# table; the output is not printed.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	require_cmd python3
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_leftovers
}

# csv_rows FILE: each record of the CSV file as a Python list, one a line.
csv_rows() {
	python3 -c 'import csv, sys
csv.field_size_limit(sys.maxsize)
with open(sys.argv[1], newline="") as f:
    for r in csv.reader(f):
        print(r)' "$1"
}

@test "--results DIR: stdout, stderr and seq of each job in DIR/1/VALUE, nothing printed" {
	run --separate-stderr fp --results r 'echo out{}; echo err{} >&2' ::: a b
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(find r | sort | paste -sd ' ')" "r r/1 r/1/a r/1/a/seq r/1/a/stderr r/1/a/stdout r/1/b r/1/b/seq r/1/b/stderr r/1/b/stdout"
	assert_equal "$(cat r/1/a/stdout)" "outa"
	assert_equal "$(cat r/1/a/stderr)" "erra"
	assert_equal "$(cat r/1/b/stdout)" "outb"
	# the job number, without a newline, as GNU parallel writes it
	assert_equal "$(od -An -c r/1/a/seq | tr -d ' ')" "1"
	assert_equal "$(od -An -c r/1/b/seq | tr -d ' ')" "2"
}

@test "--results DIR with two sources nests the second value under the first" {
	run fp --results r -k 'echo {1}{2}' ::: a b ::: x y
	assert_success
	assert_output ""
	assert_equal "$(find r -name stdout | sort | paste -sd ' ')" "r/1/a/2/x/stdout r/1/a/2/y/stdout r/1/b/2/x/stdout r/1/b/2/y/stdout"
	assert_equal "$(cat r/1/b/2/x/stdout)" "bx"
	assert_equal "$(cat r/1/b/2/y/seq)" "4"
}

@test "--results DIR with --header names each level by its column, as GNU parallel; names escaped as values" {
	run --separate-stderr fpin $'x\ty\n1\ta\n' --header : --results r echo
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(find r | sort | paste -sd ' ')" "r r/x r/x/1 r/x/1/y r/x/1/y/a r/x/1/y/a/seq r/x/1/y/a/stderr r/x/1/y/a/stdout"
	assert_equal "$(cat r/x/1/y/a/stdout)" "1 a"
	# ::: sources, and -N2: the names repeat for each record of the job
	run fp --header : --results r2 -k echo ::: x 1 2 ::: y a
	assert_success
	assert_equal "$(find r2 -name stdout | sort | paste -sd ' ')" "r2/x/1/y/a/stdout r2/x/2/y/a/stdout"
	run fpin $'x\ty\n1\ta\n2\tb\n' -N2 --header : --results r3 echo
	assert_success
	assert_equal "$(find r3 -name stdout)" "r3/x/1/y/a/x/2/y/b/stdout"
	run fpin $'x/z\t\n1\ta\n' --header : --results r4 echo
	assert_success
	assert_equal "$(find r4 -name stdout)" 'r4/x\_z/1/\e/a/stdout'
}

@test "--results DIR: hostile values get distinct safe names, each holding its own job's output" {
	local long slashes
	long=$(printf 'v%.0s' {1..300})
	slashes=$(printf '/%.0s' {1..300})
	run fp --results r 'printf "%s" {}' ::: 'a/b' 'a\_b' '..' '.' '' '\' 'x\y' $'n\nl' "$long" "$slashes" '\e' "${long%v}w"
	assert_success
	assert_output ""
	# one directory per job, every one right under r/1
	assert_equal "$(find r -name stdout -printf x | wc -c)" 12
	assert_equal "$(find r/1 -mindepth 1 -maxdepth 1 -type d -printf x | wc -c)" 12
	assert_equal "$(cat 'r/1/a\_b/stdout')" 'a/b'
	assert_equal "$(cat 'r/1/a\\_b/stdout')" 'a\_b'
	assert_equal "$(cat 'r/1/\../stdout')" '..'
	assert_equal "$(cat 'r/1/\./stdout')" '.'
	assert_equal "$(wc -c <'r/1/\e/stdout')" 0
	assert_equal "$(cat 'r/1/\\/stdout')" '\'
	assert_equal "$(cat 'r/1/x\\y/stdout')" 'x\y'
	assert_equal "$(cat r/1/n$'\n'l/stdout)" $'n\nl'
	assert_equal "$(cat 'r/1/\\e/stdout')" '\e'
	# a name over NAME_MAX is cut and ends in \# and a hash of the value
	run find r/1 -mindepth 1 -maxdepth 1 -name '*\\#*'
	assert_equal "${#lines[@]}" 3
	# two values that share their first 237 bytes: two names, by the hash
	run bash -c 'for f in "$1"\\#*/stdout; do cat "$f"; echo; done | LC_ALL=C sort' _ "r/1/$(printf 'v%.0s' {1..237})"
	assert_output "$long"$'\n'"${long%v}w"
	assert_equal "$(cat "r/1/$(printf '\\_%.0s' {1..118})"\\#*/stdout)" "$slashes"
	run bash -c 'ls r/1 | awk "length > 255"'
	assert_output ""
}

@test "--results DIR with --retries keeps only the final attempt" {
	run fp --results r --retries 3 'echo try{}; echo e >&2; test -e flag || { : >flag; echo first; exit 1; }' ::: x
	assert_success
	assert_equal "$(cat r/1/x/stdout)" "tryx"
	assert_equal "$(cat r/1/x/stderr)" "e"
	assert_equal "$(cat r/1/x/seq)" "1"
}

@test "--results DIR: a job ended by --halt now leaves no files and no directory; the failed one's stay" {
	run --separate-stderr fp --results r --halt now,fail=1 'if [ {} = 1 ]; then sleep 0.3; echo failed; exit 1; fi; echo partial; sleep 30' ::: 1 2
	assert_failure 1
	assert_output ""
	assert_equal "$(find r | sort | paste -sd ' ')" "r r/1 r/1/1 r/1/1/seq r/1/1/stderr r/1/1/stdout"
	assert_equal "$(cat r/1/1/stdout)" "failed"
}

@test "--results DIR --files prints the name of each job's stdout file" {
	run fp --results r --files -k 'echo {}' ::: a b
	assert_success
	assert_output $'r/1/a/stdout\nr/1/b/stdout'
	assert_equal "$(cat r/1/b/stdout)" "b"
}

@test "--results DIR: a file where a directory is needed stops the run: exit 255, the path named" {
	mkdir -p r/1
	: >r/1/b
	run --separate-stderr fp -j1 --results r 'touch ran.{}; echo {}' ::: a b c d
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --results: cannot create r/1/b/stdout: Not a directory"
	[[ ! -e ran.c && ! -e ran.d ]] || fail "jobs ran after the error: $(ran)"
}

@test "--results NAME that is a file, or cannot be created: exit 255 before any job runs" {
	: >r
	run --separate-stderr fp --results r 'touch ran.{}' ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results r: Not a directory"
	run --separate-stderr fp --results r/t.csv 'touch ran.{}' ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results r/t.csv: Not a directory"
	run --separate-stderr fp --results nodir/sub 'touch ran.{}' ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results nodir/sub: No such file or directory"
	assert_equal "$(ran)" ""
}

@test "--results NAME with a replacement string is refused" {
	run --separate-stderr fp --results 'out/{}' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results out/{}: replacement strings in the name are not supported"
	run --separate-stderr fp --results 'out/{1.}.csv' echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results out/{1.}.csv: replacement strings in the name are not supported"
}

@test "--results FILE.csv: header and one RFC 4180 row per job, in input order with -k, CRLF line ends" {
	run fp --results o.csv -k -j3 'sleep 0.{2}; printf "%s|" {1}; echo "e,r" >&2; exit {2}' ::: 'a,b' 'q"t' $'n\nl' :::+ 3 2 0
	assert_failure 2
	assert_output ""
	run csv_rows o.csv
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_equal "${lines[0]}" "['Seq', 'Host', 'Starttime', 'JobRuntime', 'Send', 'Receive', 'Exitval', 'Signal', 'Command', 'V1', 'V2', 'Stdout', 'Stderr', 'UserTime', 'SystemTime', 'MaxRSS']"
	run python3 -c 'import csv, sys
for r in list(csv.reader(open("o.csv", newline="")))[1:]:
    print(r[0], r[1], r[4], r[5], r[6], r[7], repr(r[8]), repr(r[9:13]))'
	assert_output - <<-'EOF'
	1 : 0 4 3 0 'sleep 0.3; printf "%s|" a,b; echo "e,r" >&2; exit 3' ['a,b', '3', 'a,b|', 'e,r\n']
	2 : 0 4 2 0 'sleep 0.2; printf "%s|" \'q"t\'; echo "e,r" >&2; exit 2' ['q"t', '2', 'q"t|', 'e,r\n']
	3 : 0 4 0 0 'sleep 0.0; printf "%s|" \'n\nl\'; echo "e,r" >&2; exit 0' ['n\nl', '0', 'n\nl|', 'e,r\n']
	EOF
	# every record ends with CRLF; a newline inside a field stays LF
	assert_equal "$(grep -c $'\r$' o.csv)" 4
	assert_equal "$(head -c 4 o.csv | od -An -c | tr -s ' ')" " S e q ,"
	assert_equal "$(tail -c 2 o.csv | od -An -c | tr -s ' ')" ' \r \n'
}

@test "--results FILE.csv: times and peak RSS columns are numbers; an empty output is an empty field" {
	run fp --results o.csv true ::: a
	assert_success
	run python3 -c 'import csv, re
h, r = list(csv.reader(open("o.csv", newline="")))
d = dict(zip(h, r))
assert re.fullmatch(r"[0-9]+\.[0-9]{3}", d["Starttime"]), d
assert re.fullmatch(r"[0-9]+\.[0-9]{3}", d["JobRuntime"]), d
assert re.fullmatch(r"[0-9]+\.[0-9]{3}", d["UserTime"]), d
assert re.fullmatch(r"[0-9]+\.[0-9]{3}", d["SystemTime"]), d
assert re.fullmatch(r"[1-9][0-9]*", d["MaxRSS"]), d
print(repr((d["Command"], d["V1"], d["Stdout"], d["Stderr"], d["Receive"])))'
	assert_success
	assert_output "('true a', 'a', '', '', '0')"
}

@test "--results FILE.csv with -N2: two V columns, the last job's second one empty" {
	run fp --results o.csv -k -N2 'echo {1}-{2}' ::: a b c
	assert_success
	run python3 -c 'import csv
for r in csv.reader(open("o.csv", newline="")):
    print(r[0], r[8:12])'
	assert_output - <<-'EOF'
	Seq ['Command', 'V1', 'V2', 'Stdout']
	1 ['echo a-b', 'a', 'b', 'a-b\n']
	2 ['echo c-', 'c', '', 'c-\n']
	EOF
}

@test "--results FILE.csv and .tsv with --header: the V columns are named by the header, as GNU parallel" {
	run fpin $'x\ty\n1\ta\n' --header : --results o.csv echo
	assert_success
	run python3 -c 'import csv
for r in csv.reader(open("o.csv", newline="")):
    print(r[0], r[8:12])'
	assert_output - <<-'EOF'
	Seq ['Command', 'x', 'y', 'Stdout']
	1 ['echo 1 a', '1', 'a', '1 a\n']
	EOF
	run fpin $'x\ty\n1\ta\n' --header : --results o.tsv echo
	assert_success
	assert_equal "$(head -n1 o.tsv | cut -f 9-12)" $'Command\tx\ty\tStdout'
}

@test "--results -.csv writes the table to stdout instead of the output" {
	run --separate-stderr fp --results -.csv -k 'echo {}' ::: a b
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | python3 -c 'import csv, sys
for r in csv.reader(sys.stdin): print(r[0], r[9], repr(r[10]))')" $'Seq V1 \'Stdout\'\n1 a \'a\\n\'\n2 b \'b\\n\''
}

@test "--results FILE.tsv: one line per job, TAB, LF, CR and backslash escaped" {
	run fp --results o.tsv -k 'printf "%s\r\n" {}; printf "x\ty\\\\z" >&2' ::: $'t\tab' 'b\s'
	assert_success
	assert_equal "$(wc -l <o.tsv)" 3
	run awk -F '\t' '{ print NF, $1, $9, $10, $11, $12 }' o.tsv
	assert_line --index 0 '15 Seq Command V1 Stdout Stderr'
	assert_line --index 1 '15 1 printf "%s\\r\\n" '"'t\\tab'"'; printf "x\\ty\\\\\\\\z" >&2 t\tab t\tab\r\n x\ty\\z'
	assert_line --index 2 '15 2 printf "%s\\r\\n" '"'b\\\\s'"'; printf "x\\ty\\\\\\\\z" >&2 b\\s b\\s\r\n x\ty\\z'
}

@test "--results FILE.json: one JSON object a line, values in V, parsed by python3 and jq" {
	run fp --results o.json -k 'printf "%s\n" {}; exit {#}' ::: 'q"t' $'c\x01'
	assert_failure 2
	run python3 -c 'import json, sys
for l in open("o.json"):
    o = json.loads(l)
    print(list(o), repr((o["Seq"], o["Host"], o["Exitval"], o["Signal"], o["Receive"], o["V"], o["Stdout"], o["Stderr"])))
    assert isinstance(o["Starttime"], float) and isinstance(o["UserTime"], float)
    assert isinstance(o["MaxRSS"], int)'
	assert_success
	assert_line --index 0 "['Seq', 'Host', 'Starttime', 'JobRuntime', 'Send', 'Receive', 'Exitval', 'Signal', 'Command', 'V', 'Stdout', 'Stderr', 'UserTime', 'SystemTime', 'MaxRSS'] (1, ':', 1, 0, 4, ['q\"t'], 'q\"t\\n', '')"
	assert_line --index 1 "['Seq', 'Host', 'Starttime', 'JobRuntime', 'Send', 'Receive', 'Exitval', 'Signal', 'Command', 'V', 'Stdout', 'Stderr', 'UserTime', 'SystemTime', 'MaxRSS'] (2, ':', 2, 0, 3, ['c\\x01'], 'c\\x01\\n', '')"
	grep -q '\\u0001' o.json || fail "a control byte is not \\u escaped"
	require_cmd jq
	run jq -r '.Seq, .V[0]' o.json
	assert_success
	assert_output $'1\nq"t\n2\nc\x01'
}

@test "--results FILE.json: output that is not UTF-8 comes back byte for byte through surrogateescape" {
	# invalid bytes, valid 2- and 3-byte characters, a sequence cut short,
	# an overlong form and a surrogate's encoding, then many over chunk ends
	local gen
	gen=$(mkscript gen 'printf "\377a\303\251\342\202\254\342\202b\300\257\355\240\200\360\237\230\200\n"
	i=0; while [ $i -lt 20000 ]; do printf "\303\251\342\202\254\360\237\230\200\377"; i=$((i + 1)); done')
	run fp --results o.json "$gen" ::: x
	assert_success
	"$gen" >want
	run python3 -c 'import json, sys
o = json.loads(open("o.json", "rb").read())
open("got", "wb").write(o["Stdout"].encode("utf-8", "surrogateescape"))
print(ascii(o["Stdout"][:12]))'
	assert_success
	assert_output "'\\udcffa\\xe9\\u20ac\\udce2\\udc82b\\udcc0\\udcaf\\udced\\udca0\\udc80'"
	cmp want got
	# the file itself is valid UTF-8, pure ASCII but for the valid characters
	run python3 -c 'open("o.json", "rb").read().decode("utf-8")'
	assert_success
}

@test "--results FILE.csv: 40 MiB of output is streamed, not held: forkpool stays under 16 MiB" {
	require_cmd /usr/bin/time
	skip_if_sanitized "ASan's shadow memory alone is over the 16 MiB bound"
	run bash -c '/usr/bin/time -f %M -o rss "$FP_BIN" --results o.csv -k -j2 "head -c 20971520 /dev/zero | tr \"\\0\" {}" ::: x y; echo $?; cat rss'
	assert_success
	assert_line --index 0 0
	(( ${lines[1]} < 16384 )) || fail "peak RSS ${lines[1]} KiB"
	run python3 -c 'import csv, sys
csv.field_size_limit(sys.maxsize)
for r in list(csv.reader(open("o.csv", newline="")))[1:]:
    print(r[9], len(r[10]), r[10].strip(r[9]) == "", r[5])'
	assert_line --index 0 "x 20971520 True 20971520"
	assert_line --index 1 "y 20971520 True 20971520"
}

@test "--results FILE.csv with --retries: one row, of the final attempt" {
	run fp --results o.csv --retries 3 ': {}; echo try; test -e flag || { : >flag; echo first; exit 1; }' ::: x
	assert_success
	run csv_rows o.csv
	assert_equal "${#lines[@]}" 2
	run python3 -c 'import csv
r = list(csv.reader(open("o.csv", newline="")))[1]
print(r[0], r[6], repr(r[10]))'
	assert_output "1 0 'try\\n'"
}

@test "--results FILE.csv: a job ended by --halt now has no row" {
	run fp --results o.csv --halt now,fail=1 'if [ {} = 1 ]; then sleep 0.3; exit 1; fi; echo partial; sleep 30' ::: 1 2
	assert_failure 1
	run python3 -c 'import csv
for r in csv.reader(open("o.csv", newline="")): print(r[0])'
	assert_output $'Seq\n1'
}

@test "--results FILE.tsv --files is refused" {
	run --separate-stderr fp --results o.tsv --files echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --files cannot be used with --results o.tsv: the output goes to the table"
}

@test "--results with -u is refused" {
	run --separate-stderr fp --results r -u echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results cannot be used with -u: the jobs' output would not pass through forkpool"
}

@test "--results -.csv never blocks on a slow reader: --timeout still ends a job on time" {
	# The reader takes nothing until both jobs are in the joblog (or 10 s).
	run bash -c '"$FP_BIN" -j2 --timeout 1 --results -.csv --joblog jl \
	    "case {} in 1) head -c 1000000 /dev/zero;; 2) sleep 30;; esac" ::: 1 2 |
	    { for i in $(seq 100); do
		[ -e jl ] && [ "$(wc -l <jl)" -ge 3 ] && break
		sleep 0.1
	      done; wc -c; }'
	assert_success
	assert [ "$output" -gt 1000000 ]
	run awk -F'\t' '$1 == 2 && $4 < 5 { print "on time" }' jl
	assert_output "on time"
}

@test "--results -.json with a closed stdout exits 141 without a message" {
	run --separate-stderr bash -c 'seq 100000 | "$FP_BIN" --results -.json echo | head -1 >/dev/null; echo "${PIPESTATUS[1]}"'
	assert_output 141
	assert_equal "$stderr" ""
}

@test "--results DIR: a job with the same values as a running one takes the directory over, with a warning, and nothing is mixed" {
	run --separate-stderr fp --results rd -j2 'if [ {#} = 1 ]; then echo first; sleep 0.5; echo more; else sleep 0.2; echo second; fi; : {}' ::: same same
	assert_success
	assert_equal "$stderr" "forkpool: --results: job 2 has the same values as an earlier job: rd/1/same now holds its output only"
	assert_equal "$(cat rd/1/same/stdout)" "second"
	assert_equal "$(cat rd/1/same/seq)" "2"
}

@test "--results DIR: a later job with the same values as a finished one warns; files of an earlier run are replaced without a word" {
	run --separate-stderr fp --results rd -j1 'echo {#}' ::: same x same
	assert_success
	assert_equal "$stderr" "forkpool: --results: job 3 has the same values as an earlier job: rd/1/same now holds its output only"
	assert_equal "$(cat rd/1/same/stdout)" "3"
	assert_equal "$(cat rd/1/same/seq)" "3"
	run --separate-stderr fp --results rd -j1 'echo new {}' ::: same
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(cat rd/1/same/stdout)" "new same"
	assert_equal "$(cat rd/1/same/seq)" "1"
}

@test "--results FILE.csv is left as it was when a later output cannot be opened" {
	echo precious >keep.csv
	run --separate-stderr fp --results keep.csv --junit "$BATS_TEST_TMPDIR/no/x.xml" echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --junit $BATS_TEST_TMPDIR/no/x.xml: No such file or directory"
	assert_equal "$(cat keep.csv)" precious
	echo row >jl
	run --separate-stderr fp --joblog jl --results "$BATS_TEST_TMPDIR/no/x.csv" echo ::: a
	assert_failure 255
	assert_equal "$stderr" "forkpool: --results $BATS_TEST_TMPDIR/no/x.csv: No such file or directory"
	assert_equal "$(cat jl)" row
}

@test "--results with --tty is refused unless --group or --line-buffer is given" {
	run --separate-stderr fp --tty --results r echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --results cannot be used with --tty unless --group or --line-buffer is given: --tty passes output straight through"
	assert_not_exists r
	run --separate-stderr fp --tty -u --results r.csv echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" "forkpool: --results cannot be used with -u: the jobs' output would not pass through forkpool"
	assert_not_exists r.csv
}
