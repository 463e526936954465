#!/usr/bin/env bats
# Pipe mode: --pipe, --pipe-part, --round-robin, --cat and the options
# that cut the input into blocks.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR" || return
}

# records FILE N SEED: N lines of random lengths (0 to 300 bytes) in FILE.
records() {
	awk -v n="$2" -v seed="$3" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			len = int(rand() * rand() * 300)
			s = ""
			for (k = 0; k < len; k++)
				s = s sprintf("%c", 97 + int(rand() * 26))
			print s
		}
	}' >"$1"
}

@test "--pipe: each job gets a block of whole lines; together they are the input" {
	records in 3000 1
	run -0 fp --pipe -k -j4 --block 1k sh -c 'cat; echo ==END==' <in
	# A block that did not end with a newline would glue the marker on.
	[[ $(grep -c '.==END==' <<<"$output") == 0 ]]
	[[ $(grep -c '^==END==$' <<<"$output") -gt 20 ]]
	diff <(grep -v '^==END==$' <<<"$output") in
}

@test "--pipe --block: a block is the whole lines that fit in SIZE bytes" {
	seq 10 >in
	run -0 fp --pipe -k --block 5 wc -c <in
	# 1\n2\n is 4 bytes, 1\n2\n3\n would be 6; 9\n10\n is 5.
	assert_output "$(printf '4\n4\n4\n4\n5\n')"
}

@test "--pipe: a record larger than --block travels whole, with one warning" {
	run -0 --separate-stderr fp --pipe -k --block 4 sh -c 'cat; echo --' \
		< <(printf 'a\nbbbbbbbbbb\nc\nddddddd\n')
	assert_output "$(printf 'a\n--\nbbbbbbbbbb\n--\nc\n--\nddddddd\n--\n')"
	assert_equal "$stderr" "forkpool: a record of 11 bytes is longer than --block 4: it goes whole in a block of its own"
}

@test "--pipe: a 5 MB record among small ones goes whole in a block of its own" {
	{ seq 1000; head -c 5000000 /dev/zero | tr '\0' x; echo; seq 1000; } >in
	for args in "--block 100k" "--regexp --recend \\n --block 100k" \
		"--recend \\n --recstart 1 --block 100k" "-N 700"; do
		# shellcheck disable=SC2086
		fp --pipe -k $args sh -c 'cat; echo ==END==' <in >out 2>err
		# The big record is a block of its own, whole.
		[[ $(awk 'length == 5000000' out | wc -l) == 1 ]] ||
			fail "split with $args"
		diff <(grep -v '^==END==$' out) in || fail "differs with $args"
	done
}

@test "--pipe -k: output in block order whatever the jobs' delays" {
	seq 3000 >in
	run -0 fp --pipe -k -j4 --block 200 \
		bash -c 'sleep $((RANDOM % 3))0e-3; cat' <in
	diff <(printf '%s\n' "$output") in
}

@test "--pipe: {#} and {%} work, {} is empty and nothing is appended" {
	run -0 fp --pipe -k -j1 --block 2 echo 'x{}y' '{#}' '{%}' < <(printf 'a\nb\n')
	assert_output "$(printf 'xy 1 1\nxy 2 1\n')"
}

@test "--pipe: an empty input runs no job" {
	run -0 fp --pipe echo x </dev/null
	assert_output ''
}

@test "--pipe -N: exactly N records per block, the last fewer" {
	run -0 fp --pipe -k -N2 sh -c 'cat; echo --' < <(seq 5)
	assert_output "$(printf '1\n2\n--\n3\n4\n--\n5\n--\n')"
}

@test "--pipe -N, -L: a slow producer's records still make blocks of N" {
	run -0 fp --pipe -k -N2 sh -c 'echo block; cat' \
		< <(echo a; sleep 0.3; echo b; sleep 0.3; echo c)
	assert_output "$(printf 'block\na\nb\nblock\nc\n')"
	run -0 fp --pipe -k -L3 sh -c 'echo block; cat' \
		< <(echo a; sleep 0.3; echo b; echo c; sleep 0.3; echo d)
	assert_output "$(printf 'block\na\nb\nc\nblock\nd\n')"
	run -0 fp --pipe -k -N 30000 wc -l < <(seq 100000)
	assert_output "$(printf '30000\n30000\n30000\n10000\n')"
}

@test "--pipe -n N is -N N, as in GNU parallel" {
	run -0 fp --pipe -k -n2 sh -c 'cat; echo --' < <(seq 5)
	assert_output "$(printf '1\n2\n--\n3\n4\n--\n5\n--\n')"
	seq 5 >five
	run -0 fp --pipe-part -a five -k -n2 sh -c 'cat; echo --'
	assert_output "$(printf '1\n2\n--\n3\n4\n--\n5\n--\n')"
}

@test "--pipe --recend '': with no --recstart a block may end anywhere, so blocks are --block bytes" {
	# 10 bytes in blocks of 3, as GNU parallel cuts them.
	run -0 fp --pipe -k --recend '' --block 3 sh -c 'cat; echo' < <(seq 5)
	assert_output "$(printf '1\n2\n\n3\n\n4\n5\n\n')"
	run -0 fp --pipe -k --recend '' --recstart '' --regexp --block 3 \
		sh -c 'cat; echo' < <(seq 5)
	assert_output "$(printf '1\n2\n\n3\n\n4\n5\n\n')"
	seq 5 >five
	run -0 fp --pipe-part -a five -k --recend '' --block 3 \
		sh -c 'cat; echo'
	assert_output "$(printf '1\n2\n\n3\n\n4\n5\n\n')"
	# -N counts bytes then.
	run -0 fp --pipe -k --recend '' -N4 sh -c 'cat; echo' < <(seq 5)
	assert_output "$(printf '1\n2\n\n3\n4\n\n5\n\n')"
	# A big input is cut at every --block bytes, nothing lost.
	head -c 1000000 /dev/urandom >rand
	run -0 fp --pipe -k --recend '' --block 100000 wc -c <rand
	assert_output "$(for i in $(seq 10); do echo 100000; done)"
	fp --pipe -k --recend '' --block 100000 cat <rand >back
	cmp rand back
}

@test "--pipe -L: exactly N lines per block, whatever --block says" {
	run -0 fp --pipe -k -L3 --block 1 sh -c 'cat; echo --' < <(seq 5)
	assert_output "$(printf '1\n2\n3\n--\n4\n5\n--\n')"
}

@test "--pipe --recend and --recstart: a record ends where both meet" {
	run -0 fp --pipe -k -N1 --recend '\n' --recstart '>' sh -c 'cat; echo' \
		< <(printf '>a\nx>\n>b\n>c\ny')
	assert_output "$(printf '>a\nx>\n\n>b\n\n>c\ny\n')"
	# --recstart alone: a record starts wherever it is.
	run -0 fp --pipe -k -N1 --recstart '>' sh -c 'cat; echo' \
		< <(printf '>a\nx>\n>b')
	assert_output "$(printf '>a\nx\n>\n\n>b\n')"
}

@test "--pipe --recend takes escapes as GNU parallel does" {
	run -0 fp --pipe -k -N1 --recend '\t' sh -c 'cat; echo' < <(printf 'a\tb\tc\t')
	assert_output "$(printf 'a\t\nb\t\nc\t\n')"
}

@test "--pipe --regexp: the separators are patterns" {
	run -0 fp --pipe -k -N1 --regexp --recend '\d+' --recstart '[a-z]' \
		sh -c 'cat; echo' < <(printf 'a1b22c333d')
	assert_output "$(printf 'a1\nb22\nc333\nd\n')"
}

@test "--pipe --regexp: blocks never split a record of random size" {
	records in 2000 2
	tr '\n' '#' <in | sed 's/#/;;/g' >semi
	run -0 fp --pipe -k -j3 --block 500 --regexp --recend ';+' \
		sh -c 'cat; echo' <semi
	# Every block but the last ends with the separator.
	[[ $(grep -vc ';;$' <<<"$output") -le 1 ]]
	diff <(tr -d '\n' <<<"$output") semi
}

@test "--pipe --rrs: the job gets no separators" {
	run -0 fp --pipe --recend X --rrs cat < <(printf 'aXbXcX')
	assert_output abc
	run -0 fp --pipe --recstart S --recend '' --rrs cat < <(printf 'SaSbSc')
	assert_output abc
}

@test "--pipe --rrs: the input's last --recend goes too, with --recstart" {
	in='START1 a END\nSTART2 END\nb END\nSTART3 c END\n'
	run -0 fp --pipe -k --recstart START --recend 'END\n' --rrs cat < <(printf "$in")
	assert_output '1 a 2 END
b 3 c '
	run -0 fp --pipe -k -N1 --recstart START --recend 'END\n' --rrs \
		sh -c 'cat; echo' < <(printf "$in")
	assert_output "$(printf '1 a \n2 END\nb \n3 c \n')"
	run -0 fp --pipe -k --regexp --recstart 'ST.RT' --recend 'E.D\n' --rrs \
		cat < <(printf "$in")
	assert_output '1 a 2 END
b 3 c '
}

@test "--pipe --header: the header starts every block" {
	run -0 fp --pipe -k -N1 --header 2 sh -c 'cat; echo --' \
		< <(printf 'h1\nh2\na\nb\n')
	assert_output "$(printf 'h1\nh2\na\n--\nh1\nh2\nb\n--\n')"
	run -0 fp --pipe -k -N1 --header : sh -c 'cat; echo --' < <(printf 'h\na\nb\n')
	assert_output "$(printf 'h\na\n--\nh\nb\n--\n')"
	run -0 fp --pipe -k -N1 --header 'H[0-9]+,' sh -c 'cat; echo --' \
		< <(printf 'H12,a\nb\n')
	assert_output "$(printf 'H12,a\n--\nH12,b\n--\n')"
}

@test "--pipe --header: an input that ends inside the header is a block, as GNU parallel's" {
	run -0 fp --pipe --header : sh -c 'echo job; cat' < <(printf h)
	assert_output "$(printf 'job\nh')"
	run -0 fp --pipe --header 2 sh -c 'echo job; cat' < <(printf 'h1\nh2')
	assert_output "$(printf 'job\nh1\nh2')"
	printf 'h1\nh2' >in
	run -0 fp --pipe-part -a in --header 2 sh -c 'echo job; cat'
	assert_output "$(printf 'job\nh1\nh2')"
	# A whole header and no record: no job.
	run -0 fp --pipe --header : sh -c 'echo job; cat' < <(printf 'h\n')
	assert_output ''
}

@test "--pipe --recend: an unknown escape is taken as it is, as GNU parallel's" {
	run -0 fp --pipe -k -N1 --recend '\q' sh -c 'cat; echo ==' < <(printf 'aqb\\qc')
	assert_output "$(printf 'aqb\\q==\nc==')"
}

@test "--pipe --retries: a job run again gets its block again" {
	run -0 fp --pipe --retries 2 sh -c \
		'if [ -e tried ]; then cat; else : >tried; exit 1; fi' < <(seq 3)
	assert_output "$(printf '1\n2\n3\n')"
}

@test "--pipe: a job that does not read its block is no error" {
	run -0 fp --pipe -k --block 10k head -n 1 < <(seq 20000)
	[[ ${lines[0]} == 1 ]]
	[[ ${#lines[@]} -gt 5 ]]
}

@test "--pipe takes no input source" {
	run -255 fp --pipe cat ::: a
	assert_output "forkpool: --pipe reads its blocks from stdin: it takes no input source (-a, :::, ::::); --pipe-part -a FILE splits a file"
}

@test "--block: K is 1024 bytes, k 1000, as GNU parallel's" {
	run -0 fp --pipe -k --block 1K wc -c < <(yes 1234567 | head -n 300)
	assert_output "$(printf '1024\n1024\n352\n')"
	run -0 fp --pipe -k --block 1k wc -c < <(yes 1234567 | head -n 300)
	assert_output "$(printf '1000\n1000\n400\n')"
}

@test "--block: a bad size is refused, naming the option and the value" {
	run -255 fp --pipe --block 0 cat
	assert_output 'forkpool: --block 0: must be at least 1 byte'
	run -255 fp --pipe --block 1x cat
	assert_output 'forkpool: --block 1x: must be a size such as 512k or 2M'
	run -255 fp --pipe --block-size -2 cat
	assert_output 'forkpool: --block -2: blocks per job slot need --pipe-part: the size of stdin is not known ahead; give a size such as 10M'
	run -255 fp --pipe --block -5k cat
	assert_output 'forkpool: --block -5k: blocks per job slot need --pipe-part: the size of stdin is not known ahead; give a size such as 10M'
	run -255 fp --pipe-part --block -0 cat :::: /dev/null
	assert_output 'forkpool: --block -0: must be at least 1 block per job slot'
}

@test "--block: 2 GiB or more is lowered to 2G-1 with one warning, not allocated" {
	for b in 1P 1T 100G 2G; do
		run -0 --separate-stderr fp --pipe -k --block "$b" wc -c < <(seq 3)
		assert_output 6
		assert_equal "$stderr" "forkpool: --block $b: 2 GiB or more: 2147483647 bytes (2G-1) are used"
	done
	run -0 --separate-stderr fp --pipe -k --block 2047M wc -c < <(seq 3)
	assert_output 6
	assert_equal "$stderr" ''
}

@test "--block: a fraction with a unit, a fraction of a byte rounded down" {
	run -0 fp --pipe -k --block 1.5K wc -c < <(yes 12345 | head -n 1000)
	assert_output "$(printf '1536\n1536\n1536\n1392\n')"
	# 5.9 is 5 bytes: ab\n alone fits.
	run -0 fp --pipe -k --block 5.9 wc -c < <(printf 'ab\ncd\nef\n')
	assert_output "$(printf '3\n3\n3\n')"
	run -255 fp --pipe --block 0.5 cat
	assert_output 'forkpool: --block 0.5: must be at least 1 byte'
}

@test "--pipe-part: the blocks --pipe makes of the same file, random record sizes" {
	records in 5000 3
	fp --pipe -k -j3 --block 2k sh -c 'cat; echo ==END==' <in >pipe.out
	run -0 fp --pipe-part -a in -k -j3 --block 2k sh -c 'cat; echo ==END=='
	diff <(printf '%s\n' "$output") pipe.out
	fp --pipe -k -N7 --header 1 sh -c 'cat; echo ==END==' <in >pipe.out
	run -0 fp --pipe-part -k -N7 --header 1 sh -c 'cat; echo ==END==' :::: in
	diff <(printf '%s\n' "$output") pipe.out
	fp --pipe -k --block 300 --recstart a --recend '' sh -c 'cat; echo ==END==' <in >pipe.out
	run -0 fp --pipe-part -a in -k --block 300 --recstart a --recend '' sh -c 'cat; echo ==END=='
	diff <(printf '%s\n' "$output") pipe.out
}

@test "--pipe: stdin a regular file is read from its offset, and left at its end" {
	records in 20000 5
	# bash's read leaves a regular file's offset just past the line.
	{ read -r first; fp --pipe -k -j3 --block 10k sh -c 'cat; echo ==END=='; cat; } <in >out
	[[ $(grep -c '^==END==$' out) -gt 50 ]]
	diff <(grep -v '^==END==$' out) <(tail -n +2 in)
	# The same blocks as from a pipe, a header and -N too.
	tail -n +2 in | fp --pipe -k -j3 --block 10k sh -c 'cat; echo ==END==' >pipe.out
	diff out pipe.out
	tail -n +2 in | fp --pipe -k --header 2 -N 9 sh -c 'cat; echo ==END==' >pipe.out
	{ read -r first; fp --pipe -k --header 2 -N 9 sh -c 'cat; echo ==END=='; } <in >out
	diff out pipe.out
}

@test "--pipe: stdin a regular file that grows while read is read to its end" {
	seq 200000 >in
	# The first job adds to the file after forkpool sized it.
	run -0 fp --pipe -k -j1 --block 100k sh -c \
		'wc -l; if [ "$FORKPOOL_SEQ" = 1 ]; then seq 5 >>in; fi' <in
	[[ $(awk '{ n += $1 } END { print n }' <<<"$output") == 200005 ]]
}

@test "--pipe: stdin a regular file that grows after its end was read splits no record" {
	{ seq 50000; printf abc; } >in
	# The last block, cut ahead while job 2 runs, ends at the end, "abc";
	# what job 2 adds later is not read, as from a pipe that said end of
	# file.
	run -0 fp --pipe -k -j1 --block 100k sh -c \
		'if [ "$FORKPOOL_SEQ" = 2 ]; then sleep 1; printf "def\n" >>in; seq 5 >>in; fi; cat; echo' <in
	assert_equal "$(tail -n 1 <<<"$output")" abc
	assert_equal "$(grep -c . <<<"$output")" 50001
}

@test "--pipe -N from a regular file reads each block's records, not --block bytes for each" {
	require_cmd strace
	# 200 records of 10 kB: 2 MB, more than a --block of 1M.
	awk 'BEGIN { for (i = 0; i < 200; i++) { printf "%05d", i; for (k = 0; k < 9994; k++) printf "x"; print "" } }' >in
	# LeakSanitizer cannot run under ptrace.
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 strace -f -e trace=pread64 \
		-o trace "$FP_BIN" --pipe -N 1 --block 1M -k cat <in >out
	diff out in
	# 200 blocks of one record: not 1M read for each (200 MB).
	[[ $(awk -F'= ' '/pread64/ { n += $NF } END { print n + 0 }' trace) -lt 20000000 ]]
}

@test "--pipe: stdin a regular file that shrinks under a job's block is an error" {
	seq 1000000 >in
	run -255 --separate-stderr fp --pipe -k -j2 --block 4M \
		sh -c 'if [ "$FORKPOOL_SEQ" = 1 ]; then sleep 0.5; : >in; fi; sleep 1; wc -l' <in
	[[ $stderr == *'forkpool: --pipe stdin: the file shrank while read: job 2 got '* ]]
}

@test "--pipe: a file of /proc, whose size says 0, is read whole" {
	run -0 fp --pipe -k --block 1 cat </proc/self/mountinfo
	[[ ${#lines[@]} -gt 0 ]]
}

@test "--pipe: the jobs' stdin pipes stay within a quarter of what a user may hold in pipes, root's too" {
	require_cmd setpriv
	require_cmd python3
	[[ $EUID == 0 ]] || skip "needs root to run forkpool as another user"
	local soft d size
	soft=$(cat /proc/sys/fs/pipe-user-pages-soft)
	[[ $soft -gt 0 ]] || skip "no soft limit on pipe pages"
	# The largest power of 2 from 64 KiB to 1 MiB within the budget.
	size=$((1024 * 1024))
	while ((size > 65536 && size > soft * 4096 / 4 / 64)); do
		size=$((size / 2))
	done
	d=$(mktemp -d /tmp/forkpool-pipesz.XXXXXX)
	chmod 755 "$d"
	cp "$FP_BIN" "$d/forkpool"
	seq 100000 >"$d/in"
	# F_GETPIPE_SZ of its stdin, once all is read.
	printf '%s\n' 'import fcntl, sys' 'sys.stdin.read()' \
		'print(fcntl.fcntl(0, 1032))' >"$d/sz.py"
	chmod 644 "$d/in" "$d/sz.py"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$d/forkpool" --pipe --block 1k -j64 python3 "$d/sz.py" <"$d/in"
	cp "$d/sz.py" sz.py
	rm -rf "$d"
	assert_success
	assert_equal "$(sort -u <<<"$output")" "$size"
	# Root keeps to it too (in a user namespace it would be held to it).
	run fp --pipe --block 1k -j64 python3 sz.py <<<"$(seq 10000)"
	assert_success
	assert_equal "$(sort -u <<<"$output")" "$size"
	# Few slots: 1 MiB, unless pipe-max-size is less.
	if (($(cat /proc/sys/fs/pipe-max-size) >= 1048576)); then
		run fp --pipe --block 1k -j2 python3 sz.py <<<"$(seq 10000)"
		assert_success
		assert_equal "$(sort -u <<<"$output")" 1048576
	fi
}

@test "--pipe-part --block -N: N blocks per job slot" {
	seq 100000 >in
	run -0 fp --pipe-part -a in -k -j3 --block -2 wc -l
	[[ ${#lines[@]} == 6 || ${#lines[@]} == 7 ]]
	[[ $(awk '{ n += $1 } END { print n }' <<<"$output") == 100000 ]]
}

@test "--pipe-part: a file that shrinks while read is an error naming it" {
	seq 100000 >in
	# The first job empties the file once it read its block: the blocks
	# after it are lost.
	run -255 --separate-stderr fp --pipe-part -a in -k -j1 --block 100k \
		sh -c 'wc -l; : >in'
	[[ ${lines[0]} == 18517 ]]
	[[ $stderr == 'forkpool: --pipe-part in: the file shrank while read: '* ]]
	# Emptied before the last block is fed: blocks over the 1 MiB a
	# pipe holds cannot be in the pipes yet.
	seq 1000000 >in
	run -255 --separate-stderr fp --pipe-part -a in -k -j2 --block 4M \
		sh -c 'if [ "$FORKPOOL_SEQ" = 1 ]; then sleep 0.5; : >in; fi; sleep 1; wc -l'
	[[ $stderr == *'forkpool: --pipe-part in: the file shrank while read: job 2 got '* ]]
}

@test "--pipe-part: not a regular file is an error naming it" {
	run -255 fp --pipe-part -a /dev/null cat
	assert_output 'forkpool: --pipe-part /dev/null: not a regular file (--pipe reads any input)'
	run -255 fp --pipe-part cat
	assert_output 'forkpool: --pipe-part needs one file: -a FILE or :::: FILE'
}

@test "--round-robin: exactly -j processes, nothing lost" {
	seq 20000 >in
	run -0 fp --pipe --round-robin -j3 --block 1k sh -c 'echo $$ $(wc -l)' <in
	[[ ${#lines[@]} == 3 ]]
	[[ $(cut -d' ' -f1 <<<"$output" | sort -u | wc -l) == 3 ]]
	[[ $(awk '{ n += $2 } END { print n }' <<<"$output") == 20000 ]]
}

@test "--round-robin: each block goes whole to one job" {
	seq 20000 >in
	run -0 fp --pipe --round-robin -k -j2 --block 1k sh -c 'cat; echo ==END==' <in
	[[ $(grep -c '.==END==' <<<"$output") == 0 ]]
	diff <(grep -v '^==END==$' <<<"$output" | sort -n) in
}

@test "--cat: {} names a private file of the block, removed after the job" {
	mkdir t
	run -0 fp --pipe --cat -k -N2 --tmpdir t sh -c 'stat -c %a "$1"; cat "$1"' sh < <(seq 3)
	assert_output "$(printf '600\n1\n2\n600\n3\n')"
	run ls -A t
	assert_output ''
	run -0 fp --pipe --cat -k -N2 --tmpdir t cat < <(seq 3)
	assert_output "$(printf '1\n2\n3\n')"
}

@test "--fifo: {} names a named pipe the job reads its block from" {
	mkdir t
	run -0 fp --pipe --fifo -k -N2 --tmpdir t sh -c 'test -p "$1" && stat -c %a "$1"; cat "$1"' sh < <(seq 3)
	assert_output "$(printf '600\n1\n2\n600\n3\n')"
	run ls -A t
	assert_output ''
	# Appended when the command has no {}; a job that never opens it is
	# no error.
	run -0 fp --pipe --fifo -k -N2 --tmpdir t cat < <(seq 3)
	assert_output "$(printf '1\n2\n3\n')"
	run -0 fp --pipe --fifo -k -N2 --tmpdir t true < <(seq 3)
	assert_output ''
	run ls -A t
	assert_output ''
}

@test "--fifo: a block larger than the pipe goes through whole" {
	seq 200000 >in
	run -0 fp --pipe --fifo -k -j2 --block 300k sh -c 'cat "$1"' sh <in
	diff <(printf '%s\n' "$output") in
}

@test "--cat, --fifo: not with --round-robin, nor together" {
	run -255 fp --pipe --round-robin --fifo cat
	assert_output 'forkpool: --fifo cannot be used with --round-robin: a job gets many blocks, on its stdin'
	run -255 fp --pipe --cat --fifo cat
	assert_output 'forkpool: --cat and --fifo cannot be used together: {} names either a file or a named pipe'
}

@test "--round-robin: not with --retries, whose job could not get its blocks again" {
	run -255 fp --pipe --round-robin --retries 2 cat </dev/null
	assert_output 'forkpool: --retries cannot be used with --round-robin: a job gets many blocks, and a retry could not be fed them again'
	run -0 fp --pipe --round-robin --retries 1 cat </dev/null
}

@test "--pipe: not with --results, --resume, --resume-failed or --shuf, whose jobs need values" {
	local o
	for o in '--results r' '--resume --joblog jl' '--resume-failed --joblog jl' --shuf; do
		# shellcheck disable=SC2086
		run -255 fp --pipe $o cat </dev/null
		assert_output "forkpool: --pipe cannot be used with ${o%% *}: its jobs have no values"
	done
}

@test "--pipe: a process left behind by a job reads its own block later, not memory forkpool reused" {
	seq 20000 >in
	mkdir exp bg
	run -0 fp --pipe -j4 --block 2k sh -c 'cat >exp/{#}' <in
	run -0 fp --pipe -j4 --block 2k sh -c 'exec 3<&0; (sleep 2; cat <&3 >bg/{#}) >/dev/null 2>&1 & sleep 0.05' <in
	local f n=0 i
	for i in $(seq 60); do
		[ "$(cat bg/* 2>/dev/null | wc -c)" = "$(wc -c <in)" ] && break
		sleep 0.1
	done
	for f in exp/*; do cmp -s "$f" "bg/${f#exp/}" || n=$((n + 1)); done
	assert_equal "$n" 0
}

@test "--pipe: the same blocks as GNU parallel" {
	require_cmd parallel
	unset PARALLEL PARALLEL_HOME
	export HOME=$BATS_TEST_TMPDIR
	records in 500 4
	# Not -N: GNU parallel 20221122 puts N+1 records in some blocks; and
	# no record may be longer than the block, which GNU parallel answers
	# by growing --block for good.
	for args in "--block 1k" "--block 1K" "--recend a --block 300" \
		"--header 1 --block 2k"; do
		# shellcheck disable=SC2086
		fp --pipe -k $args sh -c 'cat; echo ==END==' <in >fp.out
		# shellcheck disable=SC2086
		parallel --will-cite --pipe -k $args sh -c \''cat; echo ==END=='\' <in >gnu.out
		diff fp.out gnu.out || fail "differs with $args"
	done
}

@test "pipe mode aliases do what their options do: --spreadstdin, --remove-rec-sep, --removerecsep, --round" {
	seq 10 >in
	local want
	want=$(fp --pipe -k --block 1 --recend 5 --rrs sh -c 'tr -d "\n"; echo' <in 2>/dev/null)
	assert_equal "$want" $'1234\n678910'
	run -0 --separate-stderr fp --spreadstdin -k --block 1 --recend 5 --remove-rec-sep sh -c 'tr -d "\n"; echo' <in
	assert_output "$want"
	run -0 --separate-stderr fp --pipe -k --block 1 --recend 5 --removerecsep sh -c 'tr -d "\n"; echo' <in
	assert_output "$want"
	run -0 fp --pipe --round -j2 --block 4 sh -c 'echo $$; cat >/dev/null' <in
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 2
}
