#!/usr/bin/env bats
# Named columns: --header (the first line or lines name the columns, {name})
# and --csv (RFC 4180 records).  Where the expected output says "as GNU
# parallel", it is what GNU parallel 20221122 prints for the same input.

bats_require_minimum_version 1.5.0
load helper

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR"
}

# --- --header -----------------------------------------------------------------

@test "--header : names the TAB-separated columns of the first line; it is not run" {
	run --separate-stderr fpin $'a\tb\n1\tx\n2\ty\n' -k --header : echo {b} {a}
	assert_success
	assert_output $'x 1\ny 2'
	assert_equal "$stderr" ""
}

@test "--header: {name} is {n}, with the modifiers {name.} {name/} {name//} {name/.}" {
	run --separate-stderr fpin $'id\tf\n7\t/d/x.tar.gz\n' --header : "$SHOWARGS" {f} {f.} {f/} {f//} {f/.} {id} {2} {1}
	assert_success
	assert_output "$(showargs_expect /d/x.tar.gz /d/x.tar x.tar.gz /d x.tar 7 /d/x.tar.gz 7)"
	assert_equal "$stderr" ""
}

@test "--header with --colsep splits the header as the records; names in --tagstring too" {
	run --separate-stderr fpin $'n,m\n1,x\n2,y\n' -k --header : --colsep , --tagstring '{m}' echo {n}
	assert_success
	assert_output $'x\t1\ny\t2'
	assert_equal "$stderr" ""
}

@test "--header without --colsep splits on TAB and trims nothing, as GNU parallel" {
	run --separate-stderr fpin $'a\tb\n 1 \tx y\n' --header : "$SHOWARGS" {a} {b} {}
	assert_success
	assert_output "$(showargs_expect ' 1 ' 'x y' ' 1 ' 'x y')"
}

@test "--header N takes N lines; the last of them names the columns" {
	run --separate-stderr fpin $'# made by hand\n# two\nk\tv\n1\tx\n' --header 3 echo {v}{k}
	assert_success
	assert_output 'x1'
	assert_equal "$stderr" ""
}

@test "--header REGEX: the lines it matches at the start are the header" {
	run --separate-stderr fpin $'# made by hand\n# two\nk\tv\n1\tx\n#3\ty\n' -k --header '(#.*\n)*.*\n' echo {v}{k}
	assert_success
	assert_output $'x1\ny#3'
	assert_equal "$stderr" ""
	# a match that ends inside a line takes that line
	run --separate-stderr fpin $'k\tv\n1\tx\n' --header 'k' echo {v}{k}
	assert_success
	assert_output 'x1'
}

@test "--header REGEX that does not match the start of the input is an error; exit 255" {
	run --separate-stderr fpin $'k\tv\n1\tx\n' --header 'v' echo {v}
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --header v: does not match the start of stdin'
	# a source of ::: values is named by its place among the sources
	run --separate-stderr fp --header :: echo ::: a b
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --header ::: does not match the start of ::: source 1'
	run --separate-stderr fp --header a echo ::: a b ::: c d
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --header a: does not match the start of ::: source 2'
}

@test "--header: bad values name --header; exit 255" {
	run --separate-stderr fp --header 'a(' echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --header a(: missing closing parenthesis at offset 2'
	run --separate-stderr fp --header 0 echo ::: a
	assert_failure 255
	assert_equal "$stderr" 'forkpool: --header 0: a header of no lines names nothing'
}

@test "--header : with ::: takes the first value of each source as its name" {
	run --separate-stderr fp -k --header : echo {a} {b} ::: a 1 2 ::: b x y
	assert_success
	assert_output $'1 x\n1 y\n2 x\n2 y'
	assert_equal "$stderr" ""
}

@test "--header : with :::: files, -a files and --link: each file's first line names it" {
	printf 'a\n1\n2\n' >fa
	printf 'b\nx\ny\n' >fb
	run --separate-stderr fp -k --header : echo {a} {b} :::: fa fb
	assert_success
	assert_output $'1 x\n1 y\n2 x\n2 y'
	run --separate-stderr fp -k --header : -a fa -a fb echo {b}{a}
	assert_success
	assert_output $'x1\ny1\nx2\ny2'
	run --separate-stderr fp -k --header : --link echo {a} {b} :::: fa fb
	assert_success
	assert_output $'1 x\n2 y'
	# a streamed file source
	run --separate-stderr fp -k --header : -a fa echo {a}
	assert_success
	assert_output $'1\n2'
}

@test "--header: {#} counts the records after the header" {
	run --separate-stderr fpin $'a\nx\ny\n' -k --header : echo '{#}' {a}
	assert_success
	assert_output $'1 x\n2 y'
}

@test "--header: a name no column has is left as it is, as GNU parallel, with one warning at start" {
	run --separate-stderr fpin $'a\tb\n1\tx\n2\ty\n' -k --header : echo {c} {c} '{c.}'
	assert_success
	assert_output $'{c} {c} {c.} 1 x\n{c} {c} {c.} 2 y'
	assert_equal "$stderr" $'forkpool: {c}: no column of the header is named c; left as it is\nforkpool: {c.}: no column of the header is named c; left as it is'
	run --separate-stderr fpin $'a\tb\n1\tx\n' --header : --tagstring '{c/}' echo {a}
	assert_success
	assert_output $'{c/}\t1'
	assert_equal "$stderr" 'forkpool: {c/}: no column of the header is named c; left as it is'
}

@test "--header: a name two columns have is an error where it is used" {
	run --separate-stderr fpin $'a\ta\tb\n1\tx\t2\n' --header : echo {a}
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: {a}: 2 columns of the header are named a'
	run --separate-stderr fpin $'a\ta\tb\n1\tx\t2\n' --header : echo {b}
	assert_success
	assert_output '2'
}

@test "--header: names may hold any text; shell and awk braces are left alone" {
	run --separate-stderr fpin $'first name\tx.y\n1\t2\n' --header : "$SHOWARGS" '{first name}' '{x.y}' '{x.y.}' "'{1,2}'" "'{print \$1}'" "'\${HOME}'"
	assert_success
	assert_output "$(showargs_expect 1 2 2 '{1,2}' '{print $1}' '${HOME}')"
}

@test "{name} without --header: literal, as GNU parallel, with --colsep or --csv too, and no message" {
	run --separate-stderr fp echo '{a}' ::: x
	assert_success
	assert_output '{a} x'
	assert_equal "$stderr" ''
	printf 'a\nx\n' >sf
	run --separate-stderr fp --colsep , "sed -n '/{1}/{p}' sf" ::: x,1
	assert_success
	assert_output 'x'
	assert_equal "$stderr" ''
	run --separate-stderr fp --csv echo '{a/}' ::: x
	assert_success
	assert_output '{a/} x'
	assert_equal "$stderr" ''
	run --separate-stderr fp --csv "awk 'BEGIN{exit}'; echo {1}" ::: a
	assert_success
	assert_output 'a'
	assert_equal "$stderr" ''
}

@test "--header: values are quoted for the shell, names and values alike hostile" {
	run --separate-stderr fpin $'$(touch n1)\tb\n$(touch v1);`touch v2`\t'"'"$'x\n' --header : 'echo {b} {$(touch n1)}; echo "{b}"'
	assert_success
	assert_output $'\'x $(touch v1);`touch v2`\n\'x'
	assert_equal "$stderr" ""
	assert [ ! -e n1 ]
	assert [ ! -e v1 ]
	assert [ ! -e v2 ]
}

@test "--header: input that ends within the header runs nothing; exit 0" {
	run --separate-stderr fpin $'a\tb\n' --header : echo {a}
	assert_success
	assert_output ''
	assert_equal "$stderr" ""
	run --separate-stderr fpin '' --header : echo {nosuch}
	assert_success
	assert_output ''
	assert_equal "$stderr" ""
}

@test "--header with -0: the first NUL-ended record names the columns" {
	printf 'a\tb\0001\tx\ny\000' >in
	run --separate-stderr "$FP_BIN" -0 --header : "$SHOWARGS" {b} <in
	assert_success
	assert_output "$(showargs_expect $'x\ny')"
}

# --- --csv --------------------------------------------------------------------

@test "--csv: quoted fields hold the separator, doubled quotes and newlines" {
	run --separate-stderr fpin $'"1 big, 2 small","2""x4"" plank",12.34\n"a\nb",c,\nx,y\n' -k --csv "$SHOWARGS" {1} {2} {3}
	assert_success
	# An empty last field is an empty argument; a missing one is none.
	assert_output "$(showargs_expect '1 big, 2 small' '2"x4" plank' 12.34)
$(showargs_expect $'a\nb' c '')
$(showargs_expect x y)"
	assert_equal "$stderr" ""
}

@test "--csv: empty fields, blank lines, spaces kept, the last record without a newline" {
	run --separate-stderr fpin $'a,,\n,""\n\n a , b \nz,y' -k --csv "$SHOWARGS"
	assert_success
	assert_output "$(showargs_expect a '' '')
$(showargs_expect '' '')
$(showargs_expect '')
$(showargs_expect ' a ' ' b ')
$(showargs_expect z y)"
	assert_equal "$stderr" ""
}

@test "--csv: CRLF line ends; a CR inside quotes stays" {
	run --separate-stderr fpin $'a,"b"\r\n"c\r\nd",e\r\n' -k --csv "$SHOWARGS"
	assert_success
	assert_output "$(showargs_expect a b)
$(showargs_expect $'c\r\nd' e)"
}

@test "--csv --colsep CHAR sets the delimiter" {
	run --separate-stderr fpin $'a;"b;c,d"\n' --csv --colsep ';' "$SHOWARGS"
	assert_success
	assert_output "$(showargs_expect a 'b;c,d')"
	run --separate-stderr fpin $'a\t"b\tc"\n' --csv --colsep '\t' "$SHOWARGS"
	assert_success
	assert_output "$(showargs_expect a $'b\tc')"
	run --separate-stderr fp --csv --colsep ';;' echo ::: a
	assert_failure 255
	assert_output ''
	assert_equal "$stderr" 'forkpool: --csv: --colsep ;;: must be one character'
}

@test "--csv: malformed records are reported with their number, counted as failed, not run" {
	run --separate-stderr fpin $'a,b\nx"y,1\n"ab"c,2\nok,3\n"open,4\nnever\n' -k --csv echo {1}
	assert_failure 3
	assert_output $'a\nok'
	assert_equal "$stderr" "forkpool: input record 2: not valid CSV: a stray quote
forkpool: input record 3: not valid CSV: a stray quote
forkpool: input record 5: not valid CSV: a quoted field is not closed"
}

@test "--csv with --header: the header is a CSV record too" {
	run --separate-stderr fpin $'name,"the, size"\nf,"1,5"\n' --csv --header : "$SHOWARGS" {name} '{the, size}'
	assert_success
	assert_output "$(showargs_expect f 1,5)"
	assert_equal "$stderr" ""
}

@test "--csv with ::: values: each value is a CSV record" {
	run --separate-stderr fp -k --csv "$SHOWARGS" ::: 'a,b' '"c,d",e'
	assert_success
	assert_output "$(showargs_expect a b)
$(showargs_expect c,d e)"
}

@test "--csv with -0: records end at NUL outside quotes" {
	printf 'a,b\000"c\000",d\000' >in
	run --separate-stderr "$FP_BIN" -k -0 --csv "$SHOWARGS" <in
	assert_failure 1
	assert_output "$(showargs_expect a b)"
	assert_equal "$stderr" 'forkpool: input record 2: contains a NUL byte'
}

@test "--csv: hostile values stay data" {
	run --separate-stderr fpin $'"$(touch a1)","`touch a2`;x","\'y"\n' --csv 'echo {1} {2} {3}'
	assert_success
	assert_output "\$(touch a1) \`touch a2\`;x 'y"
	assert [ ! -e a1 ]
	assert [ ! -e a2 ]
}

@test "--csv streams: a record runs before the input ends" {
	mkfifo in
	(
		printf '"a\n' >&3
		sleep 0.3
		printf 'b",1\n' >&3
		# the job made the marker before more input came
		for i in $(seq 50); do [ -e ran ] && break; sleep 0.1; done
		printf 'c,2\n' >&3
	) 3>in &
	run --separate-stderr "$FP_BIN" -k --csv 'touch ran; echo {2}' <in
	assert_success
	assert_output $'1\n2'
	wait
}

# --- against GNU parallel ---------------------------------------------------

# same_as_gnu ARGS...: forkpool and GNU parallel print the same for ARGS with
# the input in the file in.
same_as_gnu() {
	require_cmd parallel
	local want
	want=$(parallel --will-cite "$@" <in)
	run --separate-stderr "$FP_BIN" "$@" <in
	assert_success
	assert_output "$want"
	[ -n "$want" ]
}

@test "--header and --csv print as GNU parallel does" {
	printf 'a\tb\n1\tx\n2\ty\n' >in
	same_as_gnu -k --header : echo {b}-{a} {1} {}
	printf 'n,p\nr,/d/f.tar.gz\n' >in
	same_as_gnu -k --header : --colsep , echo {p.} {p/} {p//} {p/.} {n}
	same_as_gnu -k --header : echo {a} {b} ::: a 1 2 ::: b x y
	printf '"1 big, 2 small","2""x4"" plank",12.34\n,,\n' >in
	if perl -MText::CSV -e 1 2>/dev/null; then
		same_as_gnu -k --csv echo {3} {2} {1}
		printf 'k,v\n"a,b",c\n' >in
		same_as_gnu -k --csv --header : echo {v} {k}
	elif [[ ${CI:-} == true ]]; then
		fail "GNU parallel's --csv needs Perl's Text::CSV"
	fi
}
