/*
 * The Slurm executor (--slurm): inside an allocation, every job is a job
 * step of its own,
 *
 *	srun -QQ --exclusive -N1 -n1 [-c CPUS] --job-name=forkpool-SEQ
 *	    --prolog=DIR/prolog -- /bin/sh -c 'exec "$@"' forkpool ARGV...
 *
 * started by the local executor in the job's slot, so that the runner
 * reaps srun, reads its output and times it as any local job.  What srun
 * cannot tell by its exit status comes from its prolog, which runs on
 * this machine once Slurm created the step and before it starts: it
 * writes "JOBID.STEPID NODE" into DIR/sSLOT.  From that record:
 *
 *   - the joblog's Host is the node the step ran on;
 *   - a signal for the job reaches the step itself (scancel --signal),
 *     not only the local srun, so that no step outlives its job;
 *   - an srun that failed with no record is a step Slurm did not create:
 *     the job runs again, as a job whose ssh connection failed does;
 *     three in a row, and forkpool gives up, with srun's reason.
 *
 * srun exits 0 also when a node failure or the end of the allocation
 * cut its step short.  So when a job ends that forkpool did not signal,
 * squeue tells whether the allocation still runs (some 4 ms, about a
 * tenth of a step's cost); if it ended, the job runs again, which then
 * fails as no more jobs start.
 *
 * Before the step exists, a signal goes to srun as SIGTERM, on which srun
 * gives up creating the step, or cancels the one it just created.  srun
 * -QQ prints none of its own messages (one for each failed task), so the
 * job's output is the step's.  The prolog ends by running the site's
 * SrunProlog, which --prolog would otherwise replace.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "job.h"
#include "loop.h"
#include "opts.h"
#include "template.h"
#include "util.h"

/* Room a job's line leaves for srun's own words. */
#define SRUN_ROOM	1024

/* srun's exit status when Slurm refuses it (SLURM_EXIT_ERROR). */
#define REFUSAL_STATUS		254
#define REFUSAL_STATUS_STR	"254"

/* Steps Slurm refuses in a row before forkpool gives up. */
#define REFUSED_MAX	3

/* How long a question to Slurm (squeue, scontrol, srun) may take. */
#define CHECK_WAIT_MS	10000

/* The most of scontrol show config read. */
#define CONFIG_MAX	(256 * 1024)

extern char **environ;

struct slot {
	char		 step[64];	/* "JOBID.STEPID", or "" before the
					   prolog */
	unsigned int	 gen;		/* counts the jobs of the slot */
	pid_t		 srun;		/* its srun's process group */
	int		 signalled;	/* the last signal forkpool sent
					   the job, or 0 */
	int		 stopped;	/* ... and SIGSTOP last */
	int		 srun_termed;	/* srun got SIGTERM */
};

/* A scancel not reaped yet. */
struct cancel {
	pid_t		 pid;
	unsigned int	 slot;
	unsigned int	 gen;		/* of the slot's job it is for */
	int		 sig;
};

struct slurmexec {
	struct executor	 ex;
	struct executor	*spawn;		/* owned: the local executor */
	unsigned int	 nslots;
	struct slot	*slots;
	char		*dir;		/* owned: the private directory */
	char		*prolog;	/* owned: its prolog's path */
	char		*prolog_opt;	/* owned: --prolog=PATH */
	char		 cpus[24];	/* srun's -c value, or "" */
	char		 job[32];	/* the allocation: $SLURM_JOB_ID */
	char		**nodes;	/* owned: the nodes named so far */
	size_t		 nnodes;
	struct cancel	*cancels;
	size_t		 ncancels;
	int		 refusal;	/* srun's exit status when Slurm
					   refuses it: $SLURM_EXIT_ERROR */
	unsigned int	 refused;	/* steps not created, in a row */
	int		 none_left;	/* gave up: no job starts */
};

/* For the exit(3) after a fatal error: the directory goes. */
static struct slurmexec	*live_slurm;

/*
 * For a signal that ends forkpool before the runner watches signals (as
 * scontrol runs at the start, or input is read ahead): the private
 * directory, open (live_slurm has its path and slots), and the handlers
 * put back.
 */
static int			 live_dirfd = -1;
static const int		 end_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define NEND_SIGS	(sizeof(end_sigs) / sizeof(end_sigs[0]))
static struct sigaction		 old_end[NEND_SIGS];
static int			 caught;

static void	catch_end(int);

/* The record of slot's step: DIR/sSLOT. */
static char *
record_path(const struct slurmexec *s, unsigned int slot)
{
	char	*p;

	if (asprintf(&p, "%s/s%u", s->dir, slot) == -1)
		err(EXIT_FORKPOOL_ERROR, "asprintf");
	return p;
}

/* Remove the private directory and what is in it. */
static void
remove_dir(struct slurmexec *s)
{
	unsigned int	 i;
	char		*path;

	if (s->dir == NULL)
		return;
	if (s == live_slurm) {
		catch_end(0);
		if (live_dirfd != -1)
			(void)close(live_dirfd);
		live_dirfd = -1;
	}
	for (i = 1; i <= s->nslots; i++) {
		path = record_path(s, i);
		(void)unlink(path);
		free(path);
	}
	if (s->prolog != NULL)
		(void)unlink(s->prolog);
	if (rmdir(s->dir) == -1 && errno != ENOENT)
		warn("could not remove %s", s->dir);
	free(s->dir);
	s->dir = NULL;
}

static void
cleanup_at_exit(void)
{
	if (live_slurm != NULL)
		remove_dir(live_slurm);
}

/*
 * A signal ends forkpool: remove the directory with only what is safe in
 * a handler, then end as the signal would have.
 */
static void
on_end_signal(int sig)
{
	char		 name[16];
	unsigned int	 i, n;
	size_t		 len, k;
	int		 saved = errno;

	if (live_dirfd != -1) {
		(void)unlinkat(live_dirfd, "prolog", 0);
		for (i = 1; i <= live_slurm->nslots; i++) {
			/* "s" and the number, as record_path() names them. */
			for (n = i, len = 1; n >= 10; n /= 10)
				len++;
			name[0] = 's';
			for (n = i, k = len; k > 0; k--, n /= 10)
				name[k] = (char)('0' + n % 10);
			name[len + 1] = '\0';
			(void)unlinkat(live_dirfd, name, 0);
		}
		(void)rmdir(live_slurm->dir);
	}
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
	errno = saved;
}

/* Catch the signals that end forkpool (unless ignored); on 0, put back. */
static void
catch_end(int on)
{
	struct sigaction	 sa;
	size_t			 i;

	if (on == caught)
		return;
	caught = on;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_end_signal;
	(void)sigemptyset(&sa.sa_mask);
	for (i = 0; i < NEND_SIGS; i++) {
		if (!on)
			(void)sigaction(end_sigs[i], &old_end[i], NULL);
		else if (sigaction(end_sigs[i], NULL, &old_end[i]) == 0 &&
		    old_end[i].sa_handler != SIG_IGN)
			(void)sigaction(end_sigs[i], &sa, NULL);
	}
}

/* A node's name, kept for the joblog as long as the executor lives. */
static const char *
node_name(struct slurmexec *s, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < s->nnodes; i++)
		if (strlen(s->nodes[i]) == len &&
		    memcmp(s->nodes[i], name, len) == 0)
			return s->nodes[i];
	s->nodes = xreallocarray(s->nodes, s->nnodes + 1, sizeof(*s->nodes));
	s->nodes[s->nnodes] = xmalloc(len + 1);
	memcpy(s->nodes[s->nnodes], name, len);
	s->nodes[s->nnodes][len] = '\0';
	return s->nodes[s->nnodes++];
}

/*
 * Read slot's record, once its prolog wrote it whole: the step into
 * slots[slot].step, and its node into *node (NULL: not given).  Returns
 * whether the step is known.
 */
static int
read_record(struct slurmexec *s, unsigned int slot, const char **node)
{
	struct slot	*sl = &s->slots[slot - 1];
	char		*path, line[512], *sp, *nl;
	ssize_t		 n;
	int		 fd;

	if (node != NULL)
		*node = NULL;
	if (sl->step[0] != '\0' && node == NULL)
		return 1;
	path = record_path(s, slot);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return sl->step[0] != '\0';
	n = read(fd, line, sizeof(line) - 1);
	(void)close(fd);
	if (n <= 0)
		return sl->step[0] != '\0';
	line[n] = '\0';
	/* Written by one printf: whole once its newline is there. */
	if ((nl = strchr(line, '\n')) == NULL || (sp = strchr(line, ' ')) ==
	    NULL || sp > nl || (size_t)(sp - line) >= sizeof(sl->step) ||
	    sp == line)
		return sl->step[0] != '\0';
	memcpy(sl->step, line, (size_t)(sp - line));
	sl->step[sp - line] = '\0';
	/* One node (-N1); a list of several is kept as Slurm gives it. */
	if (node != NULL && nl > sp + 1)
		*node = node_name(s, sp + 1, (size_t)(nl - sp - 1));
	return 1;
}

/* Forget slot's step before a job starts in it. */
static void
clear_slot(struct slurmexec *s, unsigned int slot)
{
	char		*path = record_path(s, slot);
	unsigned int	 gen = s->slots[slot - 1].gen + 1;

	(void)unlink(path);
	free(path);
	memset(&s->slots[slot - 1], 0, sizeof(s->slots[slot - 1]));
	s->slots[slot - 1].gen = gen;
}

/* The name Slurm knows signal sig by, for scancel --signal. */
static const char *
signal_name(int sig, char *buf, size_t len)
{
	const char	*abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		return abbrev;
	(void)snprintf(buf, len, "%d", sig);
	return buf;
}

/*
 * Send sig to the step of slot (JOBID.STEPID) by scancel, without waiting
 * for it: the runner reaps it (orphan()).
 */
static void
cancel_step(struct slurmexec *s, unsigned int slot, int sig)
{
	const char			*step = s->slots[slot - 1].step;
	char				 num[16], opt[48];
	char				*argv[] = { "scancel", "-Q", opt,
					    (char *)step, NULL };
	pid_t				 pid;

	(void)snprintf(opt, sizeof(opt), "--signal=%s",
	    signal_name(sig, num, sizeof(num)));
	/*
	 * Its own group: a Ctrl-C meant for forkpool is not its.  Its
	 * "Invalid job id" for a step that ended meanwhile is no news.
	 */
	if ((errno = spawn_quiet(argv, 1, &pid)) != 0) {
		warn("step %s: cannot run scancel", step);
		return;
	}
	s->cancels = xreallocarray(s->cancels, s->ncancels + 1,
	    sizeof(*s->cancels));
	s->cancels[s->ncancels].pid = pid;
	s->cancels[s->ncancels].slot = slot;
	s->cancels[s->ncancels].gen = s->slots[slot - 1].gen;
	s->cancels[s->ncancels++].sig = sig;
}

/*
 * Run argv with stdin from /dev/null, and its stdout and stderr into out
 * (up to len - 1 bytes, NUL-terminated; the rest is read and dropped).
 * It may take CHECK_WAIT_MS, then it is killed.  Returns its wait
 * status, or -1 when it could not run or was killed.
 */
static int
capture_cmd(char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t	 fa;
	struct pollfd			 pfd;
	char				 drop[512];
	size_t				 have = 0;
	long long			 end = loop_now_ms() + CHECK_WAIT_MS;
	ssize_t				 n;
	pid_t				 pid;
	int				 fd[2], status, rc, left;

	out[0] = '\0';
	if (pipe2(fd, O_CLOEXEC) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDERR_FILENO);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	(void)close(fd[1]);
	if (rc != 0) {
		(void)close(fd[0]);
		return -1;
	}
	pfd.fd = fd[0];
	pfd.events = POLLIN;
	while ((left = (int)(end - loop_now_ms())) > 0) {
		if (poll(&pfd, 1, left) <= 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (have + 1 < len)
			n = read(fd[0], out + have, len - 1 - have);
		else
			n = read(fd[0], drop, sizeof(drop));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (have + 1 < len)
			have += (size_t)n;
	}
	out[have] = '\0';
	(void)close(fd[0]);
	if (left <= 0)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return left <= 0 ? -1 : status;
}

/*
 * srun's words for a step of one task on one node, up to the job name:
 * quiet, -Q (its errors) or -QQ (nothing of its own).
 */
static void
srun_words(const struct slurmexec *s, struct argv *a, const char *quiet)
{
	argv_add(a, "srun");
	argv_add(a, quiet);
	argv_add(a, "--exclusive");
	argv_add(a, "-N1");
	argv_add(a, "-n1");
	if (s->cpus[0] != '\0') {
		argv_add(a, "-c");
		argv_add(a, s->cpus);
	}
}

/*
 * Why Slurm refuses steps: srun's own message for a step of nothing,
 * into why (empty: it gave none, or it created the step this time).
 */
static void
check_refusal(const struct slurmexec *s, char *why, size_t len)
{
	struct argv	 a = { NULL, 0 };
	char		 out[2048], *line, *save = NULL;

	why[0] = '\0';
	srun_words(s, &a, "-Q");
	argv_add(&a, "--job-name=forkpool-check");
	argv_add(&a, "--");
	argv_add(&a, "true");
	(void)capture_cmd(a.v, out, sizeof(out));
	free(a.v);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "error") != NULL) {
			strlcpy(why, line, len);
			break;
		}
}

/*
 * Whether the allocation still runs: 1 if so or if Slurm cannot say, 0
 * if it ended (its state, or Slurm's message, into state).
 */
static int
alloc_alive(struct slurmexec *s, char *state, size_t len)
{
	char	 out[512], *argv[] = { "squeue", "-h", "-j", s->job, "-o",
		    "%T", NULL };
	int	 status;

	status = capture_cmd(argv, out, sizeof(out));
	out[strcspn(out, "\n")] = '\0';
	strlcpy(state, out, len);
	if (status == -1 || !WIFEXITED(status))
		return 1;
	/* squeue knows no such job once Slurm forgot it. */
	if (WEXITSTATUS(status) != 0)
		return strstr(out, "nvalid job") == NULL;
	return strcmp(out, "RUNNING") == 0 || strcmp(out, "SUSPENDED") == 0 ||
	    strcmp(out, "CONFIGURING") == 0;
}

/*
 * The allocation ended under the run (a node failed, its time ran out):
 * say so once; no job starts any more.
 */
static void
alloc_lost(struct slurmexec *s, const char *state)
{
	if (s->none_left)
		return;
	warnx("the Slurm allocation %s ended (%s): no more jobs start",
	    s->job, state[0] != '\0' ? state :
	    "squeue no longer lists it");
	s->none_left = 1;
}

/* Start a job as a step; see exec.h. */
static enum exec_result
slurm_launch(void *ctx, struct job *j, int in, struct exec_proc *p)
{
	struct slurmexec	*s = ctx;
	struct argv		 a = { NULL, 0 };
	enum exec_result	 res;
	char			 name[48], **argv;
	size_t			 i;

	if (s->none_left) {
		/* Run nowhere: the joblog's Host is empty. */
		j->host = "";
		job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
		return EXEC_FAILED;
	}
	clear_slot(s, j->slot);
	(void)snprintf(name, sizeof(name), "--job-name=forkpool-%llu", j->seq);
	srun_words(s, &a, "-QQ");
	argv_add(&a, name);
	argv_add(&a, s->prolog_opt);
	argv_add(&a, "--");
	/* A command that is not found is 127 there as here. */
	argv_add(&a, "/bin/sh");
	argv_add(&a, "-c");
	argv_add(&a, "exec \"$@\"");
	argv_add(&a, "forkpool");
	for (i = 0; j->argv[i] != NULL; i++)
		argv_add(&a, j->argv[i]);
	argv = j->argv;
	j->argv = a.v;
	res = s->spawn->ops->launch(s->spawn->ctx, j, in, p);
	j->argv = argv;
	free(a.v);
	return res;
}

/* Whether a job that ended with status was Slurm's doing; see exec.h. */
static enum exec_ending
slurm_ending(void *ctx, struct job *j, int status)
{
	struct slurmexec	*s = ctx;
	struct slot		*sl = &s->slots[j->slot - 1];
	const char		*node;
	char			 why[512];
	int			 known;

	/* What srun used is not what the step did. */
	j->utime_us = j->stime_us = -1;
	j->maxrss_kb = -1;
	known = read_record(s, j->slot, &node);
	if (node != NULL)
		j->host = node;
	else if (!known)
		j->host = "";	/* no step: it ran nowhere */
	if (sl->signalled) {
		/*
		 * Stopped by forkpool before it had a step, or its step
		 * killed by the signal (srun says 128 + N): as a local job
		 * killed by it, the signal.
		 */
		if (sl->signalled != SIGSTOP && (!known ||
		    (WIFEXITED(status) && WEXITSTATUS(status) ==
		    128 + sl->signalled)))
			job_set_status(j, sl->signalled);
		return EXEC_DONE;
	}
	if (known) {
		s->refused = 0;
		/*
		 * A step that a node failure or the allocation's end cut
		 * short looks like one that ended: srun exits 0.
		 */
		if (!alloc_alive(s, why, sizeof(why))) {
			alloc_lost(s, why);
			return EXEC_REQUEUE;
		}
		/* srun died under the step, not of forkpool's signal. */
		if (WIFSIGNALED(status)) {
			cancel_step(s, j->slot, SIGKILL);
			warnx("job %llu: srun died of signal %d while step %s "
			    "ran; the job runs again", j->seq,
			    WTERMSIG(status), sl->step);
			return EXEC_REQUEUE;
		}
		return EXEC_DONE;
	}
	/*
	 * No record, and not Slurm's error status: the prolog failed to
	 * write one (srun runs the step all the same), the result stands.
	 */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != s->refusal)
		return EXEC_DONE;
	/* Given up already: the job is one of those that fail. */
	if (s->none_left) {
		j->host = "";
		job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
		return EXEC_DONE;
	}
	if (!alloc_alive(s, why, sizeof(why))) {
		alloc_lost(s, why);
		return EXEC_REQUEUE;
	}
	if (++s->refused < REFUSED_MAX) {
		warnx("job %llu: Slurm did not start its step (srun: exit "
		    "status %d); the job runs again", j->seq, s->refusal);
		return EXEC_REQUEUE;
	}
	check_refusal(s, why, sizeof(why));
	warnx("Slurm started no step for %u jobs in a row; no more jobs "
	    "start%s%s", REFUSED_MAX, why[0] != '\0' ? ": " : "", why);
	s->none_left = 1;
	j->host = "";
	job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
	return EXEC_DONE;
}

/*
 * Send sig to the job's step, or to srun while there is none; see
 * exec.h.  SIGCONT follows every step of --termseq: it goes only to a
 * step that was stopped.
 */
static void
slurm_signal(void *ctx, const struct job *j, pid_t pgid, int sig)
{
	struct slurmexec	*s = ctx;
	struct slot		*sl = &s->slots[j->slot - 1];

	if (sig == SIGCONT && !sl->stopped)
		return;
	if (sig != SIGCONT)
		sl->signalled = sig;
	sl->stopped = sig == SIGSTOP;
	sl->srun = pgid;
	if (read_record(s, j->slot, NULL)) {
		cancel_step(s, j->slot, sig);
		return;
	}
	if (pgid <= 0)
		return;
	if (sig == SIGSTOP || sig == SIGCONT)
		(void)kill(-pgid, sig);
	else if (sig == SIGKILL && sl->srun_termed)
		(void)kill(-pgid, SIGKILL);
	else {
		/* srun gives up the step it is creating, or cancels it. */
		sl->srun_termed = 1;
		(void)kill(-pgid, SIGTERM);
	}
}

/*
 * A scancel of this executor's, reaped.  One that could not kill a step
 * (Slurm did not answer) leaves it to srun, which cancels its step on
 * SIGTERM: otherwise the job could not end.
 */
static int
slurm_orphan(void *ctx, pid_t pid, int status)
{
	struct slurmexec	*s = ctx;
	struct cancel		 c;
	struct slot		*sl;
	size_t			 i;

	for (i = 0; i < s->ncancels && s->cancels[i].pid != pid; i++)
		;
	if (i == s->ncancels)
		return 0;
	c = s->cancels[i];
	s->cancels[i] = s->cancels[--s->ncancels];
	sl = &s->slots[c.slot - 1];
	if (c.sig == SIGKILL && sl->gen == c.gen && sl->srun > 0 &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		sl->srun_termed = 1;
		(void)kill(-sl->srun, SIGTERM);
	}
	return 1;
}

static unsigned int
slurm_slots(void *ctx)
{
	return ((struct slurmexec *)ctx)->nslots;
}

/* The node is known once the step ran: see slurm_ending(). */
static const char *
slurm_host(void *ctx, unsigned int slot)
{
	(void)ctx;
	(void)slot;
	return NULL;
}

static int
slurm_usable(void *ctx, unsigned int slot)
{
	(void)ctx;
	(void)slot;
	return 1;
}

static size_t
slurm_line_max(void *ctx)
{
	struct slurmexec	*s = ctx;
	size_t			 n = s->spawn->ops->line_max(s->spawn->ctx);

	return n > 2 * SRUN_ROOM ? n - SRUN_ROOM : n / 2;
}

static size_t
slurm_arg_room(void *ctx)
{
	struct slurmexec	*s = ctx;
	size_t			 n = s->spawn->ops->arg_room(s->spawn->ctx);

	return n > 2 * SRUN_ROOM ? n - SRUN_ROOM : n / 2;
}

static int
slurm_tty(void *ctx)
{
	(void)ctx;
	return -1;
}

static void
slurm_free(void *ctx)
{
	struct slurmexec	*s = ctx;
	size_t			 i;

	executor_free(s->spawn);
	remove_dir(s);
	if (live_slurm == s)
		live_slurm = NULL;
	for (i = 0; i < s->nnodes; i++)
		free(s->nodes[i]);
	free(s->nodes);
	free(s->cancels);
	free(s->slots);
	free(s->prolog);
	free(s->prolog_opt);
	free(s);
}

static const struct executor_ops	slurm_ops = {
	.slots = slurm_slots,
	.host = slurm_host,
	.usable = slurm_usable,
	.line_max = slurm_line_max,
	.arg_room = slurm_arg_room,
	.launch = slurm_launch,
	.ending = slurm_ending,
	.signal = slurm_signal,
	.orphan = slurm_orphan,
	.tty = slurm_tty,
	.free = slurm_free,
};

/*
 * A positive count from the environment variable name (its leading
 * number: SLURM_JOB_CPUS_PER_NODE is "2(x3),4"), or 0.
 */
static unsigned long
env_count(const char *name)
{
	const char	*v = getenv(name);
	char		*end;
	unsigned long	 n;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	return errno != 0 || n > UINT_MAX ? 0 : n;
}

/*
 * The site's SrunProlog, which --prolog replaces, into *out (NULL:
 * none): from scontrol show config.
 */
static void
site_prolog(char **out)
{
	char	*argv[] = { "scontrol", "show", "config", NULL };
	char	*conf, *line, *v, *save = NULL;

	*out = NULL;
	conf = xmalloc(CONFIG_MAX);
	(void)capture_cmd(argv, conf, CONFIG_MAX);
	for (line = strtok_r(conf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "SrunProlog ", 11) != 0 ||
		    (v = strchr(line, '=')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " ");
		if (*v != '\0' && strcmp(v, "(null)") != 0)
			*out = xstrdup(v);
	}
	free(conf);
}

/* Write the prolog that records each step; -1 after a message. */
static int
write_prolog(struct slurmexec *s)
{
	struct buf	 b = { 0 };
	char		*site;
	int		 fd, rc = 0;

	site_prolog(&site);
	buf_adds(&b, "#!/bin/sh\n"
	    "# forkpool --slurm: the step of the job in slot $FORKPOOL_SLOT\n"
	    "printf '%s.%s %s\\n' \"$SLURM_JOB_ID\" \"$SLURM_STEP_ID\" "
	    "\"$SLURM_NODELIST\" >");
	shell_quote(&b, s->dir, strlen(s->dir));
	buf_adds(&b, "/s\"$FORKPOOL_SLOT\"\n");
	if (site != NULL) {
		buf_adds(&b, "exec ");
		shell_quote(&b, site, strlen(site));
		buf_adds(&b, " \"$@\"\n");
	}
	free(site);
	if (asprintf(&s->prolog, "%s/prolog", s->dir) == -1 ||
	    asprintf(&s->prolog_opt, "--prolog=%s", s->prolog) == -1)
		err(EXIT_FORKPOOL_ERROR, "asprintf");
	if ((fd = open(s->prolog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0700)) == -1 || write_all(fd, b.data, b.len) == -1) {
		warn("--slurm: %s", s->prolog);
		rc = -1;
	}
	if (fd != -1)
		(void)close(fd);
	/* A file system mounted noexec, as /tmp may be. */
	if (rc == 0 && access(s->prolog, X_OK) == -1) {
		warn("--slurm: %s: srun could not run it; set TMPDIR or "
		    "--tmpdir to a directory where programs may run",
		    s->prolog);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* Whether name is a command found in PATH. */
static int
in_path(const char *name)
{
	char	*path = find_program(name);
	int	 found = access(path, X_OK) == 0;

	free(path);
	return found;
}

/* See exec.h. */
struct executor *
exec_slurm_new(int capture, const struct opts *o)
{
	struct slurmexec	*s;
	struct opts		 local = *o;
	struct buf		 b = { 0 };
	static const char *const needed[] = { "srun", "scancel", "squeue" };
	unsigned long		 n;
	const char		*job = getenv("SLURM_JOB_ID");

	if (job == NULL || *job == '\0') {
		warnx("--slurm: not in a Slurm allocation (SLURM_JOB_ID is "
		    "not set): run forkpool under salloc or sbatch, or ask "
		    "for one with --slurm-alloc 'SALLOC OPTIONS'");
		return NULL;
	}
	for (n = 0; n < sizeof(needed) / sizeof(needed[0]); n++)
		if (!in_path(needed[n])) {
			warnx("--slurm: %s: command not found", needed[n]);
			return NULL;
		}
	s = xcalloc(1, sizeof(*s));
	s->ex.ops = &slurm_ops;
	s->ex.ctx = s;
	strlcpy(s->job, job, sizeof(s->job));
	/* -j, else the allocation's tasks, else its CPUs per task. */
	if (o->jobs_given)
		s->nslots = o->jobs;
	else if ((n = env_count("SLURM_NTASKS")) > 0 ||
	    (n = env_count("SLURM_NPROCS")) > 0)
		s->nslots = (unsigned int)n;
	else
		s->nslots = 1;
	/*
	 * srun's exit status when Slurm refuses a step (1 by default, as a
	 * job's may be): one jobs seldom use.  The steps get it too.
	 */
	if ((n = env_count("SLURM_EXIT_ERROR")) > 0 && n < 256)
		s->refusal = (int)n;
	else {
		s->refusal = REFUSAL_STATUS;
		(void)setenv("SLURM_EXIT_ERROR", REFUSAL_STATUS_STR, 1);
	}
	if ((n = env_count("SLURM_CPUS_PER_TASK")) > 0)
		(void)snprintf(s->cpus, sizeof(s->cpus), "%lu", n);
	s->slots = xcalloc(s->nslots, sizeof(*s->slots));
	buf_adds(&b, opts_tmpdir(o));
	buf_adds(&b, "/forkpool.slurm.XXXXXX");
	if (mkdtemp(b.data) == NULL) {
		warn("--slurm: cannot create a directory in %s",
		    opts_tmpdir(o));
		buf_free(&b);
		free(s->slots);
		free(s);
		return NULL;
	}
	s->dir = b.data;
	live_slurm = s;
	live_dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	catch_end(1);
	{
		static int	 registered;

		if (!registered && atexit(cleanup_at_exit) == 0)
			registered = 1;
	}
	local.tty = 0;
	if (write_prolog(s) == -1 ||
	    (s->spawn = exec_local_new(s->nslots, capture, NULL, &local)) ==
	    NULL) {
		slurm_free(s);
		return NULL;
	}
	return &s->ex;
}

/* The variable by which salloc's forkpool knows it was asked for. */
#define ALLOC_VAR	"FORKPOOL_SLURM_ALLOC"

/* How long the display of a pending allocation waits between redraws. */
#define PENDING_REDRAW_MS	1000

/* The outer forkpool's pipe, in the one inside the allocation. */
static int	alloc_fd = -1;

/* Tell the outer forkpool how this one exits (salloc does not). */
static void
tell_exit(int status, void *arg)
{
	char	 line[32];
	int	 n;

	(void)arg;
	n = snprintf(line, sizeof(line), "exit %d\n", status & 0xff);
	if (alloc_fd != -1 && n > 0)
		(void)write_all(alloc_fd, line, (size_t)n);
}

/* See exec.h. */
int
slurm_alloc_granted(void)
{
	const char	*v = getenv(ALLOC_VAR);
	char		*end, pid[24];
	long		 fd;
	int		 n;

	if (v == NULL || getenv("SLURM_JOB_ID") == NULL)
		return 0;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno == 0 && *end == '\0' && end != v && fd > 2 &&
	    fd < INT_MAX && fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0) {
		/*
		 * The outer forkpool passes its signals on to this one, and
		 * learns its exit status: salloc exits 0 when its command
		 * dies of a signal.
		 */
		alloc_fd = (int)fd;
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		(void)write_all(alloc_fd, pid, (size_t)n);
		(void)on_exit(tell_exit, NULL);
	}
	(void)unsetenv(ALLOC_VAR);
	return 1;
}

/* A signal for salloc or the forkpool in the allocation, caught. */
static volatile sig_atomic_t	alloc_signal;

static void
on_alloc_signal(int sig)
{
	alloc_signal = sig;
}

/* Show on stderr for how long the allocation has been pending. */
static void
show_pending(long long since)
{
	char	 line[128];
	int	 n;

	n = snprintf(line, sizeof(line), "\rforkpool: --slurm-alloc: "
	    "waiting for an allocation: %llds\033[K",
	    (loop_now_ms() - since) / 1000);
	if (n > 0)
		(void)write_all(STDERR_FILENO, line, (size_t)n);
}

/*
 * Start salloc ARGS -- forkpool ARGV... with fd (the pipe on which the
 * inner forkpool tells its pid and its exit status) named in ALLOC_VAR.
 * In forkpool's process group when stdin is a terminal, which salloc
 * then gives to its command; else in one of its own, given the terminal
 * tty (-1: none, or forkpool runs in the background) until the forkpool
 * inside takes it: a Ctrl-C then reaches salloc while the request pends,
 * the forkpool inside after, never salloc then, which would end the
 * allocation under the jobs.  -1 after a message.
 */
static pid_t
start_salloc(const struct opts *o, int argc, char **argv, int fd, int tty)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t	 attr;
	struct argv		 a = { NULL, 0 };
	char			 self[PATH_MAX], num[16], *wordbuf, **words;
	size_t			 nwords, i;
	ssize_t			 len;
	pid_t			 pid = -1;
	int			 rc;

	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		warn("--slurm-alloc: /proc/self/exe");
		return -1;
	}
	self[len] = '\0';
	words = split_words(o->slurm_alloc, &wordbuf, &nwords);
	for (i = 0; i < nwords; i++)
		if (strcmp(words[i], "--") == 0 ||
		    strncmp(words[i], "--no-shell", 10) == 0) {
			warnx("--slurm-alloc: %s: %s", o->slurm_alloc,
			    words[i][2] == '\0' ? "salloc's options only: the "
			    "command salloc runs is forkpool" : "--no-shell "
			    "would leave the allocation with no forkpool in it");
			goto out;
		}
	if (!in_path("salloc")) {
		warnx("--slurm-alloc: salloc: command not found");
		goto out;
	}
	(void)snprintf(num, sizeof(num), "%d", fd);
	(void)setenv(ALLOC_VAR, num, 1);
	argv_add(&a, "salloc");
	argv_add(&a, "--quiet");
	for (i = 0; i < nwords; i++)
		argv_add(&a, words[i]);
	argv_add(&a, "--");
	argv_add(&a, self);
	for (i = 1; i < (size_t)argc; i++)
		argv_add(&a, argv[i]);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&fa);
	if (!isatty(STDIN_FILENO)) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
		/* The terminal's foreground, as a shell gives a command. */
		if (tty != -1)
			posix_spawn_file_actions_addtcsetpgrp_np(&fa, tty);
	}
	rc = posix_spawnp(&pid, a.v[0], &fa, &attr, a.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	(void)unsetenv(ALLOC_VAR);
	if (rc != 0) {
		errno = rc;
		warn("--slurm-alloc: salloc");
		pid = -1;
	}
out:
	free(a.v);
	free(words);
	free(wordbuf);
	return pid;
}

/* Give the terminal tty to process group pgrp, from the background too. */
static void
give_terminal(int tty, pid_t pgrp)
{
	if (tty != -1 && pgrp > 0)
		(void)tcsetpgrp(tty, pgrp);
}

/*
 * What the forkpool inside said on the pipe, in buf (len bytes so far):
 * its pid on the first line, its exit status ("exit N") on the next.
 */
static void
read_inner(const char *buf, pid_t *inner, int *exited)
{
	const char	*nl = strchr(buf, '\n');

	if (nl == NULL)
		return;
	if (*inner == 0 && (*inner = (pid_t)strtol(buf, NULL, 10)) <= 0)
		*inner = -1;	/* granted, pid unknown */
	if (strncmp(nl + 1, "exit ", 5) == 0 && strchr(nl + 1, '\n') != NULL)
		*exited = (int)strtol(nl + 6, NULL, 10);
}

/* See exec.h. */
int
slurm_alloc_run(const struct opts *o, int argc, char **argv)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa, old[3];
	struct pollfd		 pfd;
	char			 got[64];
	size_t			 have = 0, i;
	long long		 since = loop_now_ms();
	ssize_t			 n;
	pid_t			 pid, inner = 0, ipgrp;
	int			 fd[2], status, show, shown = 0, sent = 0;
	int			 exited = -1, tty = -1;

	if (pipe2(fd, O_CLOEXEC) == -1) {
		warn("--slurm-alloc: pipe");
		return EXIT_FORKPOOL_ERROR;
	}
	/* salloc passes it on to its command, the forkpool in the allocation. */
	(void)fcntl(fd[1], F_SETFD, 0);
	/* The terminal, when forkpool has its foreground and stdin is none. */
	if (!isatty(STDIN_FILENO) &&
	    (tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) != -1 &&
	    tcgetpgrp(tty) != getpgrp()) {
		(void)close(tty);
		tty = -1;
	}
	/*
	 * Caught before salloc starts, passed on: to salloc while the
	 * request pends (it withdraws it), then to the forkpool inside.
	 * SIGTTOU ignored: from the background, forkpool takes the terminal
	 * back and shows the wait.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alloc_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		(void)sigaction(sigs[i], &sa, &old[i]);
	(void)signal(SIGQUIT, SIG_IGN);
	(void)signal(SIGTTOU, SIG_IGN);
	pid = start_salloc(o, argc, argv, fd[1], tty);
	(void)close(fd[1]);
	if (pid == -1) {
		(void)close(fd[0]);
		if (tty != -1)
			(void)close(tty);
		return EXIT_FORKPOOL_ERROR;
	}
	show = (o->bar || o->progress || o->eta) && isatty(STDERR_FILENO);
	pfd.fd = fd[0];
	pfd.events = POLLIN;
	for (;;) {
		if (alloc_signal != 0) {
			sent = alloc_signal;
			alloc_signal = 0;
			(void)kill(inner > 0 ? inner : pid, sent);
		}
		if (inner == 0 && show) {
			show_pending(since);
			shown = 1;
		}
		if (poll(&pfd, 1, inner == 0 && show ? PENDING_REDRAW_MS :
		    -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd[0], got + have, sizeof(got) - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* salloc and the forkpool inside ended */
		have += (size_t)n;
		got[have] = '\0';
		if (inner == 0) {
			read_inner(got, &inner, &exited);
			if (inner == 0)
				continue;
			if (shown)
				(void)write_all(STDERR_FILENO, "\r\033[K", 4);
			shown = 0;
			/* The forkpool inside gets the terminal's signals. */
			if (inner > 0 && (ipgrp = getpgid(inner)) > 0)
				give_terminal(tty, ipgrp);
		} else
			read_inner(got, &inner, &exited);
		if (have == sizeof(got) - 1)
			have = 0;
	}
	if (shown)
		(void)write_all(STDERR_FILENO, "\r\033[K", 4);
	(void)close(fd[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			warn("--slurm-alloc: salloc");
			return EXIT_FORKPOOL_ERROR;
		}
		if (alloc_signal != 0) {
			sent = alloc_signal;
			alloc_signal = 0;
			(void)kill(pid, sent);
		}
	}
	give_terminal(tty, getpgrp());
	if (tty != -1)
		(void)close(tty);
	for (i = 0; i < 3; i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	if (inner == 0) {
		if (WIFSIGNALED(status))
			warnx("--slurm-alloc: salloc ended by signal %d before "
			    "forkpool ran in an allocation", WTERMSIG(status));
		else
			warnx("--slurm-alloc: salloc ended (exit status %d) "
			    "before forkpool ran in an allocation",
			    WEXITSTATUS(status));
		return EXIT_FORKPOOL_ERROR;
	}
	if (exited == -1) {
		/* It died: of the signal passed on, as this one does now. */
		if (sent != 0) {
			(void)signal(sent, SIG_DFL);
			(void)raise(sent);
			return 128 + sent;
		}
		warnx("--slurm-alloc: the forkpool in the allocation ended "
		    "without an exit status (killed by a signal?)");
		return EXIT_FORKPOOL_ERROR;
	}
	/* It ended on the signal passed on: so does this one. */
	if (sent != 0 && exited == 128 + sent) {
		(void)signal(sent, SIG_DFL);
		(void)raise(sent);
	}
	return exited;
}
