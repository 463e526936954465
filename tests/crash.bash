# Kill -9 at random moments, then --resume: what the runs printed together,
# checked against what the man page promises (JOB LOG).  Loaded by
# joblog.bats (a few rounds) and stress/crash.bats (many); both load
# helper first.
#
#   crash_setup         for setup_file: writes the job, CRASHJOB is its path
#   crash_rounds WHO KILLS NJOBS PAD OPTION...
#   crash_check MODE DUPS CUTS NJOBS PAD

# The job scripts are single-quoted to expand in the jobs; the variables set
# here are for the test that called; bats sets output.
# shellcheck disable=SC2016,SC2034,SC2154

# crash_setup: crashjob N PAD prints the lines "N 1" to "N 100", each
# followed by a blank and PAD x's when PAD is not 0; halfway through, jobs
# whose number is not a multiple of 5 pause for (N % 5) / 100 s, so that
# some are mid-output at any moment and jobs end out of order, unless PAD
# is not 0: then forkpool spends its time printing, and a kill often
# lands in the middle of a job's output.
crash_setup() {
	mkbin crashjob 'pad=
[ "$2" = 0 ] || pad=" $(printf "%$2s" "" | tr " " x)"
seq -f "$1 %g$pad" 50
[ "$2" != 0 ] || [ $(($1 % 5)) = 0 ] || sleep "0.0$(($1 % 5))"
seq -f "$1 %g$pad" 51 100'
	CRASHJOB="$BATS_FILE_TMPDIR/bin/crashjob"
	export CRASHJOB
}

# crash_rounds WHO KILLS NJOBS PAD OPTION...: run "crashjob {} PAD" over
# jobs 1..NJOBS with -j4 --joblog jl --resume and OPTION, in a session of its
# own, appending to out; after a random 20 to CRASH_MAX_MS (default 300) ms
# kill -9 forkpool alone (WHO fp: its jobs live on, as when the kernel's OOM
# killer picks it) or the whole session (WHO all: forkpool and its jobs);
# wait until no process of the session is left; again until KILLS runs were
# killed or one ran to its end, then once more to the end.  Sets KILLED (the runs killed),
# OFFSETS (the size of out after each of them) and STATUS_LAST (the last
# run's exit status), and leaves err.
crash_rounds() {
	local who=$1 kills=$2 njobs=$3 pad=$4 bg sid status i pids
	shift 4
	KILLED=0
	OFFSETS=
	: >out
	while ((KILLED < kills)); do
		rm -f sid
		setsid bash -c 'echo $$ >sid; exec "$@"' _ "$FP_BIN" -j4 \
			--joblog jl --resume "$@" "$CRASHJOB" {} "$pad" \
			::: $(seq "$njobs") </dev/null >>out 2>>err 3>&- &
		bg=$!
		sleep "$(printf '0.%03d' $((RANDOM % (${CRASH_MAX_MS:-300} - 19) + 20)))"
		for ((i = 0; i < 100; i++)); do
			[[ -s sid ]] && break
			sleep 0.01
		done
		sid=$(cat sid)
		if [[ $who == all ]]; then
			pkill -9 -s "$sid" || true
		else
			kill -9 "$bg" 2>/dev/null || true
		fi
		status=0
		wait "$bg" || status=$?
		if ((status != 137)); then
			# it ended before the kill: the last run
			STATUS_LAST=$status
			return 0
		fi
		KILLED=$((KILLED + 1))
		# wait for the jobs left running (or, with all, kill those
		# that were being started)
		for ((i = 0; i < 500; i++)); do
			pids=$(ps -o pid=,stat= -s "$sid" | awk '$2 !~ /^Z/ { print $1 }')
			[[ -z $pids ]] && break
			# shellcheck disable=SC2086
			[[ $who != all ]] || kill -9 $pids 2>/dev/null || true
			sleep 0.01
		done
		[[ -z $pids ]] || fail "jobs of killed run $KILLED still running: $pids"
		OFFSETS="$OFFSETS $(stat -c %s out)"
	done
	STATUS_LAST=0
	"$FP_BIN" -j4 --joblog jl --resume "$@" "$CRASHJOB" {} "$pad" \
		::: $(seq "$njobs") </dev/null >>out 2>>err 3>&- || STATUS_LAST=$?
}

# crash_check MODE DUPS CUTS NJOBS PAD: check out, as crash_rounds left it:
# out is cut into segments, what each run printed, at OFFSETS.
#   MODE group, keep: each segment is whole job outputs (in increasing job
#     order with keep), but for the last one of a killed run, which may be
#     cut short anywhere; an extra copy of a job can only be that.
#   MODE line: each job's lines in a segment are its first ones, in order;
#     a killed run may leave one line cut at its end.
# Each kill makes at most DUPS jobs appear more than once, and cuts short at
# most CUTS.  Each job's output appears whole at least once, the last run
# cuts none short, and the job log has one whole row for each job.  Sets
# CRASH_SUMMARY: the kills and the jobs printed more than once.
crash_check() {
	local mode=$1 dups=$2 cuts=$3 njobs=$4 pad=$5
	run awk -v mode="$mode" -v DUPS="$dups" -v CUTS="$cuts" \
		-v N="$njobs" -v P="$pad" \
		-v offsets="$OFFSETS" '
	function job(n,   s, i) {
		if (n in out)
			return out[n]
		s = ""
		for (i = 1; i <= 100; i++)
			s = s n " " i padding "\n"
		return out[n] = s
	}
	function bad(msg) {
		if (seg > 0)
			msg = "run " seg (seg <= K ? " (killed)" : " (the last)") \
			    ", byte " p - 1 " of out: " msg
		print msg
		exit 1
	}
	# The whole job outputs of a segment, then perhaps the beginning of one.
	function pieces(start, end,   n, o, L, rest, last) {
		last = 0
		for (p = start; p <= end;) {
			rest = end - p + 1
			if (!match(substr(data, p, 12), /^[0-9]+ /)) {
				if (seg <= K && rest < 12 &&
				    substr(data, p, rest) ~ /^[0-9]+$/) {
					if (CUTS < 1)
						bad("a job cut short")
					return
				}
				bad("not the start of a job output")
			}
			n = substr(data, p, RLENGTH - 1) + 0
			if (n < 1 || n > N)
				bad("job " n " out of range")
			o = job(n)
			L = length(o)
			if (rest >= L && substr(data, p, L) == o) {
				if (mode == "keep" && n <= last)
					bad("job " n " after job " last)
				last = n
				whole[n]++
				p += L
				continue
			}
			if (seg > K || rest >= L ||
			    substr(data, p, rest) != substr(o, 1, rest))
				bad("job " n ": neither whole nor its beginning, cut at the kill")
			if (CUTS < 1)
				bad("job " n " cut short")
			part[n]++
			return
		}
		if (seg <= K && last > 0)
			tail[last]++
	}
	# The lines of each job in a segment: its first ones, in order.
	function lines(start, end,   s, nl, i, f, nf, n, k) {
		p = start
		s = substr(data, start, end - start + 1)
		nl = split(s, line, "\n")
		# split() leaves an empty field after a final newline
		if (substr(s, length(s), 1) == "\n")
			nl--
		else if (seg > K)
			bad("the last run ends without a newline")
		else if (line[nl] ~ /^[0-9]+( [0-9]*( x*)?)?$/)
			nl--
		else
			bad("a cut line that no job printed: " line[nl])
		split("", at)
		for (i = 1; i <= nl; i++) {
			nf = split(line[i], f, " ")
			if (nf != (P > 0 ? 3 : 2) || (P > 0 && f[3] != xs) ||
			    f[1] !~ /^[0-9]+$/ || f[2] !~ /^[0-9]+$/)
				bad("line " i ": not a job line: " line[i])
			n = f[1] + 0
			if (n < 1 || n > N || f[2] + 0 != at[n] + 1)
				bad("line " i ": " line[i] " after line " \
				    at[n] + 0 " of job " n)
			at[n]++
		}
		k = 0
		for (n in at) {
			if (at[n] == 100) {
				whole[n]++
				if (seg <= K)
					tail[n]++
				continue
			}
			if (seg > K)
				bad("job " n " cut short after line " at[n])
			part[n]++
			k++
		}
		if (k > CUTS)
			bad(k " jobs cut short, more than " CUTS)
	}
	BEGIN {
		RS = "\001"
		for (xs = "x"; length(xs) < P;)
			xs = xs xs
		xs = substr(xs, 1, P)
		padding = P > 0 ? " " xs : ""
	}
	{ data = data $0 }
	END {
		K = split(offsets, off, " ")
		off[K + 1] = length(data)
		prev = 0
		for (seg = 1; seg <= K + 1; seg++) {
			if (off[seg] < prev)
				bad("out shrank")
			if (mode == "group" || mode == "keep")
				pieces(prev + 1, off[seg])
			else
				lines(prev + 1, off[seg])
			prev = off[seg]
		}
		seg = 0
		dup = 0
		for (n = 1; n <= N; n++) {
			if (whole[n] < 1)
				bad("job " n " never printed whole")
			if (whole[n] + part[n] == 1)
				continue
			dup++
			cuts += part[n] > 0
			if (mode == "group" || mode == "keep") {
				# the extra copy is the last a killed run printed
				if (whole[n] + part[n] - 1 > part[n] + tail[n])
					bad("job " n " printed " whole[n] \
					    " times whole, not at a kill")
			}
		}
		max = K * DUPS
		if (dup > max)
			bad(dup " jobs printed more than once after " K \
			    " kills; at most " max)
		print "kills " K ", jobs printed more than once " dup \
		    " (cut short " cuts + 0 ")"
	}' out
	assert_success
	CRASH_SUMMARY=$output
	# the job log: one whole row per job (rows cut by a kill aside)
	run awk -F '\t' -v cmd="$CRASHJOB" -v pad="$pad" \
		-v N="$njobs" '
		NF == 9 && $9 == cmd " " $1 " " pad { rows[$1]++ }
		END {
			for (n = 1; n <= N; n++)
				if (rows[n] != 1)
					print "job " n ": " rows[n] + 0 " rows"
		}' jl
	assert_output ''

}
