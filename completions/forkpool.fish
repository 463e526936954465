# fish completion for forkpool

# Print where the word being completed stands: "opts" while options may
# still be given, "optarg" for the argument of an option, "command" for the
# command after --, "template" for the rest of the command, "source" after
# ::: :::: :::+ or ::::+.
function __fish_forkpool_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l state opts
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $state
            case opts
                switch $t
                    case ':::' '::::' ':::+' '::::+'
                        set state source
                    case '--'
                        set state command
                    case '--*=*'
                    case '--*'
                        if contains -- $t --arg-file --delimiter --colsep --trim --header --max-args \
                                --max-replace-args --max-chars --shell --exec-mode \
                                --workdir --wd --env --nice \
                                --jobs --max-tasks --timeout --termseq --retries --delay \
                                --sshlogin --sshloginfile --slf --ssh --slurm-alloc \
                                --transferfile --tf --return --trc --basefile --bf \
                                --halt --load --memfree --joblog --junit --tagstring --tmpdir \
                                --partition --results --max-procs --col-sep --argfile \
                                --halt-on-error --res --id --semaphore-name \
                                --semaphorename --semaphoretimeout --st \
                                --semaphore-timeout --arg-sep --arg-file-sep \
                                --block --block-size --recend --recstart
                            set skip 1
                        end
                    case '-?*'
                        # A cluster of short options ending with one that
                        # takes an argument, as in -j or -kj.
                        if string match -qr -- '^-[0rXmxqkuvthVM]*[adInNsjPCELS]$' $t
                            set skip 1
                        end
                    case '*'
                        set state template
                end
            case command template
                set state template
                switch $t
                    case ':::' '::::' ':::+' '::::+'
                        set state source
                end
        end
    end
    if test $skip -eq 1
        # The argument of an option.
        set state optarg
    end
    echo $state
end

# True before the command, including at the argument of an option.
function __fish_forkpool_in_options
    set -l s (__fish_forkpool_state)
    test $s = opts; or test $s = optarg
end

function __fish_forkpool_needs_command
    set -l s (__fish_forkpool_state)
    test $s = opts; or test $s = command
end

function __fish_forkpool_after_command
    set -l s (__fish_forkpool_state)
    test $s = template; or test $s = source
end

function __fish_forkpool_halt
    printf '%s\t%s\n' \
        now,fail=1 'End the running jobs at the first failure' \
        soon,fail=1 'Start no new job after the first failure' \
        now,success=1 'End the running jobs at the first success' \
        soon,success=1 'Start no new job after the first success' \
        now,done=1 'End the running jobs once one job has finished' \
        soon,done=1 'Start no new job once one job has finished' \
        now,fail=10% 'End the running jobs once 10% of the jobs have failed' \
        never 'Run every job (default)'
end

function __fish_forkpool_shells
    if test -r /etc/shells
        string match -r '^/.*' </etc/shells
    end
end

complete -c forkpool -e

# The command (first non-option word), then files for its arguments and for
# input sources.
complete -c forkpool -n '__fish_forkpool_needs_command; and not string match -q -- "-*" (commandline -ct)' -x -a '(__fish_complete_command)'
complete -c forkpool -n '__fish_forkpool_after_command; and string match -q -- ":*" (commandline -ct)' \
    -f -a ':::' -d 'values on the command line form one source'
complete -c forkpool -n '__fish_forkpool_after_command; and string match -q -- ":*" (commandline -ct)' \
    -f -a '::::' -d 'each file is one source'
complete -c forkpool -n '__fish_forkpool_after_command; and string match -q -- ":*" (commandline -ct)' \
    -f -a ':::+' -d 'values linked to the previous source'
complete -c forkpool -n '__fish_forkpool_after_command; and string match -q -- ":*" (commandline -ct)' \
    -f -a '::::+' -d 'files linked to the previous source'

# Input
complete -c forkpool -n __fish_forkpool_in_options -s a -l arg-file -r -F -d 'Read records from FILE (- is stdin); one source per file'
complete -c forkpool -n __fish_forkpool_in_options -s 0 -l null -d 'Records end with a NUL byte'
complete -c forkpool -n __fish_forkpool_in_options -s d -l delimiter -x -d 'Records end with CHAR (\n \t \0 \\\\ \xHH accepted)'
complete -c forkpool -n __fish_forkpool_in_options -l colsep -x -d 'Split records into columns {1}..{n} on a Perl regex (implies --trim rl)'
complete -c forkpool -n __fish_forkpool_in_options -l trim -x -a 'n l r lr rl' -d 'Strip white space off the ends of every value or column'
complete -c forkpool -n __fish_forkpool_in_options -l header -x -a ': 1' -d 'First line (:), N lines or REGEX are a header naming {name}'
complete -c forkpool -n __fish_forkpool_in_options -l pipe -d 'Give each job a block of stdin on its stdin'
complete -c forkpool -n __fish_forkpool_in_options -l spreadstdin -d 'Give each job a block of stdin on its stdin (--pipe)'
complete -c forkpool -n __fish_forkpool_in_options -l pipe-part -d '--pipe on the blocks of the regular file -a FILE, spliced'
complete -c forkpool -n __fish_forkpool_in_options -l block -x -a '64k 1M 10M 100M' -d 'A block is about SIZE bytes'
complete -c forkpool -n __fish_forkpool_in_options -l block-size -x -a '64k 1M 10M 100M' -d 'A block is about SIZE bytes (--block)'
complete -c forkpool -n __fish_forkpool_in_options -l recend -x -d 'Records end with STR (default \\n)'
complete -c forkpool -n __fish_forkpool_in_options -l recstart -x -d 'Records start with STR'
complete -c forkpool -n __fish_forkpool_in_options -l regexp -d '--recend and --recstart are Perl regexes'
complete -c forkpool -n __fish_forkpool_in_options -l rrs -d 'Remove the record separators from the blocks'
complete -c forkpool -n __fish_forkpool_in_options -l remove-rec-sep -d 'Remove the record separators from the blocks (--rrs)'
complete -c forkpool -n __fish_forkpool_in_options -l removerecsep -d 'Remove the record separators from the blocks (--rrs)'
complete -c forkpool -n __fish_forkpool_in_options -l round-robin -d 'Start -j jobs only and deal the blocks to them'
complete -c forkpool -n __fish_forkpool_in_options -l round -d 'Start -j jobs only and deal the blocks to them (--round-robin)'
complete -c forkpool -n __fish_forkpool_in_options -l cat -d 'Put each block in a file that {} names'
complete -c forkpool -n __fish_forkpool_in_options -l fifo -d 'Feed each block through a named pipe that {} names'
complete -c forkpool -n __fish_forkpool_in_options -l csv -d 'Records are CSV (RFC 4180); --colsep sets the separator'
complete -c forkpool -n __fish_forkpool_in_options -s r -l no-run-if-empty -d 'Do not run jobs for empty or blank records'
complete -c forkpool -n __fish_forkpool_in_options -l link -d 'Link sources pairwise instead of the cartesian product'
complete -c forkpool -n __fish_forkpool_in_options -l shuf -d 'Run the jobs in a random order, after reading all input'
complete -c forkpool -n __fish_forkpool_in_options -l partition -x -a '1/2 2/2 1/2,rr 2/2,rr' -d 'Run only share K of N of the records (K/N or K/N,rr)'

# Command
complete -c forkpool -n __fish_forkpool_in_options -s I -x -d 'Use STR instead of {} as the replacement string'
complete -c forkpool -n __fish_forkpool_in_options -l plus -d 'More replacement strings, as GNU parallel\'s --plus'
complete -c forkpool -n __fish_forkpool_in_options -s n -l max-args -x -d 'Up to N records per job, as separate arguments'
complete -c forkpool -n __fish_forkpool_in_options -s N -l max-replace-args -x -d 'Exactly N records per job, as {1}..{N}'
complete -c forkpool -n __fish_forkpool_in_options -s X -d 'As many records per job as fit, the word around {} repeated for each'
complete -c forkpool -n __fish_forkpool_in_options -s m -d 'As many records per job as fit, {} is all of them'
complete -c forkpool -n __fish_forkpool_in_options -l xargs -d 'As -m, without spreading the last records over the slots'
complete -c forkpool -n __fish_forkpool_in_options -s L -x -d 'N non-blank lines per job; a line ending in a blank goes on'
complete -c forkpool -n __fish_forkpool_in_options -s l -l max-lines -d 'N lines per job (-L), one without N'
complete -c forkpool -n __fish_forkpool_in_options -s i -l replace -d 'Use STR (in the same word, default {}) as the replacement string'
complete -c forkpool -n __fish_forkpool_in_options -s E -x -d 'The input ends at a record equal to EOF'
complete -c forkpool -n __fish_forkpool_in_options -s e -l eof -d 'As -E; without EOF, no end string'
complete -c forkpool -n __fish_forkpool_in_options -l arg-sep -x -d 'Use STR instead of :::'
complete -c forkpool -n __fish_forkpool_in_options -l arg-file-sep -x -d 'Use STR instead of ::::'
complete -c forkpool -n __fish_forkpool_in_options -s x -l exit -d 'Stop if -s leaves a job fewer records than -n, -N or -L give it'
complete -c forkpool -n __fish_forkpool_in_options -l max-line-length-allowed -d 'Print the most bytes -s may be and exit'
complete -c forkpool -n __fish_forkpool_in_options -s s -l max-chars -x -d 'A command line is at most MAX bytes'
complete -c forkpool -n __fish_forkpool_in_options -l shell -x -a '(__fish_forkpool_shells)' -d 'Shell for templates that need one'
complete -c forkpool -n __fish_forkpool_in_options -s q -l quote -d 'Run the command\'s words as they are, never through a shell line'
complete -c forkpool -n __fish_forkpool_in_options -l workdir -x -a '(__fish_complete_directories (commandline -ct)) ...' -d 'Run the jobs in DIR (... a private temporary one)'
complete -c forkpool -n __fish_forkpool_in_options -l wd -x -a '(__fish_complete_directories (commandline -ct)) ...' -d 'Same as --workdir'
complete -c forkpool -n __fish_forkpool_in_options -l env -x -a '(set -xn) _' -d 'Accepted for GNU parallel: every variable reaches local jobs'
complete -c forkpool -n __fish_forkpool_in_options -l nice -x -a '1 5 10 19' -d 'Run the jobs with N added to the niceness'
complete -c forkpool -n __fish_forkpool_in_options -l exec-mode -x -a 'auto shell direct' -d 'Run jobs directly when possible, always via the shell, or never'

# Scheduling
complete -c forkpool -n __fish_forkpool_in_options -s j -l jobs -x -d 'Run N jobs at once (N, +N, -N, N%, 0)'

# Workers
complete -c forkpool -n __fish_forkpool_in_options -l workers -d 'Start -j long-lived instances of the command, a record at a time on stdin'
complete -c forkpool -n __fish_forkpool_in_options -l max-tasks -x -d 'Replace a worker after it answered N records'
complete -c forkpool -n __fish_forkpool_in_options -s S -l sshlogin -x -a '(__fish_print_hostnames) :' -d 'Run the jobs on remote hosts ([N/][SSHCMD ][USER@]HOST[:PORT])'
complete -c forkpool -n __fish_forkpool_in_options -l sshloginfile -r -F -d 'Run the jobs on the hosts of a file, one login a line'
complete -c forkpool -n __fish_forkpool_in_options -l slf -r -F -d 'Same as --sshloginfile'
complete -c forkpool -n __fish_forkpool_in_options -l ssh -x -a '(__fish_complete_command)' -d 'The ssh command for remote hosts'
complete -c forkpool -n __fish_forkpool_in_options -l no-multiplex -d 'A connection of its own for every remote job'
complete -c forkpool -n __fish_forkpool_in_options -s M -l controlmaster -d 'Share one master connection per host (the default)'
complete -c forkpool -n __fish_forkpool_in_options -l transferfile -r -F -d 'Rsync FILE (a template) to the host before its job'
complete -c forkpool -n __fish_forkpool_in_options -l tf -r -F -d 'Same as --transferfile'
complete -c forkpool -n __fish_forkpool_in_options -l transfer -d 'Rsync {} to the host before its job'
complete -c forkpool -n __fish_forkpool_in_options -l return -r -F -d 'Rsync FILE (a template) back after the job'
complete -c forkpool -n __fish_forkpool_in_options -l cleanup -d 'Remove the files sent and returned on the host'
complete -c forkpool -n __fish_forkpool_in_options -l trc -r -F -d 'Same as --transfer --return FILE --cleanup'
complete -c forkpool -n __fish_forkpool_in_options -l basefile -r -F -d 'Rsync FILE to each host once, before its jobs'
complete -c forkpool -n __fish_forkpool_in_options -l bf -r -F -d 'Same as --basefile'
complete -c forkpool -n __fish_forkpool_in_options -l sshdelay -x -d 'Start ssh at most once every duration (0.5, 2s)'
complete -c forkpool -n __fish_forkpool_in_options -l ssh-delay -x -d 'Same as --sshdelay'
complete -c forkpool -n __fish_forkpool_in_options -l onall -d 'Run all the jobs on every host, one at a time on each'
complete -c forkpool -n __fish_forkpool_in_options -l nonall -d 'Run the command once on every host, with no input'
complete -c forkpool -n __fish_forkpool_in_options -l slurm -d 'Run each job as a job step (srun) of the Slurm allocation forkpool runs in'
complete -c forkpool -n __fish_forkpool_in_options -l slurm-alloc -x -d 'Ask for a Slurm allocation (salloc ARGS) and run each job as a job step of it'

# Job control
complete -c forkpool -n __fish_forkpool_in_options -l timeout -x -a '10 60 5m 1h 200%' -d 'End a job running longer than a duration (90, 5m, 1h30m), or N% of the median runtime'
complete -c forkpool -n __fish_forkpool_in_options -l termseq -x -a 'TERM,200,TERM,100,TERM,50,KILL,25' -d 'How a job is ended: SIG,MS,SIG,MS,...'
complete -c forkpool -n __fish_forkpool_in_options -l retries -x -d 'Run a failed job up to N times in all'
complete -c forkpool -n __fish_forkpool_in_options -l tty -d 'Give each job the terminal as stdin and foreground, one at a time'
complete -c forkpool -n __fish_forkpool_in_options -s o -l open-tty -d 'Same as --tty, as xargs -o'
complete -c forkpool -n __fish_forkpool_in_options -s p -l interactive -d 'Ask on the terminal before each job, run it on y'
complete -c forkpool -n __fish_forkpool_in_options -l process-slot-var -x -d 'Set a variable to each job\'s slot, counted from 0'
complete -c forkpool -n __fish_forkpool_in_options -l xargs-status -d 'Exit with the statuses of xargs: 123, 124, 125, 126, 127'
complete -c forkpool -n __fish_forkpool_in_options -l delay -x -d 'Wait at least a duration (0.5, 2s, 1m) between job starts'
complete -c forkpool -n __fish_forkpool_in_options -l halt -x -a '(__fish_forkpool_halt)' -d 'Stop early: now|soon,fail|success|done=N or N%'
complete -c forkpool -n __fish_forkpool_in_options -l load -x -a '1 2 4 50% 100% 200%' -d 'Start no job while the load average is above MAX, or N% of the CPUs'
complete -c forkpool -n __fish_forkpool_in_options -l memfree -x -a '256M 512M 1G 2G 4G' -d 'Start no job while less memory is available than SIZE'
complete -c forkpool -n __fish_forkpool_in_options -l joblog -r -F -d 'Log each finished job to FILE (+FILE appends, - is stdout)'
complete -c forkpool -n __fish_forkpool_in_options -l resume -d 'Skip the jobs already in the job log'
complete -c forkpool -n __fish_forkpool_in_options -l resume-failed -d 'Skip the jobs the job log shows succeeded'
complete -c forkpool -n __fish_forkpool_in_options -l retry-failed -d 'Run only the failed commands of the job log again'
complete -c forkpool -n __fish_forkpool_in_options -l junit -r -F -d 'Write a JUnit XML report of the jobs to FILE'

# Output
complete -c forkpool -n __fish_forkpool_in_options -l group -d 'Print each job\'s output whole when it finishes (default)'
complete -c forkpool -n __fish_forkpool_in_options -s k -l keep-order -d 'Print output in input order'
complete -c forkpool -n __fish_forkpool_in_options -l no-keep-order -d 'Print output as jobs end, undoing -k'
complete -c forkpool -n __fish_forkpool_in_options -l line-buffer -d 'Print whole lines as soon as they arrive'
complete -c forkpool -n __fish_forkpool_in_options -s u -l ungroup -d 'Pass output straight through (-k has no effect)'
complete -c forkpool -n __fish_forkpool_in_options -l output-on-failure -d 'Print a job\'s output only if the job failed'
complete -c forkpool -n __fish_forkpool_in_options -l tag -d 'Prefix output lines with the job\'s arguments and a TAB'
complete -c forkpool -n __fish_forkpool_in_options -l tagstring -x -d 'Prefix output lines with STR and a TAB'
complete -c forkpool -n __fish_forkpool_in_options -l color -f -a 'auto always never' -d 'Colour each job\'s tag or lines (--color=WHEN)'
complete -c forkpool -n __fish_forkpool_in_options -l tmpdir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Directory for held output spilled to disk'
complete -c forkpool -n __fish_forkpool_in_options -l files -d 'Save each job\'s stdout in a file and print its name'
complete -c forkpool -n __fish_forkpool_in_options -l summary -d 'Report on the run on stderr at its end'
complete -c forkpool -n __fish_forkpool_in_options -l results -r -F -d 'Keep each job\'s output in DIR, or a row per job in a .csv, .tsv or .json file'
complete -c forkpool -n __fish_forkpool_in_options -l dry-run -d 'Print each command instead of running it'
complete -c forkpool -n __fish_forkpool_in_options -s v -d 'Print each command on stdout before running it'
complete -c forkpool -n __fish_forkpool_in_options -s t -l verbose -d 'Print each command on stderr when it starts'
complete -c forkpool -n __fish_forkpool_in_options -l bar -d 'Show a progress bar on stderr when a terminal'
complete -c forkpool -n __fish_forkpool_in_options -l progress -d 'Show running and done jobs on stderr when a terminal'
complete -c forkpool -n __fish_forkpool_in_options -l eta -d 'Show the time and jobs left too (implies --progress)'

# Semaphore
complete -c forkpool -n __fish_forkpool_in_options -l semaphore -d 'Run the command once, holding a slot of a shared semaphore'
complete -c forkpool -n __fish_forkpool_in_options -l id -x -d 'Name of the semaphore'
complete -c forkpool -n __fish_forkpool_in_options -l bg -d 'Return once the command started (default)'
complete -c forkpool -n __fish_forkpool_in_options -l fg -d 'Wait for the command and exit with its status'
complete -c forkpool -n __fish_forkpool_in_options -l wait -d 'Wait until no command holds a slot of the semaphore'
complete -c forkpool -n __fish_forkpool_in_options -l semaphoretimeout -x -a '10 60 -10 -60' -d 'With no slot after SECS, run anyway (> 0) or give up (< 0)'
complete -c forkpool -n __fish_forkpool_in_options -l st -x -a '10 60 -10 -60' -d 'Same as --semaphoretimeout'
complete -c forkpool -n __fish_forkpool_in_options -l semaphore-timeout -x -a '10 60 -10 -60' -d 'Same as --semaphoretimeout'
complete -c forkpool -n __fish_forkpool_in_options -l semaphore-name -x -d 'Same as --id'
complete -c forkpool -n __fish_forkpool_in_options -l semaphorename -x -d 'Same as --id'
# forkpool-sem is forkpool --semaphore.
complete -c forkpool-sem -w forkpool

# Other
complete -c forkpool -n __fish_forkpool_in_options -s P -l max-procs -x -d 'Same as --jobs'
complete -c forkpool -n __fish_forkpool_in_options -s C -l col-sep -x -d 'Same as --colsep'
complete -c forkpool -n __fish_forkpool_in_options -l argfile -r -F -d 'Same as --arg-file'
complete -c forkpool -n __fish_forkpool_in_options -l xapply -d 'Same as --link'
complete -c forkpool -n __fish_forkpool_in_options -l linebuffer -d 'Same as --line-buffer'
complete -c forkpool -n __fish_forkpool_in_options -l lb -d 'Same as --line-buffer'
complete -c forkpool -n __fish_forkpool_in_options -l line-buffered -d 'Same as --line-buffer'
complete -c forkpool -n __fish_forkpool_in_options -l keeporder -d 'Same as --keep-order'
complete -c forkpool -n __fish_forkpool_in_options -l dryrun -d 'Same as --dry-run'
complete -c forkpool -n __fish_forkpool_in_options -l halt-on-error -x -d 'Same as --halt'
complete -c forkpool -n __fish_forkpool_in_options -l res -r -F -d 'Same as --results'
complete -c forkpool -n __fish_forkpool_in_options -l jl -r -F -d 'Same as --joblog'
complete -c forkpool -n __fish_forkpool_in_options -l output-as-files -d 'Same as --files'
complete -c forkpool -n __fish_forkpool_in_options -l will-cite -d 'Accepted and ignored, for GNU parallel\'s scripts'
complete -c forkpool -n __fish_forkpool_in_options -l no-notice -d 'Accepted and ignored, for GNU parallel\'s scripts'
complete -c forkpool -n __fish_forkpool_in_options -l gnu -d 'Accepted and ignored, for GNU parallel\'s scripts'
complete -c forkpool -n __fish_forkpool_in_options -l citation -d 'Print nothing and exit'
complete -c forkpool -n __fish_forkpool_in_options -l bibtex -d 'Print nothing and exit'
complete -c forkpool -n __fish_forkpool_in_options -l number-of-threads -d 'Print the hardware threads forkpool may use and exit'
complete -c forkpool -n __fish_forkpool_in_options -l number-of-cores -d 'Print the physical cores forkpool may use and exit'
complete -c forkpool -n __fish_forkpool_in_options -l number-of-cpus -d 'Same as --number-of-cores'
complete -c forkpool -n __fish_forkpool_in_options -l number-of-sockets -d 'Print the CPU sockets forkpool may use and exit'
complete -c forkpool -n __fish_forkpool_in_options -s h -l help -d 'Print the help and exit'
complete -c forkpool -n __fish_forkpool_in_options -s V -l version -d 'Print the version and exit'
