#!/usr/bin/env bats
# docs/compat.md holds: every option it marks supported or differs is
# accepted, and every one it marks unsupported is refused with its note.

bats_require_minimum_version 1.5.0
load helper

COMPAT_MD="$FP_ROOT/docs/compat.md"

setup() {
	fp_setup
	cd "$BATS_TEST_TMPDIR" || return
	printf 'x\n' >in
	printf ':\n' >logins
}

# rows SECTION: the table rows of the section whose heading starts with
# SECTION, one per line as OPTION-CELL TAB STATUS TAB NOTE, backticks off.
rows() {
	awk -v sect="## $1" -F' [|] ' '
		/^## / { on = index($0, sect) == 1; next }
		on && /^[|] `/ {
			o = $1; sub(/^[|] /, "", o); gsub(/`/, "", o)
			n = $3; sub(/ ?[|]$/, "", n); gsub(/`/, "", n)
			print o "\t" $2 "\t" n
		}' "$COMPAT_MD"
}

# A harmless value for an option's placeholder in docs/compat.md; some
# options need their own (-s 1 leaves no room for the command).
declare -gA VALUE_OF_OPTION=([-s]=1000 [--max-chars]=1000 [--halt]=0
	[--halt-on-error]=0 [--header]=: [--colsep]=, [-C]=, [--col-sep]=,
	[--sshloginfile]=logins [--slf]=logins)
declare -gA VALUE_OF_PLACEHOLDER=([FILE]=in [SEP]=XX [N]=1 [DURATION]=1
	[DELIM]=, [EOF]=EOF [STR]=s [REGEX]=: [WHEN]=0 [MAX]=100 [SIZE]=1k
	[NAME]=res [SECS]=1 [DIR]=. [VAR]=HOME [SEQ]=TERM,10 [WHERE]=n
	[LOGIN]=:)

# Options that mean something only with others.
declare -gA NEEDS=([--resume]="--joblog jl" [--resume-failed]="--joblog jl"
	[--retry-failed]="--joblog jl" [--pipe-part]="-a in" [--onall]="-S :"
	[--nonall]="-S :")
# Options that read the input as blocks, from stdin or -a: no ::: source.
PIPE_OPTS=" --pipe --spreadstdin --pipe-part "
# Options that run the command with no input: no ::: source either.
NO_INPUT_OPTS=" --nonall "
SEMAPHORE_OPTS=" --semaphore --semaphore-name --id --semaphore-timeout --st --bg --fg --wait "

# words CELL: set WORDS to forkpool's arguments for the option cell CELL
# (an option and maybe a placeholder) and a harmless command.
words() {
	local opt=${1%% *} ph= val
	[[ $1 == *' '* ]] && ph=${1#* }
	WORDS=()
	[[ -n ${NEEDS[$opt]:-} ]] && read -ra WORDS <<<"${NEEDS[$opt]}"
	if [[ $SEMAPHORE_OPTS == *" $opt "* && $opt != --semaphore ]]; then
		WORDS+=(--semaphore)
	fi
	WORDS+=("$opt")
	if [[ -n $ph ]]; then
		val=${VALUE_OF_OPTION[$opt]:-${VALUE_OF_PLACEHOLDER[$ph]:-v}}
		WORDS+=("$val")
	fi
	if [[ $SEMAPHORE_OPTS == *" $opt "* ]]; then
		[[ $opt == --wait ]] || WORDS+=(true)
	elif [[ $PIPE_OPTS == *" $opt "* || $NO_INPUT_OPTS == *" $opt "* ]]; then
		WORDS+=(true)
	else
		WORDS+=(true ::: x)
	fi
}

# check_options SECTION: every row of an option table holds; the rows that
# do not are printed, and the test fails, with what forkpool did.
check_options() {
	local cell status note opt out rc bad=() n=0
	while IFS=$'\t' read -r cell status note; do
		n=$((n + 1))
		opt=${cell%% *}
		words "$cell"
		rc=0
		out=$(timeout 20 "$FP_BIN" "${WORDS[@]}" 2>&1 </dev/null) || rc=$?
		case $status in
		supported | differs)
			# Without a terminal --tty, -o and -p cannot run, which
			# is not a refusal of the option: that one message is
			# excused, for them only.
			if [[ $rc == 255 && ! ($opt =~ ^(--tty|-o|--open-tty|-p|--interactive)$ &&
				$out == "forkpool: $opt: /dev/tty: No such device or address") ]] ||
				[[ $rc == 124 ]]; then
				bad+=("$cell ($status): exit $rc: ${out%%$'\n'*}")
			fi
			;;
		unsupported)
			if [[ $rc != 255 || $out != "forkpool: $opt: not supported: $note" ]]; then
				bad+=("$cell (unsupported): exit $rc: $out")
			fi
			;;
		*)
			bad+=("$cell: status '$status' is not supported, differs or unsupported")
			;;
		esac
		# GNU parallel's spelling without hyphens is the same option.
		local joined=--${opt:2}
		joined=${joined//-/}
		joined=--$joined
		if [[ $opt == --*-* ]]; then
			WORDS=("${WORDS[@]/#"$opt"/"$joined"}")
			rc=0
			out=$(timeout 20 "$FP_BIN" "${WORDS[@]}" 2>&1 </dev/null) || rc=$?
			if [[ $status == unsupported ]]; then
				[[ $rc == 255 && ($out == "forkpool: $opt: not supported: $note" ||
					$out == "forkpool: $joined: not supported: $note") ]] ||
					bad+=("$joined for $cell (unsupported): exit $rc: $out")
			elif [[ $rc == 255 && $out == *"$joined"* ]] || [[ $rc == 124 ]]; then
				bad+=("$joined for $cell ($status): exit $rc: ${out%%$'\n'*}")
			fi
		fi
	done < <(rows "$1")
	((n > 10)) || fail "only $n rows in section $1 of docs/compat.md"
	printf '%s\n' "${bad[@]}"
	assert_equal "${#bad[@]}" 0
}

@test "compat.md: GNU parallel's options marked supported are accepted, the unsupported refused with the note" {
	check_options "GNU parallel options"
}

@test "compat.md: GNU xargs's options marked supported are accepted, the unsupported refused with the note" {
	check_options "GNU xargs options"
}

@test "compat.md: BSD xargs's options marked supported are accepted, the unsupported refused with the note" {
	check_options "BSD xargs options"
}

@test "compat.md: supported replacement strings are expanded, unsupported ones never to something else" {
	local cell status note s rc out plus bad=() n=0
	while IFS=$'\t' read -r cell status note; do
		n=$((n + 1))
		s=$cell
		rc=0
		plus=()
		[[ $note == *--plus* ]] && plus=(--plus)
		[[ $note == *' -S '* ]] && plus+=(-S :)
		out=$(timeout 20 "$FP_BIN" "${plus[@]}" -k echo "$s" ::: a/b.c 2>&1 </dev/null) || rc=$?
		case $status in
		supported)
			[[ $rc == 0 && $out != *"$s"* ]] ||
				bad+=("$s: exit $rc: $out")
			;;
		unsupported)
			# Refused ({= =}), or left as it is: never a wrong value.
			[[ $rc == 255 || $out == "$s a/b.c" ]] ||
				bad+=("$s (unsupported): exit $rc: $out")
			;;
		*)
			bad+=("$s: status '$status' is not supported or unsupported")
			;;
		esac
	done < <(rows "Replacement strings")
	((n > 10)) || fail "only $n rows of replacement strings in docs/compat.md"
	printf '%s\n' "${bad[@]}"
	assert_equal "${#bad[@]}" 0
}

@test "compat.md: src/compat.c refuses no option that compat.md does not mark unsupported" {
	local doc code
	doc=$(for s in "GNU parallel options" "GNU xargs options" "BSD xargs options"; do
		rows "$s"
	done | awk -F'\t' '$2 == "unsupported" { split($1, w, " "); print w[1] }' | sort -u)
	code=$(grep -oE '^	\{ "-[^"]*"' "$FP_ROOT/src/compat.c" | cut -d'"' -f2 | sort -u)
	[ -n "$code" ]
	assert_equal "$code" "$doc"
}

@test "an option neither forkpool's nor in compat.md gets the generic message and the usage reminder" {
	run --separate-stderr fp --frobnicate true ::: x
	assert_failure 255
	assert_output ""
	assert_equal "$stderr" "forkpool: --frobnicate: unknown option
usage: forkpool [OPTIONS] [COMMAND [ARG...]] [::: VALUE...] [:::: FILE...]
Try 'forkpool --help' for more."
}

@test "a refused option's value after = is not part of its name, and a refused letter in a cluster is named" {
	run --separate-stderr fp --template=f true ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: --template: not supported: forkpool does not fill in files; instead: sed on the template file in the command"
	run --separate-stderr fp -kR 1 true ::: x
	assert_failure 255
	assert_equal "$stderr" "forkpool: -R: not supported: -I replaces every occurrence, there is no count to set; instead: leave out -R"
}

@test "the man page's COMPATIBILITY example and the README's link hold" {
	require_cmd mandoc
	local line
	line=$(mandoc -Tascii "$FP_ROOT/man/forkpool.1" | sed 's/.\x08//g' |
		sed -n '/^COMPATIBILITY/,/^SEE ALSO/p' | grep -E '^ +forkpool: ' | sed 's/^ *//')
	assert_equal "$line" "forkpool: --tmux: not supported: forkpool does not drive tmux; instead: --line-buffer --tag, or --results DIR"
	run --separate-stderr fp --tmux true ::: x
	assert_failure 255
	assert_equal "$stderr" "$line"
	run grep -F '[docs/compat.md](docs/compat.md)' "$FP_ROOT/README.md"
	assert_success
}

@test "the man page's COMPATIBILITY calls unsupported only options forkpool refuses" {
	require_cmd mandoc
	local para opts o
	para=$(mandoc -Tascii "$FP_ROOT/man/forkpool.1" | sed 's/.\x08//g' |
		sed -n '/^COMPATIBILITY/,/^SEE ALSO/p' |
		sed -n '/Not supported:/,/^ *$/p' | tr -s ' \n' '  ')
	[[ $para == *'Not supported:'* ]] || fail "no 'Not supported:' paragraph"
	opts=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$para" | sort -u)
	[[ -n $opts ]] || fail "the paragraph names no option"
	for o in $opts; do
		run --separate-stderr fp "$o" true ::: x
		[[ $status == 255 && $stderr == "forkpool: $o: not supported: "* ]] ||
			fail "COMPATIBILITY calls $o unsupported, but forkpool takes it: $status $stderr"
	done
}

@test "compat.md: --slurm is refused with each option its Slurm section says it cannot be used with" {
	local line opt args missing=()
	line=$(awk '/^## Slurm/ { on = 1 } on && /^- `--slurm` cannot be used with/ { p = 1 }
		p { printf "%s ", $0 } p && /\.$/ { exit }' "$COMPAT_MD")
	[ -n "$line" ] || fail "no '--slurm cannot be used with' item in the Slurm section"
	line=${line#*cannot be used with}
	for opt in $(grep -oE -- '`-[-a-zA-Z]+`' <<<"$line" | tr -d '`'); do
		case $opt in
		-S) args=(-S :) ;;
		--sshloginfile) args=(--sshloginfile logins) ;;
		--onall | --nonall) args=(-S : "$opt") ;;
		*) args=("$opt") ;;
		esac
		# these two take no input source
		[[ $opt != --nonall && $opt != --semaphore ]] && args+=(true ::: a) || args+=(true)
		run env SLURM_JOB_ID=1 "$FP_BIN" --slurm "${args[@]}"
		# exit status 255 and one line that names --slurm and the option
		if [[ $status -ne 255 || ${#lines[@]} -ne 1 || $output != "forkpool: --slurm"*"$opt"* ]]; then
			missing+=("$opt: $status: $output")
		fi
	done
	assert_equal "${missing[*]}" ""
}
