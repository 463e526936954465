/*
 * --onall: all the jobs on every host of -S and --sshloginfile; --nonall:
 * the command once on every host, with no input.
 *
 * The input is read once, here, into unlinked temporary files: stdin and
 * every -a or :::: file.  Then each host gets a run of forkpool of its
 * own, a child forked before any job ran, which runs the whole list on
 * that host alone, one job at a time, as "forkpool -S LOGIN -j1" would
 * (GNU parallel's --onall also runs one parallel per host).  It reads the
 * copies from the start: opening /dev/fd/N opens the file anew.  The
 * child is a fork, not an exec of forkpool: the options need no writing
 * back into words, so a value is passed on exactly as it was parsed.
 *
 * At most -j hosts run at once; without -j, all of them.  With --group,
 * the default, a host's stdout and stderr go to temporary files that are
 * printed whole when its run ends, so that a host's output stays
 * together: with -k in the order the hosts were given, else as their
 * runs end.  With --line-buffer and -u the runs write to forkpool's own
 * stdout and stderr.  --tag tags with the host.  The runs share the
 * --joblog, each appending its rows under a lock (joblog.c): every job
 * on every host has a row.
 *
 * The children are in process groups of their own, so that a signal
 * reaches each once: SIGINT, SIGTERM and SIGHUP are passed on, and each
 * run ends its jobs as it does alone.  A child gets SIGTERM when
 * forkpool dies (PR_SET_PDEATHSIG), even of SIGKILL, so that no run goes
 * on alone.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "loop.h"
#include "onall.h"
#include "opts.h"
#include "util.h"

/* The statuses a run gives, as run.c's. */
#define EXIT_MAX_FAILED		101
#define EXIT_STDOUT_CLOSED	141

/* One host and its run. */
struct host_run {
	char		*login;		/* owned: a -S value of its own */
	char		*name;		/* owned: the host, --tag's string */
	pid_t		 pid;		/* its run, while it runs; else 0 */
	int		 out;		/* --group: its stdout, or -1 */
	int		 err;		/* --group: its stderr, or -1 */
	int		 status;	/* its wait status, once ended */
	int		 ended;
	int		 printed;	/* its output was printed */
};

struct onall {
	const struct opts	*o;
	struct host_run		*hosts;		/* owned */
	size_t			 nhosts;
	int			 grouped;	/* output held per host */
	int			 in;		/* the copy of stdin, or -1 */
	int			*copies;	/* owned: source i -> the copy
						   of its file, or -1 */
	char			**paths;	/* owned: source i -> the
						   copy's /dev/fd path, or
						   NULL */
	int			 out_closed;	/* stdout's reader is gone */
	int			 out_failed;	/* writing stdout or stderr
						   failed otherwise */
};

/*
 * The signal to pass on to the runs: the handler's only way to tell the
 * loop, which looks at it with the signals blocked.
 */
static volatile sig_atomic_t	 pending_signal;

/* Remember a signal for the loop. */
static void
on_signal(int sig)
{
	pending_signal = sig;
}

/* A run ended: sigsuspend() returns, the loop reaps it. */
static void
on_child(int sig)
{
	(void)sig;
}

/* Refuse what the runs of the hosts cannot share; -1 after a message. */
static int
check_onall(const struct opts *o)
{
	const char	*opt = o->nonall ? "--nonall" : "--onall";
	const char	*other = NULL;

	if (o->nlogins == 0) {
		warnx("%s needs remote hosts: -S or --sshloginfile", opt);
		return -1;
	}
	if (o->nonall && o->nsources > 0) {
		warnx("--nonall takes no input source (-a, :::, ::::): it runs "
		    "the command once on every host");
		return -1;
	}
	if (o->nonall && (o->ncmd == 0 || o->pipe)) {
		warnx(o->ncmd == 0 ? "--nonall needs a command" :
		    "--nonall cannot be used with --pipe: it reads no input");
		return -1;
	}
	if (o->results != NULL)
		other = "--results";
	else if (o->junit != NULL)
		other = "--junit";
	else if (o->summary)
		other = "--summary";
	else if (o->bar || o->progress)
		other = o->bar ? "--bar" : o->eta ? "--eta" : "--progress";
	else if (o->ask != NULL)
		other = o->ask;
	else if (o->resume != RESUME_NONE)
		other = o->resume == RESUME ? "--resume" : o->resume ==
		    RESUME_FAILED ? "--resume-failed" : "--retry-failed";
	if (other == NULL)
		return 0;
	warnx("%s cannot be used with %s: the hosts' runs would each have "
	    "their own", opt, other);
	return -1;
}

/*
 * Copy what fd reads into a new unlinked file of dir; the file's
 * descriptor, or -1 after a message naming what was read (name).
 */
static int
copy_to_temp(int fd, const char *name, const char *dir)
{
	char	 chunk[65536];
	ssize_t	 n;
	int	 t;

	if ((t = temp_file(dir, NULL)) == -1) {
		warn("cannot create a temporary file in %s", dir);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			warn("%s", name);
			(void)close(t);
			return -1;
		}
		if (write_all(t, chunk, (size_t)n) == -1) {
			warn("writing a temporary file in %s", dir);
			(void)close(t);
			return -1;
		}
	}
	return t;
}

/*
 * Read the input once: stdin, when a run would read it, and every file
 * source, each into a copy.  -1 after a message.
 */
static int
copy_input(struct onall *a)
{
	const struct opts	*o = a->o;
	const char		*dir = opts_tmpdir(o);
	const char		*path;
	size_t			 i;
	int			 fd, stdin_read = 0;

	a->copies = xcalloc(o->nsources + 1, sizeof(*a->copies));
	a->paths = xcalloc(o->nsources + 1, sizeof(*a->paths));
	for (i = 0; i < o->nsources; i++) {
		a->copies[i] = -1;
		if (o->sources[i].kind != SOURCE_FILE)
			continue;
		path = o->sources[i].path;
		if (strcmp(path, "-") == 0) {
			stdin_read = 1;
			continue;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			warn("%s", path);
			return -1;
		}
		a->copies[i] = copy_to_temp(fd, path, dir);
		(void)close(fd);
		if (a->copies[i] == -1)
			return -1;
		if (asprintf(&a->paths[i], "/dev/fd/%d", a->copies[i]) == -1)
			err(EXIT_FORKPOOL_ERROR, "asprintf");
	}
	/* Without a source the input is stdin, which --nonall leaves. */
	if ((o->nsources == 0 && !o->nonall) || stdin_read) {
		if ((a->in = copy_to_temp(STDIN_FILENO, "stdin", dir)) == -1)
			return -1;
	}
	return 0;
}

/*
 * Empty the --joblog now, unless it is appended to: the runs append
 * their rows.  -1 after a message.
 */
static int
start_joblog(const struct opts *o)
{
	int	 fd;

	if (o->joblog == NULL || o->joblog_append ||
	    strcmp(o->joblog, "-") == 0)
		return 0;
	if (check_writable("--joblog", o->joblog) == -1)
		return -1;
	if ((fd = open(o->joblog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1) {
		warn("--joblog %s", o->joblog);
		return -1;
	}
	(void)close(fd);
	return 0;
}

/*
 * In the child, the options of the run of host h: its login alone, one
 * job at a time, the copies for the files.  *logins and *sources are
 * the arrays made here, for the caller to free.
 */
static void
host_options(const struct onall *a, const struct host_run *h,
    struct opts *c, struct login_arg **logins, struct source_spec **sources)
{
	static char	*none[] = { (char *)"" };
	const struct opts	*o = a->o;
	size_t		 i;

	*c = *o;
	c->onall = c->nonall = 0;
	*logins = xcalloc(1, sizeof(**logins));
	strlcpy((*logins)->opt, "-S", sizeof((*logins)->opt));
	(*logins)->value = h->login;
	c->logins = *logins;
	c->nlogins = 1;
	c->jobs = 1;
	c->jobs_given = 1;
	if (o->tag && o->tagstring == NULL) {
		c->tag = 0;
		c->tagstring = h->name;
	}
	if (o->joblog != NULL && strcmp(o->joblog, "-") != 0)
		c->joblog_append = 1;
	if (o->nonall) {
		/* One job with no value: as -N0 ::: "". */
		*sources = xcalloc(1, sizeof(**sources));
		(*sources)->kind = SOURCE_VALUES;
		(*sources)->values = none;
		(*sources)->nvalues = 1;
		c->nsources = 1;
		c->no_values = 1;
		c->max_replace_args = 1;
		c->max_args = c->max_lines = 0;
		c->xargs = c->multi = c->spread = c->context = 0;
	} else {
		*sources = xcalloc(o->nsources + 1, sizeof(**sources));
		for (i = 0; i < o->nsources; i++) {
			(*sources)[i] = o->sources[i];
			if (a->paths[i] != NULL)
				(*sources)[i].path = a->paths[i];
		}
	}
	c->sources = *sources;
}

/* Release what the struct holds. */
static void
onall_free(struct onall *a)
{
	size_t	 i;

	for (i = 0; i < a->nhosts; i++) {
		free(a->hosts[i].login);
		free(a->hosts[i].name);
		if (a->hosts[i].out != -1)
			(void)close(a->hosts[i].out);
		if (a->hosts[i].err != -1)
			(void)close(a->hosts[i].err);
	}
	free(a->hosts);
	for (i = 0; a->copies != NULL && i < a->o->nsources; i++) {
		if (a->copies[i] != -1)
			(void)close(a->copies[i]);
		free(a->paths[i]);
	}
	free(a->copies);
	free(a->paths);
	if (a->in != -1)
		(void)close(a->in);
}

/*
 * The child of host h, forked by parent: its stdin, stdout and stderr
 * set, it runs the jobs and exits with the run's status.  Never returns.
 */
static void
run_host(struct onall *a, struct host_run *h, const sigset_t *mask,
    pid_t parent, int (*run)(const struct opts *))
{
	struct login_arg	*logins;
	struct source_spec	*sources;
	struct opts		 c;
	char			 path[32];
	int			 fd = -1, status;

	/* forkpool may have died before the signal was asked for. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(EXIT_FORKPOOL_ERROR);
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	(void)sigprocmask(SIG_SETMASK, mask, NULL);
	(void)setpgid(0, 0);
	if (a->in != -1) {
		(void)snprintf(path, sizeof(path), "/dev/fd/%d", a->in);
		fd = open(path, O_RDONLY);
	} else if (a->o->nonall)
		fd = open("/dev/null", O_RDONLY);
	if (fd != -1 && fd != STDIN_FILENO) {
		(void)dup2(fd, STDIN_FILENO);
		(void)close(fd);
	}
	if (a->grouped) {
		(void)dup2(h->out, STDOUT_FILENO);
		(void)dup2(h->err, STDERR_FILENO);
	}
	host_options(a, h, &c, &logins, &sources);
	status = run(&c);
	free(logins);
	free(sources);
	onall_free(a);
	exit(status);
}

/*
 * Start the run of host h; -1 after a message when it cannot start, and
 * h has then ended with status 255.
 */
static int
start_host(struct onall *a, struct host_run *h, const sigset_t *mask,
    int (*run)(const struct opts *))
{
	const char	*dir = opts_tmpdir(a->o);
	pid_t		 parent = getpid(), pid;

	if (a->grouped && ((h->out = temp_file(dir, NULL)) == -1 ||
	    (h->err = temp_file(dir, NULL)) == -1)) {
		warn("cannot create a temporary file in %s", dir);
		h->ended = 1;
		h->status = EXIT_FORKPOOL_ERROR << 8;
		return -1;
	}
	/* What is buffered would be written by the child too. */
	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		warn("%s: cannot start its run", h->name);
		h->ended = 1;
		h->status = EXIT_FORKPOOL_ERROR << 8;
		return -1;
	}
	if (pid == 0)
		run_host(a, h, mask, parent, run);
	/* Both sides, so that a signal sent at once finds the group. */
	(void)setpgid(pid, pid);
	h->pid = pid;
	return 0;
}

/* Copy the held output of a run from fd to out; -1 on a write error. */
static int
print_held(struct onall *a, int fd, int out)
{
	char	 chunk[65536];
	ssize_t	 n;

	if (fd == -1 || lseek(fd, 0, SEEK_SET) == -1)
		return 0;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return 0;
		if (write_all(out, chunk, (size_t)n) == -1) {
			if (errno == EPIPE && out == STDOUT_FILENO)
				a->out_closed = 1;
			else
				a->out_failed = 1;
			return -1;
		}
	}
	return 0;
}

/*
 * Print the output of the runs that ended and whose turn it is; with
 * all, of every run that ended.
 */
static void
print_ended(struct onall *a, int all)
{
	struct host_run	*h;
	size_t		 i;

	for (i = 0; i < a->nhosts; i++) {
		h = &a->hosts[i];
		if (!h->ended) {
			/* -k: a host's output waits for those before it. */
			if (a->o->keep_order && !all)
				return;
			continue;
		}
		if (h->printed || !a->grouped)
			continue;
		h->printed = 1;
		if (!a->out_closed)
			(void)print_held(a, h->out, STDOUT_FILENO);
		(void)print_held(a, h->err, STDERR_FILENO);
		(void)close(h->out);
		(void)close(h->err);
		h->out = h->err = -1;
	}
}

/* Reap the runs that ended; returns how many. */
static size_t
reap_hosts(struct onall *a)
{
	size_t	 i, n = 0;
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < a->nhosts; i++)
			if (a->hosts[i].pid == pid) {
				a->hosts[i].pid = 0;
				a->hosts[i].status = status;
				a->hosts[i].ended = 1;
				n++;
				break;
			}
	return n;
}

/*
 * The exit status of the whole: the failed jobs of all hosts added up
 * (at most 101), unless a run ended otherwise, with an error of its own
 * (255), a command that cannot run (126, 127), a closed stdout (141) or
 * a signal: then the highest such status.
 */
static int
total_status(const struct onall *a, int sig)
{
	unsigned long long	 failed = 0;
	size_t			 i;
	int			 code, worst = 0;

	if (sig != 0)
		return 128 + sig;
	for (i = 0; i < a->nhosts; i++) {
		if (!a->hosts[i].ended)
			continue;
		if (WIFSIGNALED(a->hosts[i].status))
			code = 128 + WTERMSIG(a->hosts[i].status);
		else
			code = WEXITSTATUS(a->hosts[i].status);
		if (code > EXIT_MAX_FAILED && code > worst)
			worst = code;
		else if (code <= EXIT_MAX_FAILED)
			failed += (unsigned long long)code;
	}
	if (a->out_failed)
		return EXIT_FORKPOOL_ERROR;
	if (worst != 0)
		return worst;
	if (a->out_closed)
		return EXIT_STDOUT_CLOSED;
	return failed > EXIT_MAX_FAILED ? EXIT_MAX_FAILED : (int)failed;
}

/* Wait until --sshdelay after the last start, then count one now. */
static void
pace(const struct opts *o, long long *last)
{
	struct timespec	 ts;
	long long	 wait;

	if (o->sshdelay_ms > 0 &&
	    (wait = *last + o->sshdelay_ms - loop_now_ms()) > 0) {
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	*last = loop_now_ms();
}

/* See onall.h. */
int
onall_run(const struct opts *o, int (*run)(const struct opts *))
{
	struct onall		 a;
	struct sigaction	 sa, old[4];
	sigset_t		 block, mask;
	static const int	 sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	char			**values, **names;
	size_t			 i, next = 0, running = 0, max;
	long long		 last = 0;
	int			 n, sig = 0, status;

	memset(&a, 0, sizeof(a));
	a.o = o;
	a.in = -1;
	if (check_onall(o) == -1 || (n = exec_ssh_logins(o, &values,
	    &names)) == -1)
		return EXIT_FORKPOOL_ERROR;
	a.nhosts = (size_t)n;
	a.hosts = xcalloc(a.nhosts, sizeof(*a.hosts));
	for (i = 0; i < a.nhosts; i++) {
		a.hosts[i].login = values[i];
		a.hosts[i].name = names[i];
		a.hosts[i].out = a.hosts[i].err = -1;
	}
	free(values);
	free(names);
	a.grouped = o->out_mode == OUT_GROUP;
	if (copy_input(&a) == -1 || start_joblog(o) == -1) {
		onall_free(&a);
		return EXIT_FORKPOOL_ERROR;
	}
	max = o->jobs_given && o->jobs < a.nhosts ? o->jobs : a.nhosts;
	if (max == 0)
		max = 1;
	/* Blocked but in sigsuspend(): the loop sees every signal. */
	sigemptyset(&block);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++) {
		sigaddset(&block, sigs[i]);
		sa.sa_handler = sigs[i] == SIGCHLD ? on_child : on_signal;
		(void)sigaction(sigs[i], &sa, &old[i]);
	}
	(void)sigprocmask(SIG_BLOCK, &block, &mask);
	pending_signal = 0;
	for (;;) {
		while (next < a.nhosts && running < max && sig == 0) {
			if (next > 0)
				pace(o, &last);
			else
				last = loop_now_ms();
			if (start_host(&a, &a.hosts[next++], &mask, run) == 0)
				running++;
		}
		running -= reap_hosts(&a);
		print_ended(&a, 0);
		if (pending_signal != 0) {
			/* Hosts not started yet are not started. */
			sig = pending_signal;
			pending_signal = 0;
			for (i = 0; i < a.nhosts; i++)
				if (a.hosts[i].pid > 0)
					(void)kill(a.hosts[i].pid, sig);
		}
		if (running == 0 && (next == a.nhosts || sig != 0))
			break;
		/* A run ended and left room for the next host's. */
		if (next < a.nhosts && running < max && sig == 0)
			continue;
		(void)sigsuspend(&mask);
	}
	/* After a signal, hosts never started leave gaps in -k's order. */
	print_ended(&a, 1);
	for (i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	status = total_status(&a, sig);
	onall_free(&a);
	return status;
}
