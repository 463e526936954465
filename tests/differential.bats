#!/usr/bin/env bats
# The same command lines through forkpool and GNU parallel (or xargs -P):
# stdout and exit status must be the same.  Each test is one area, a table
# of cases; a case that differs is named with both outputs.  stderr is not
# compared: the programs' messages are their own.  Cases where GNU
# parallel's behaviour looks like a defect are left out (docs/compat.md,
# "GNU parallel behaviour not copied").

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	require_cmd parallel
	cd "$BATS_TEST_TMPDIR" || return
	# GNU parallel reads its defaults from these; forkpool from FORKPOOL.
	unset PARALLEL PARALLEL_HOME
	export HOME=$BATS_TEST_TMPDIR
	export SHELL=/bin/bash
	printf 'a\nb c\nd.e\n' >three
	printf '1\n2\n' >two
	printf 'x/y.tar.gz\n/abs/p.q\nnoext\n' >paths
	BAD=()
	CASES=0
}

# run_both OUT-PREFIX PROGRAM... : run with the case's stdin (IN, or
# /dev/null) into OUT-PREFIX.out; the status into OUT-PREFIX.rc.
run_both() {
	local prefix=$1 rc=0
	shift
	if [[ -n ${IN+set} ]]; then
		printf '%s' "$IN" >"$prefix.in"
	else
		: >"$prefix.in"
	fi
	timeout 30 "$@" <"$prefix.in" >"$prefix.out" 2>"$prefix.err" || rc=$?
	if [[ -n ${SORT:-} ]]; then
		LC_ALL=C sort "$prefix.out" >"$prefix.sorted"
		mv "$prefix.sorted" "$prefix.out"
	fi
	printf '%s\n' "$rc" >"$prefix.rc"
}

# mismatch NAME: note the case NAME as differing, with both results.
mismatch() {
	BAD+=("$1: forkpool exit $(cat fp.rc), $2 exit $(cat other.rc)
    forkpool: $(od -c fp.out | head -5)
    $2: $(od -c other.out | head -5)")
}

# d NAME ARGS...: forkpool ARGS and parallel --will-cite ARGS agree.
# IN=... gives stdin, SORT=1 compares sorted output.
d() {
	local name=$1
	shift
	CASES=$((CASES + 1))
	# Side by side: GNU parallel's start-up is most of a case's time.
	run_both fp "$FP_BIN" "$@" &
	run_both other parallel --will-cite "$@"
	wait $!
	if ! cmp -s fp.out other.out || ! cmp -s fp.rc other.rc; then
		mismatch "$name" parallel
	fi
}

# dx NAME XARGS-ARGS... -- FORKPOOL-ARGS...: xargs and forkpool agree.
dx() {
	local name=$1 a=() b=()
	shift
	while [[ $1 != -- ]]; do a+=("$1"); shift; done
	shift
	b=("$@")
	CASES=$((CASES + 1))
	run_both fp "$FP_BIN" "${b[@]}" &
	run_both other xargs "${a[@]}"
	wait $!
	if ! cmp -s fp.out other.out || ! cmp -s fp.rc other.rc; then
		mismatch "$name" xargs
	fi
}

# verdict MIN: every case agreed, and there were at least MIN of them.
verdict() {
	((CASES >= $1)) || fail "only $CASES cases, expected at least $1"
	printf '%s\n' "${BAD[@]}"
	assert_equal "${#BAD[@]} of $CASES cases differ" "0 of $CASES cases differ"
}

@test "differential: input sources, separators and odd input" {
	d ':::' -k echo ::: a b c
	d '::: two sources' -k echo ::: a b ::: 1 2
	d '::: three sources' -k echo {1}{2}{3} ::: a b ::: 1 2 ::: x y
	d '::::' -k echo :::: three
	d ':::: two files' -k echo :::: three two
	d '::: and ::::' -k echo ::: p q :::: two
	d '-a' -k -a three echo
	d '-a twice' -k -a three -a two echo
	d '--arg-file' -k --arg-file two echo
	d '--argfile' -k --argfile two echo
	IN=$'l1\nl2\nl3\n' d 'stdin' -k echo
	IN=$'l1\nl2\nl3' d 'stdin no trailing newline' -k echo
	IN=$'l1\n\nl3\n' d 'stdin blank line' -k echo x{}x
	IN=$'\n\n' d 'stdin only blank lines' -k echo x{}x
	IN=$'l1\n\nl3\n' d '-r skips blank' -k -r echo x{}x
	IN='' d 'empty stdin' -k echo x
	IN='' d 'empty stdin -r' -k -r echo x
	d 'empty ::: source' -k echo x :::
	IN=$'a b\x00c\nd\x00' d '-0' -k -0 echo
	IN=$'a b\x00c\nd\x00' d '--null' -k --null echo x{}x
	IN='a,b,c' d '-d ,' -k -d , echo
	IN=$'a\tb\tc\t' d '-d \t' -k -d '\t' echo
	IN=$'a,b,,c,' d '-d , empty field' -k -d , echo x{}x
	IN=$'a\nb\n' d 'stdin with - as arg file' -k echo :::: -
	IN=$'a\nb\n' d '-a -' -k -a - echo
	d 'spaces kept' -k echo ::: '  lead' 'trail  ' ' both '
	d '--trim lr' -k --trim lr echo x{}x ::: '  lead' 'trail  '
	d '--trim l' -k --trim l echo x{}x ::: '  lead  '
	d '--colsep' -k --colsep , echo {2}-{1} ::: a,b c,d
	d '--colsep regex' -k --colsep '[;:]+' echo {3} {1} ::: 'a;b:c' 'd::e;f'
	d '-C' -k -C ' ' echo {2} ::: 'x y' 'p q'
	printf 'a\tb\nc\td\n' >tsv
	d '--colsep tab' -k --colsep '\t' echo {2} :::: tsv
	verdict 30
}

@test "differential: replacement strings" {
	d '{}' -k echo {} ::: x/y.tar.gz /abs/p.q noext
	d '{.}' -k echo {.} :::: paths
	d '{/}' -k echo {/} :::: paths
	d '{//}' -k echo {//} :::: paths
	d '{/.}' -k echo {/.} :::: paths
	d '{#}' -k echo {#} ::: a b c
	d '{%} -j1' -k -j1 echo {%} ::: a b c
	d '{1} {2}' -k echo {2} {1} ::: a b ::: 1 2
	d '{1.} {2/}' -k echo {1.} {2/} ::: f.c g.h ::: d/e /r/s
	d '{2//} {2/.}' -k echo {2//} {2/.} ::: a ::: d/e.x /r/s.t.u
	d '{-1}' -k echo {-1} ::: a b ::: 1 2
	d 'replacement inside word' -k echo pre{}post ::: a b
	d 'replacement twice' -k echo {} {} ::: a
	d 'no replacement appends' -k echo x ::: a b
	d '-I' -k -I XX echo XX-XX ::: a b
	d '-I {}{}' -k -I @@ echo @@ {} ::: a
	d 'trailing dot' -k echo {.} ::: a. b.c. ./x
	d 'dir only' -k echo {//} ::: / a/ /a a
	d 'basename of dir' -k echo {/} ::: a/ a//b /
	d 'ext of path with dot dir' -k echo {.} ::: a.b/c d.e/f.g
	d 'seq with two sources' -k echo {#} ::: a b ::: 1 2
	d 'unknown braces literal' -k echo {x} {} ::: a
	d 'braces in value' -k echo {} ::: '{}' '{.}' '{1}'
	d 'shell template {}' -k 'echo {} | tr a-z A-Z' ::: ab cd
	d 'shell template {.}' -k 'echo {.}; echo {/}' ::: d/a.b
	d 'env PARALLEL_SEQ' -k 'echo $PARALLEL_SEQ' ::: a b c
	verdict 25
}

@test "differential: --plus replacement strings" {
	d '{+/}' -k --plus echo {+/} :::: paths
	d '{+.}' -k --plus echo {+.} :::: paths
	d '{+..}' -k --plus echo {+..} :::: paths
	d '{+...}' -k --plus echo {+...} ::: a.b.c.d
	d '{..}' -k --plus echo {..} :::: paths
	d '{...}' -k --plus echo {...} ::: a.b.c.d
	d '{/..}' -k --plus echo {/..} :::: paths
	d '{/...}' -k --plus echo {/...} ::: d/a.b.c.d
	d '{##}' -k --plus echo {##} ::: a b c
	d '{0#}' -k --plus echo {0#} ::: a b c d e f g h i j k
	d '{0%}' -k -j1 --plus echo {0%} ::: a b
	d '{:-str}' -k --plus echo {:-empty} ::: '' a
	d '{:2}' -k --plus echo {:2} ::: abcdef
	d '{:1:3}' -k --plus echo {:1:3} ::: abcdef
	d '{#regexp}' -k --plus echo '{#a.}' ::: abcabc
	d '{##regexp}' -k --plus echo '{##a.}' ::: abcabc
	d '{%regexp}' -k --plus echo '{%.c}' ::: abcabc
	d '{%%regexp}' -k --plus echo '{%%.c}' ::: abcabc
	d '{/regexp/str}' -k --plus echo '{/b/X}' ::: abcabc
	d '{//regexp/str}' -k --plus echo '{//b/X}' ::: abcabc
	d '{^str}' -k --plus echo '{^a}' ::: abc bac
	d '{^^str}' -k --plus echo '{^^b}' ::: abcb
	d '{,str}' -k --plus echo '{,A}' ::: ABC BAC
	d '{,,str}' -k --plus echo '{,,B}' ::: ABCB
	d '{slot} -j1' -k -j1 --plus echo {slot} ::: a b
	d '{1..} with sources' -k --plus echo {1..} {2+.} ::: a.tar.gz ::: b.c
	verdict 25
}

@test "differential: batching -n -N -X -m --xargs -L -s" {
	d '-n2' -k -n2 echo ::: a b c d e
	d '-n3 remainder' -k -n3 echo ::: a b c d e
	d '-n1' -k -n1 echo ::: a b
	d '-n2 with {}' -k -n2 echo x{}y ::: a b c
	d '-N2' -k -N2 echo {2}-{1} ::: a b c d
	d '-N2 short last' -k -N2 echo {1}:{2} ::: a b c
	d '-N0' -k -N0 echo x ::: a b c
	d '-X' -k -j1 -X echo pre{}post ::: a b c
	d '-X lone {}' -k -j1 -X echo {} ::: a b c
	d '-m' -k -j1 -m echo pre{}post ::: a b c
	d '-m lone {}' -k -j1 -m echo {} ::: a b c
	d '--xargs' -k -j1 --xargs echo ::: a b c
	d '-X -s' -k -j1 -X -s 20 echo ::: aaaa bbbb cccc dddd eeee ffff
	d '-m -s' -k -j1 -m -s 20 echo ::: aaaa bbbb cccc dddd eeee ffff
	d '-n2 -s' -k -n2 -s 100 echo ::: a b c
	IN=$'a b\nc\nd e f\n' d '-L1' -k -L1 echo
	IN=$'a b\nc\nd e f\n' d '-L2' -k -L2 echo
	IN=$'a\nb\nc\nd\n' d '-l2' -k -l2 echo
	IN=$'a\nb\nc\n' d '-n2 stdin' -k -n2 echo
	d '-n2 two sources' -k -n2 echo ::: a b ::: 1 2
	d '-X {#}' -k -j1 -X echo {#} ::: a b c
	d '-N2 {#}' -k -N2 echo {#} ::: a b c d
	d '-N2: a word of a missing value vanishes' -k -N2 printf '[%s]\n' {1} {2} ::: a b c
	d '-N2: a missing value inside a word' -k -N2 printf '[%s]\n' x{2}y ::: a b c
	d '-N2: a missing value in a shell line' -k -N2 'printf "[%s]" {1} {2}; echo' ::: a b c
	d '-N2: a missing value in quotes' -k -N2 'printf "[%s]" "{2}"; echo' ::: a b c
	d '--colsep: a missing column' -k --colsep , printf '[%s]\n' {1} {2} ::: a 'b,' c,d
	verdict 25
}

@test "differential: linking --link, :::+ and ::::+" {
	d '--link' -k --link echo ::: a b c ::: 1 2 3
	d '--link shorter wraps' -k --link echo ::: a b c ::: 1 2
	d '--xapply' -k --xapply echo ::: a b ::: 1 2
	d ':::+' -k echo ::: a b c :::+ 1 2 3
	d ':::+ shorter' -k echo ::: a b c :::+ 1 2
	d ':::+ then :::' -k echo ::: a b :::+ 1 2 ::: x y
	d '::: then :::+' -k echo ::: x y ::: a b :::+ 1 2
	d '::::+' -k echo :::: three ::::+ two
	d '--link three' -k --link echo {3}{2}{1} ::: a b ::: 1 2 ::: x y
	d '--link {#}' -k --link echo {#} ::: a b ::: 1 2
	verdict 10
}

@test "differential: --header and --csv" {
	printf 'h1,h2\nv1,v2\nw1,w2\n' >t.csv
	printf 'n\tm\n1\t2\n' >t.tsv
	d '--header : colsep' -k --header : --colsep , echo {h2} {h1} :::: t.csv
	d '--header : tab' -k --header : --colsep '\t' echo {m}-{n} :::: t.tsv
	d '--header : :::' -k --header : echo {A} {B} ::: A a1 a2 ::: B b1
	d '--header : {1}' -k --header : --colsep , echo {1} :::: t.csv
	d '--header : no colsep' -k --header : echo {} :::: two
	printf 'a,b\n"x,y",z\n"q""r",s\n' >q.csv
	d '--csv' -k --csv echo {2}:{1} :::: q.csv
	d '--csv quoted comma' -k --csv echo '{1}' :::: q.csv
	d '--csv --header :' -k --csv --header : echo {b}:{a} :::: q.csv
	printf 'a,b\n"multi\nline",z\n' >m.csv
	d '--csv newline in field' -k --csv echo {1} :::: m.csv
	d '--header 1 line' -k --header '.*' --colsep , echo {1} :::: t.csv
	verdict 10
}

@test "differential: ordering and hostile values" {
	d '-k reverse sleeps' -k 'sleep {}; echo {}' ::: 0.3 0.1 0.2
	SORT=1 d 'no -k sorted' echo ::: c a b
	d '--keep-order' --keep-order echo ::: 3 1 2
	d '-k -j1' -k -j1 echo ::: z y
	d 'space' -k echo ::: 'a b' '  c  d  '
	d 'single quote' -k echo ::: "it's" "'" "''"
	d 'double quote' -k echo ::: '"q"' '"'
	d 'command substitution' -k echo ::: '$(echo pwned)' '$HOME'
	d 'backticks' -k echo ::: '`echo pwned`'
	d 'glob' -k echo ::: '*' '?' '[a]'
	d 'newline' -k echo ::: $'two\nlines'
	d 'unicode' -k echo ::: 'ünïcødé' '日本' '🙂'
	d 'shell operators' -k echo ::: ';' '|' '&&' '>x' '<x' '#c'
	d 'backslash' -k echo ::: '\' 'a\nb' '\\'
	d 'tab' -k echo ::: $'a\tb'
	d 'dash value' -k echo ::: -e -n
	d 'hostile in shell template' -k 'echo [{}]' ::: '$(echo pwned)' "it's" '`x`'
	d 'hostile in printf' -k printf '%s|\n' ::: 'a b' '*' '$x'
	d 'hostile with -X' -k -j1 -X echo ::: 'a b' '$(x)' "'"
	d 'hostile {.}' -k echo {.} ::: "a'b.c d" '$(x).y'
	d 'empty value' -k echo x{}x ::: '' a
	d 'glob file not expanded' -k echo ::: 'thre*'
	verdict 20
}

@test "differential: exit statuses and --halt" {
	d 'all succeed' -k true ::: a b
	d 'one fails' -k 'exit {}' ::: 0 1 0
	d 'three fail' -k 'exit {}' ::: 1 2 3
	d 'exit 255 counts one' -k 'exit {}' ::: 255 0
	d 'not found among others' -k 'no-such-command-fp; echo {}' ::: a
	d '--halt now,fail=1' -k -j1 --halt now,fail=1 'echo {}; exit {}' ::: 0 3 0
	d '--halt soon,fail=1' -k -j1 --halt soon,fail=1 'echo {}; exit {}' ::: 0 4 0
	d '--halt now,success=1' -k -j1 --halt now,success=1 'echo {}; exit {}' ::: 1 0 1
	d '--halt 2' -k -j1 --halt 2 'echo {}; exit {}' ::: 0 5 0
	d '--halt soon,fail=2' -k -j1 --halt soon,fail=2 'echo {}; exit {}' ::: 1 0 2 0 3
	d '--halt never' -k --halt never 'exit {}' ::: 1 0 1
	d 'output of failed job kept' -k 'echo out{}; exit {}' ::: 1 0
	d 'killed by signal' -k 'kill -TERM $$' ::: a
	d '--retries' -k --retries 2 'exit {}' ::: 1 0
	verdict 12
}

@test "differential: --tag and --tagstring" {
	d '--tag' -k --tag echo ::: a b
	d '--tag two sources' -k --tag echo ::: a b ::: 1 2
	d '--tag multi-line' -k --tag 'printf "1\n2\n"' ::: a
	d '--tagstring' -k --tagstring '<{}>' echo ::: a b
	d '--tagstring {#}' -k --tagstring '{#}:{.}' echo ::: a.x b.y
	d '--tagstring \t' -k --tagstring 'x\ty' echo ::: a
	d '--tag hostile' -k --tag echo ::: 'a b' "it's"
	d '--tag -X' -k -j1 --tag -X echo ::: a b
	d '--tag empty output' -k --tag true ::: a
	verdict 8
}

@test "differential: -q, exported functions, sh -c" {
	myfn() { echo "fn:$1"; }
	export -f myfn
	d 'exported function' -k myfn ::: a b
	d 'exported function in shell template' -k 'myfn {} | tr a-z A-Z' ::: a
	d '-q' -k -q printf '%s;\n' ::: 'a b'
	d '-q keeps shell syntax literal' -k -q echo 'a|b' ::: x
	d '--quote' -k --quote echo '$HOME' ::: x
	verdict 5
}

@test "differential: xargs -P cases" {
	IN=$'a\nb c\nd\n' SORT=1 dx '-I{}' -P2 -I{} echo x{}y -- -k -I{} echo x{}y
	IN=$'a\nb c\nd\n' SORT=1 dx '-I{} sorted' -P4 -I{} echo {} -- -j4 -I{} echo {}
	IN=$'a\nb\nc\nd\ne\n' dx '-n2 -P1' -P1 -n2 echo -- -k -j1 -n2 echo
	IN=$'a\nb\nc\n' SORT=1 dx '-n1' -P2 -n1 echo -- -k -n1 echo
	IN=$'a b\x00c\x00' SORT=1 dx '-0' -P2 -0 -I{} echo [{}] -- -k -0 echo [{}]
	IN=$'a b\x00c\x00' dx '-0 -n1' -P1 -0 -n1 echo -- -k -j1 -0 -n1 echo
	IN=$'a,b,c' dx '-d ,' -P1 -d , -n1 echo -- -k -d , echo
	IN=$'a\nb\n' SORT=1 dx 'sh -c' -P2 -I{} sh -c 'echo "<$0>"' {} -- -k sh -c 'echo "<$0>"' {}
	IN=$'x y\nz\n' SORT=1 dx 'sh -c $1' -P2 -I{} sh -c 'echo "[$1]"' _ {} -- -k sh -c 'echo "[$1]"' _ {}
	IN=$'a\n\nb\n' SORT=1 dx '-r -I{}' -P2 -r -I{} echo {} -- -k -r echo {}
	IN=$'a\nb\n' dx '-I{} twice' -P1 -I{} echo {} {} -- -k -I{} echo {} {}
	IN=$'p\nq\n' SORT=1 dx '-I custom' -P2 -I% echo %% -- -k -I% echo %%
	IN=$'a\nb\nc\n' SORT=1 dx '-L1' -P2 -L1 echo -- -k -L1 echo
	IN=$'a\nb\nc\n' dx '-s -x' -P1 -s 20 echo -- -k -j1 -m -s 20 echo
	IN=$'x y\n' dx 'sh -c with {}' -P1 -I{} sh -c 'echo {}' -- -k sh -c 'echo {}'
	IN=$'a b\nc\n' dx 'bash -c, values appended' -P1 -d '\n' -n1 bash -c 'echo "$#:$1"' _ -- -k bash -c 'echo "$#:$1"' _
	IN=$'a\nb\nc\n' dx '-I{} unused: no value' -P2 -I{} echo x -- -k -I{} echo x
	IN=$'a\nb\n' dx '-i unused: no value' -P1 -i sh -c 'echo "$#"' -- -k -i sh -c 'echo "$#"'
	verdict 16
}
