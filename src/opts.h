/*
 * The command line: the option table, its validation and the --help text.
 * opts_parse() fills a struct opts that the rest of forkpool treats as
 * read-only; every pointer in it points into argv or into memory owned by
 * the struct until opts_free().
 */
#ifndef FORKPOOL_OPTS_H
#define FORKPOOL_OPTS_H

#include <stddef.h>

#define FORKPOOL_VERSION	"0.1.0"

enum exec_mode {
	EXEC_AUTO,		/* direct exec when the template allows it */
	EXEC_SHELL,		/* always through the shell */
	EXEC_DIRECT		/* never through the shell */
};

enum out_mode {
	OUT_GROUP,		/* whole output of a job at once */
	OUT_LINE,		/* whole lines as they come */
	OUT_UNGROUP		/* bytes straight through */
};

/* --color: whether output is coloured. */
enum color_mode {
	COLOR_NEVER,
	COLOR_AUTO,		/* each of stdout and stderr that is a
				   terminal, if NO_COLOR is unset or empty */
	COLOR_ALWAYS
};

/* --trim: which ends of a value lose their blanks. */
enum trim {
	TRIM_NONE = 0,
	TRIM_LEFT = 1,
	TRIM_RIGHT = 2,
	TRIM_BOTH = TRIM_LEFT | TRIM_RIGHT
};

/* PCRE2's compiled pattern (pcre2_code); only its users include pcre2.h. */
struct pcre2_real_code_8;

enum source_kind {
	SOURCE_VALUES,		/* ::: VALUE... */
	SOURCE_FILE		/* -a FILE, :::: FILE */
};

/* One input source as given on the command line. */
struct source_spec {
	enum source_kind	 kind;
	char			**values;	/* SOURCE_VALUES: into argv */
	size_t			 nvalues;
	const char		*path;		/* SOURCE_FILE: "-" is stdin */
	int			 linked;	/* :::+ or ::::+: pairs with the previous */
};

/* One -S/--sshlogin value or --sshloginfile, as given. */
struct login_arg {
	char		 opt[24];	/* the option as given, for messages */
	const char	*value;		/* into argv or $FORKPOOL's words */
	int		 file;		/* a --sshloginfile */
};

/* One step of the termination sequence: send sig, then wait ms. */
struct term_step {
	int		 sig;
	int		 ms;
};

enum halt_when {
	HALT_NEVER,
	HALT_SOON,		/* start no new job, wait for the running */
	HALT_NOW		/* end the running jobs too */
};

enum halt_what {
	HALT_FAIL,
	HALT_SUCCESS,
	HALT_DONE
};

struct halt {
	enum halt_when		 when;
	enum halt_what		 what;
	unsigned long long	 n;		/* jobs, or percent with pct */
	int			 pct;
};

enum resume_mode {
	RESUME_NONE,
	RESUME,			/* skip jobs in the joblog */
	RESUME_FAILED,		/* skip jobs that succeeded in the joblog */
	RETRY_FAILED		/* run only the joblog's failed commands */
};

struct opts {
	struct source_spec	*sources;	/* owned; empty: stdin */
	size_t			 nsources;
	char			 delim;		/* record terminator */
	char			 csv_sep;	/* --csv's field separator */
	const char		*colsep;	/* the pattern, into argv, or NULL */
	struct pcre2_real_code_8 *colsep_re;	/* colsep compiled, owned */
	const char		*header;	/* --header as given, or NULL */
	struct pcre2_real_code_8 *header_re;	/* --header REGEX, owned */
	unsigned int		 header_lines;	/* its lines; 0: header_re */
	int			 csv;		/* --csv: records are CSV */
	enum trim		 trim;		/* --trim, rl with --colsep */
	int			 no_run_if_empty;
	int			 link;
	int			 shuf;		/* --shuf: run in a random order */
	unsigned long long	 part_k;	/* --partition K/N: run share K */
	unsigned long long	 part_n;	/* of N; 0: every record */
	int			 part_rr;	/* ,rr: by record number */
	int			 replstr_given;	/* -I, -i, --replace: a command
						   without it gets no value */
	const char		*replstr;	/* "{}" or -I STR */
	const char		*eof_str;	/* -E: input ends there, or NULL */
	int			 plus;		/* --plus replacement strings */
	size_t			 max_args;	/* -n, 0 if not given */
	size_t			 max_replace_args; /* -N, 0 if not given */
	size_t			 max_lines;	/* -L, -l, 0 if not given */
	int			 no_values;	/* -n0, -N0, -L0: a record per
						   job, but no value on its line */
	int			 xargs;		/* -X: as many as fit */
	int			 multi;		/* -m, --xargs: as many as fit,
						   {} is all of them */
	int			 spread;	/* -X, -m: the last values spread
						   over the slots */
	int			 context;	/* the word around {} is repeated
						   per value: -X, -N, -L */
	int			 exit_size;	/* -x: stop at a job -s cuts short */
	size_t			 max_chars;	/* -s, 0 if not given */
	const char		*shell;		/* --shell or NULL */
	enum exec_mode		 exec_mode;
	int			 quote;		/* -q: the words are argv */
	const char		*workdir;	/* --workdir DIR, or NULL */
	const char		**env;		/* owned array of --env NAMEs,
						   strings into argv */
	size_t			 nenv;
	struct login_arg	*logins;	/* owned: -S, --sshloginfile,
						   in their order */
	size_t			 nlogins;
	const char		*ssh;		/* --ssh CMD, or NULL */
	/* Files moved for remote jobs: templates, into argv. */
	const char		**transfers;	/* owned: --transferfile */
	size_t			 ntransfers;
	const char		**returns;	/* owned: --return */
	size_t			 nreturns;
	const char		**basefiles;	/* owned: --basefile, names */
	size_t			 nbasefiles;
	int			 nice;		/* --nice N, added */
	unsigned int		 jobs;		/* resolved -j; UINT_MAX for
						   a semaphore's -j 0 */
	int			 jobs_given;	/* -j was given */
	int			 no_multiplex;	/* --no-multiplex */
	int			 transfer;	/* --transfer: {} as well */
	int			 cleanup;	/* --cleanup */
	long long		 sshdelay_ms;	/* --sshdelay SECS, 0: none */
	int			 onall;		/* --onall: every job on every
						   host */
	int			 nonall;	/* --nonall: the command once
						   on every host */
	int			 slurm;		/* --slurm: jobs are job steps */
	const char		*slurm_alloc;	/* --slurm-alloc ARGS: salloc's
						   options, or NULL */
	enum out_mode		 out_mode;
	int			 keep_order;
	int			 output_on_failure; /* print failed jobs only */
	enum color_mode		 color;
	int			 summary;	/* report at the end on stderr */
	int			 tag;
	const char		*tagstring;
	const char		*tmpdir;
	int			 files;		/* --files */
	const char		*junit;		/* --junit FILE, or NULL */
	const char		*results;	/* --results NAME, or NULL */
	int			 dry_run;
	int			 print_stdout;	/* -v */
	int			 print_stderr;	/* -t */
	int			 bar;		/* --bar */
	int			 progress;	/* --progress, or --eta */
	int			 eta;		/* --eta */
	long long		 timeout_ms;	/* --timeout SECS, 0: none */
	unsigned int		 timeout_pct;	/* --timeout N%, 0: none */
	struct term_step	*termseq;	/* owned */
	size_t			 ntermseq;
	unsigned int		 retries;	/* attempts in all, at least 1 */
	int			 tty;		/* --tty: jobs get the terminal */
	const char		*tty_name;	/* --tty, -o or --open-tty as
						   given, for messages */
	const char		*ask;		/* -p or --interactive as given:
						   ask before each job; or NULL */
	const char		*slot_var;	/* --process-slot-var NAME, or
						   NULL */
	long long		 delay_ms;
	struct halt		 halt;
	double			 load;		/* --load, 0: none */
	unsigned long long	 memfree;	/* --memfree bytes, 0: none */
	const char		*joblog;	/* path, without a leading + */
	int			 joblog_append;
	enum resume_mode	 resume;
	int			 semaphore;	/* --semaphore, or implied */
	const char		*sem_id;	/* --id NAME, or NULL */
	int			 sem_fg;	/* --fg */
	int			 sem_wait;	/* --wait */
	long long		 sem_timeout_ms; /* --semaphoretimeout: > 0 run
						   anyway, < 0 give up; 0 none */
	const char		*sem_timeout_arg; /* as given, into argv */
	int			 print_line_max; /* --max-line-length-allowed */
	int			 xargs_status;	/* exit status as xargs's */
	int			 workers;	/* --workers: -j long-lived
						   processes, a record each on
						   stdin at a time */
	int			 pipe;		/* --pipe: blocks of stdin, one
						   to each job's stdin */
	int			 pipe_part;	/* --pipe-part: blocks of the
						   -a FILE, spliced */
	int			 regexp;	/* --regexp: those are PCRE2 */
	int			 rrs;		/* --rrs: the job gets no
						   separators */
	int			 round_robin;	/* --round-robin */
	int			 cat;		/* --cat: {} names a file of the
						   block */
	int			 fifo;		/* --fifo: {} names a named pipe
						   of the block */
	size_t			 max_tasks;	/* --max-tasks: records per
						   worker, 0: no limit */
	unsigned long long	 block;		/* --block bytes (default 1M) */
	unsigned long long	 block_slots;	/* --block -N: N blocks per job
						   slot (--pipe-part), or 0 */
	const char		*recend;	/* --recend as given, or NULL */
	const char		*recstart;	/* --recstart as given, or NULL */
	const char		*arg_sep;	/* ":::" or --arg-sep STR */
	const char		*arg_file_sep;	/* "::::" or --arg-file-sep STR */
	char			**cmd;		/* the template words, into argv */
	size_t			 ncmd;
	char			*env_words;	/* $FORKPOOL's words, owned; the
						   options' arguments point in */
	char			**env_argv;	/* owned, into env_words */
	char			**respelled;	/* owned: option words given in
						   another spelling, as read */
	size_t			 nrespelled;
};

/* What opts_parse() found. */
enum opts_result {
	OPTS_RUN,		/* go on and run */
	OPTS_EXIT_OK,		/* --help or --version was printed */
	OPTS_ERROR		/* a message was printed; exit 255 */
};

/*
 * Fill the struct from the options in $FORKPOOL, then from argv, whose
 * options come later and so win.  After OPTS_RUN the caller releases it
 * with opts_free(); after the other results nothing is left allocated.
 */
enum opts_result	opts_parse(struct opts *, int, char **);
void			opts_free(struct opts *);

/* Where temporary files go: --tmpdir, $TMPDIR or /tmp. */
const char	       *opts_tmpdir(const struct opts *);

/*
 * Compile pattern (borrowed) as the --colsep of the struct, replacing
 * any before it; -1 after a message naming --colsep and the pattern.
 */
int			opts_set_colsep(struct opts *, const char *);

#endif
