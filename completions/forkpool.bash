# bash completion for forkpool                             -*- shell-script -*-
#
# Source this file, or install it as
# $(pkg-config --variable=completionsdir bash-completion)/forkpool.
# It needs nothing but bash itself.

_forkpool_long_opts='--arg-file --null --delimiter --colsep --trim --header --csv --no-run-if-empty
--link --shuf --plus --partition --arg-sep --arg-file-sep --eof --replace --max-args
--max-replace-args --max-lines --xargs --max-chars --exit --max-line-length-allowed
--shell --exec-mode
--quote --workdir --wd --env --nice
--pipe --spreadstdin --pipe-part --block --block-size --recend --recstart --regexp
--rrs --remove-rec-sep --removerecsep --round-robin --round --cat --fifo
--jobs --workers --max-tasks --sshlogin --sshloginfile --slf --ssh --no-multiplex --controlmaster --sshdelay --ssh-delay --onall --nonall
--slurm --slurm-alloc
--transferfile --tf --transfer --return --cleanup --trc --basefile --bf --timeout --termseq --retries --tty --open-tty --interactive
--process-slot-var --xargs-status --delay --halt --load --memfree --joblog
--resume --resume-failed --retry-failed --junit --group --keep-order --no-keep-order --line-buffer
--ungroup --output-on-failure --tag --tagstring --color --tmpdir --files --results --summary --dry-run --verbose --bar --progress --eta
--max-procs --col-sep --argfile --xapply --linebuffer --lb --line-buffered
--keeporder --dryrun --halt-on-error --res --jl --output-as-files
--semaphore --id --bg --fg --wait --semaphoretimeout --st --semaphore-name
--semaphorename --semaphore-timeout
--will-cite --no-notice --gnu --citation --bibtex
--number-of-threads --number-of-cores --number-of-sockets --number-of-cpus
--help --version'

_forkpool_short_opts='-a -0 -d -r -E -e -I -i -n -N -L -l -X -m -s -x -q -j -P -o -p -C -k -u -v -t -h -V -S -M'

# Options whose argument is the next word.
_forkpool_opt_takes_arg()
{
    case $1 in
        -a | --arg-file | -d | --delimiter | --colsep | --trim | --header | -I | -n | \
        --max-args | -E | -L | --arg-sep | --arg-file-sep | \
        -N | --max-replace-args | -s | --max-chars | --shell | --exec-mode | \
        --workdir | --wd | --env | --nice | \
        -j | --jobs | --max-tasks | -S | --sshlogin | --sshloginfile | --slf | --ssh | --sshdelay | --ssh-delay | --timeout | --termseq | --retries | --delay | --halt | \
        --load | --memfree | --joblog | --junit | --tagstring | --tmpdir | --partition | --results | \
        -P | --max-procs | -C | --col-sep | --argfile | --halt-on-error | --res | --jl | \
        --id | --semaphore-name | --semaphorename | --semaphoretimeout | --st | \
        --semaphore-timeout | --process-slot-var | --block | --block-size | \
        --recend | --recstart | \
        --transferfile | --tf | --return | --trc | --basefile | --bf | --slurm-alloc)
            return 0 ;;
    esac
    return 1
}

# Fill COMPREPLY with the lines of compgen's output (names may hold blanks).
_forkpool_compgen()
{
    local line
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(compgen "$@")
}

_forkpool_files()
{
    _forkpool_compgen -f -- "$1"
    compopt -o filenames 2>/dev/null
}

_forkpool_dirs()
{
    _forkpool_compgen -d -- "$1"
    compopt -o filenames 2>/dev/null
}

_forkpool_shells()
{
    local line shells=()
    if [[ -r /etc/shells ]]; then
        while IFS= read -r line; do
            case $line in /*) shells+=("$line") ;; esac
        done < /etc/shells
    fi
    _forkpool_compgen -W "${shells[*]}" -- "$1"
    # Not a listed shell: complete any path.
    if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
        _forkpool_files "$1"
    fi
}

# Complete the argument of option $1, the current word being $2.
_forkpool_opt_arg()
{
    case $1 in
        -a | --arg-file | --argfile | --junit)
            _forkpool_files "$2" ;;
        --tmpdir)
            _forkpool_dirs "$2" ;;
        --transferfile | --tf | --return | --trc | --basefile | --bf)
            # A template ({} and the like) or a file.
            _forkpool_files "$2"
            [[ {} == "$2"* ]] && COMPREPLY+=({}) ;;
        --sshloginfile | --slf)
            # .. and . are GNU parallel's files in ~/.parallel and /etc.
            _forkpool_files "$2"
            [[ .. == "$2"* ]] && COMPREPLY+=(..) ;;
        -S | --sshlogin)
            _forkpool_compgen -A hostname -W : -- "$2" ;;
        --ssh)
            _forkpool_compgen -c -- "$2" ;;
        --workdir | --wd)
            # ... is a private temporary directory.
            _forkpool_dirs "$2"
            [[ ... == "$2"* ]] && COMPREPLY+=(...) ;;
        --env)
            _forkpool_compgen -e -W _ -- "$2" ;;
        --nice)
            _forkpool_compgen -W '1 5 10 19' -- "$2" ;;
        --slurm-alloc)
            # salloc's options, free text: nothing to offer.
            COMPREPLY=() ;;
        --results | --res)
            # A directory, or a .csv, .tsv or .json table.
            _forkpool_files "$2" ;;
        --shell)
            _forkpool_shells "$2" ;;
        --exec-mode)
            _forkpool_compgen -W 'auto shell direct' -- "$2" ;;
        --trim)
            _forkpool_compgen -W 'n l r lr rl' -- "$2" ;;
        -j | --jobs | -P | --max-procs)
            _forkpool_compgen -W '0 1 2 4 8 +0 -1 50% 100%' -- "$2" ;;
        --joblog)
            # A leading + appends to FILE.
            if [[ $2 == +* ]]; then
                local k
                _forkpool_files "${2#+}"
                for k in "${!COMPREPLY[@]}"; do
                    COMPREPLY[k]=+${COMPREPLY[k]}
                done
            else
                _forkpool_files "$2"
            fi ;;
        --halt | --halt-on-error)
            _forkpool_compgen -W 'now,fail=1 soon,fail=1 now,success=1
                soon,success=1 now,done=1 soon,done=1 now,fail=10%
                soon,fail=10% never' -- "$2" ;;
        --termseq)
            _forkpool_compgen -W 'TERM,200,TERM,100,TERM,50,KILL,25
                INT,1000,TERM,1000,KILL,25 TERM,5000,KILL,25' -- "$2" ;;
        --timeout)
            _forkpool_compgen -W '10 60 5m 1h 200% 300%' -- "$2" ;;
        --memfree)
            _forkpool_compgen -W '256M 512M 1G 2G 4G' -- "$2" ;;
        --block | --block-size)
            _forkpool_compgen -W '64k 1M 10M 100M' -- "$2" ;;
        --load)
            _forkpool_compgen -W '1 2 4 50% 100% 200%' -- "$2" ;;
        --partition)
            _forkpool_compgen -W '1/2 2/2 1/2,rr 2/2,rr' -- "$2" ;;
        --color)
            _forkpool_compgen -W 'auto always never' -- "$2" ;;
        --process-slot-var)
            _forkpool_compgen -W 'SLOT' -- "$2" ;;
        --semaphoretimeout | --st | --semaphore-timeout)
            _forkpool_compgen -W '10 60 -10 -60' -- "$2" ;;
        *)
            COMPREPLY=() ;;
    esac
}

_forkpool()
{
    local cword=${COMP_CWORD:-0}
    local cur=${COMP_WORDS[cword]-}
    local i j word ch
    COMPREPLY=()

    # Walk the words before the current one: options first, then the
    # command template, then input sources after ::: :::: :::+ ::::+.
    local state=opts        # opts, argof, command or source
    local argof=            # the option that waits for its argument
    local eq=0              # 1 if argof is a long option ("--opt=value")
    for (( i = 1; i < cword; i++ )); do
        word=${COMP_WORDS[i]}
        case $state in
            argof)
                # "--opt=value" is split by readline into --opt, =, value.
                if [[ $eq == 1 && $word == = ]]; then
                    eq=0
                    continue
                fi
                state=opts ;;
            opts)
                case $word in
                    --)
                        state=command ;;
                    :::|::::|:::+|::::+)
                        state=source ;;
                    --*=*)
                        ;;
                    --color)
                        # Its argument only after '=', split off by readline.
                        if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                            state=argof argof=$word eq=1
                        fi ;;
                    --?*)
                        if _forkpool_opt_takes_arg "$word"; then
                            state=argof argof=$word eq=1
                        fi ;;
                    -?*)
                        # A cluster of short options, as in -kj4 or -kj 4.
                        for (( j = 1; j < ${#word}; j++ )); do
                            ch=${word:j:1}
                            if _forkpool_opt_takes_arg "-$ch"; then
                                if (( j == ${#word} - 1 )); then
                                    state=argof argof=-$ch eq=0
                                fi
                                break
                            fi
                        done ;;
                    *)
                        state=command ;;
                esac ;;
            command)
                case $word in
                    :::|::::|:::+|::::+)
                        state=source ;;
                esac ;;
        esac
    done

    case $state in
        argof)
            if [[ $eq == 1 && $cur == = ]]; then
                cur=
            fi
            _forkpool_opt_arg "$argof" "$cur" ;;
        opts)
            if [[ $cur == --*=* ]]; then
                # "--opt=value" kept as one word.
                local opt=${cur%%=*} k
                if _forkpool_opt_takes_arg "$opt" || [[ $opt == --color ]]; then
                    _forkpool_opt_arg "$opt" "${cur#*=}"
                    for k in "${!COMPREPLY[@]}"; do
                        COMPREPLY[k]=$opt=${COMPREPLY[k]}
                    done
                fi
            elif [[ $cur == --* ]]; then
                _forkpool_compgen -W "$_forkpool_long_opts" -- "$cur"
            elif [[ $cur == -* ]]; then
                _forkpool_compgen -W "$_forkpool_long_opts $_forkpool_short_opts" -- "$cur"
            elif [[ $cur == :* ]]; then
                _forkpool_compgen -W '::: :::: :::+ ::::+' -- "$cur"
            elif [[ $cur == */* ]]; then
                # The command, given as a path.
                _forkpool_files "$cur"
            else
                # The first non-option word: the command.
                _forkpool_compgen -c -- "$cur"
                local -A seen=()
                local c uniq=()
                for c in "${COMPREPLY[@]}"; do
                    [[ -n ${seen[$c]-} ]] && continue
                    seen[$c]=1
                    uniq+=("$c")
                done
                COMPREPLY=("${uniq[@]}")
            fi ;;
        command | source)
            if [[ $cur == :* ]]; then
                _forkpool_compgen -W '::: :::: :::+ ::::+' -- "$cur"
            else
                # Arguments of the command, ::: values and :::: files.
                _forkpool_files "$cur"
            fi ;;
    esac
    return 0
}

complete -F _forkpool forkpool forkpool-sem
