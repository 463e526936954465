/*
 * The local executor: a job is a process on this machine, started in its
 * own process group with stdin from /dev/null (or the terminal with
 * --tty, whose foreground the group then gets, or a pipe the runner
 * gives), stdout and stderr into pipes (or forkpool's own with -u), the
 * other descriptors forkpool inherited but none it opened, the
 * environment plus FORKPOOL_SEQ, FORKPOOL_SLOT, PARALLEL_SEQ and
 * PARALLEL_JOBSLOT.  posix_spawn() (a vfork-style clone
 * in glibc) keeps the cost per job at the floor and reports exec
 * failures directly.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "job.h"
#include "opts.h"
#include "util.h"

/*
 * Linux refuses a single argument over 32 pages (MAX_ARG_STRLEN), and a
 * shell command line is one argument; xargs uses the same 128 KiB.
 */
#define LINE_LIMIT	(128 * 1024)

extern char **environ;

/* The variables every job gets, in the order of spawner->vars. */
static const char *const job_vars[] = {
	"FORKPOOL_SEQ", "FORKPOOL_SLOT", "PARALLEL_SEQ", "PARALLEL_JOBSLOT"
};
#define NVARS	(sizeof(job_vars) / sizeof(job_vars[0]))

struct spawner {
	struct executor		 ex;
	unsigned int		 slots;
	size_t			 line_max;
	size_t			 arg_room;
	int			 capture;
	int			 tty;		/* owned: /dev/tty, or -1 */
	char			**envp;		/* owned array; strings borrowed
						   from environ, but vars */
	size_t			 nenv;		/* inherited entries */
	char			 vars[NVARS][48];
	const char		*workdir;	/* borrowed, or private_dir,
						   or NULL: forkpool's */
	char			*slot_var;	/* owned: NAME=slot, or NULL */
	size_t			 slot_at;	/* where the slot goes in it */
	posix_spawnattr_t	 attr;
};

/*
 * The private directory of --workdir ..., owned; file-scope so that an
 * exit(3) from anywhere (err(3) on a fatal error) still removes it.
 */
static char	*private_dir;

/* Whether environment entry e sets one of job_vars. */
static int
is_job_var(const char *e)
{
	size_t	 i, n;

	for (i = 0; i < NVARS; i++) {
		n = strlen(job_vars[i]);
		if (strncmp(e, job_vars[i], n) == 0 && e[n] == '=')
			return 1;
	}
	return 0;
}

/*
 * The bytes an exec'd argv may take here, its pointers counted: Linux
 * counts argv's and envp's strings and pointers against ARG_MAX.  Less
 * the environment and the 2048 bytes POSIX and xargs keep for the
 * variables a job gets; 0 when nothing is left.
 */
/* The least room for a command line that forkpool starts jobs with. */
#define MIN_ROOM	256

static size_t
system_room(void)
{
	long	 argmax = sysconf(_SC_ARG_MAX);
	size_t	 env = 0;
	char	**e;

	for (e = environ; *e != NULL; e++)
		env += strlen(*e) + 1 + sizeof(*e);
	if (argmax <= 0)
		argmax = 4096 * 32;
	return (size_t)argmax > env + 2048 ? (size_t)argmax - env - 2048 : 0;
}

/* Remove one entry of the private directory's tree, depth first. */
static int
remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static int	 unreadable;	/* open_entry() met a directory it
				   could not read */

/*
 * Give the owner every right on a directory of the tree, so that what a
 * job left read-only (chmod 555, 000) can be walked and emptied.
 */
static int
open_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_DNR)
		unreadable = 1;
	if ((type == FTW_D || type == FTW_DNR) &&
	    (st->st_mode & S_IRWXU) != S_IRWXU)
		(void)chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

/* Remove the private directory and whatever the jobs left in it. */
static void
remove_private_dir(void)
{
	int	 pass;

	if (private_dir == NULL)
		return;
	/* Each pass opens one more level of directories that were shut. */
	for (pass = 0; pass < 64; pass++) {
		unreadable = 0;
		(void)nftw(private_dir, open_entry, 16, FTW_PHYS);
		if (!unreadable)
			break;
	}
	(void)nftw(private_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (access(private_dir, F_OK) == 0)
		warnx("--workdir ...: could not remove %s", private_dir);
	free(private_dir);
	private_dir = NULL;
}

/*
 * The directory jobs run in: dir as given after checking that it is one,
 * NULL for forkpool's own ("."), or a fresh private directory under
 * tmpdir for "...".  -1 after a message naming --workdir.
 */
static int
pick_workdir(const char *dir, const char *tmpdir, const char **out)
{
	struct buf	 b = { 0 };
	struct stat	 st;

	*out = NULL;
	if (dir == NULL || strcmp(dir, ".") == 0)
		return 0;
	if (strcmp(dir, "...") != 0) {
		if (stat(dir, &st) == -1) {
			warn("--workdir %s", dir);
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			warnx("--workdir %s: %s", dir, strerror(ENOTDIR));
			return -1;
		}
		*out = dir;
		return 0;
	}
	buf_adds(&b, tmpdir);
	buf_adds(&b, "/forkpool.wd.XXXXXX");
	if (mkdtemp(b.data) == NULL) {
		warn("--workdir ...: cannot create a directory in %s", tmpdir);
		buf_free(&b);
		return -1;
	}
	private_dir = b.data;
	(void)atexit(remove_private_dir);
	*out = private_dir;
	return 0;
}

/*
 * --nice N: forkpool takes the niceness itself, once, and every job
 * inherits it from the start.  posix_spawn() has no attribute for it,
 * and an unprivileged process cannot lower its niceness again, so
 * renicing around each spawn cannot work; a fork or an exec of nice(1)
 * per job would cost more.  forkpool's own loop is mostly asleep and
 * serves only these jobs.  As nice(1), the result is clamped, and a
 * refused change is a warning, not an error.
 */
static void
set_nice(int n)
{
	int	 cur, want;

	if (n == 0)
		return;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if (cur == -1 && errno != 0)
		cur = 0;
	want = cur + n;
	want = want < -20 ? -20 : want > 19 ? 19 : want;
	if (setpriority(PRIO_PROCESS, 0, want) == -1)
		warn("--nice %d: cannot set the niceness", n);
}

static const struct executor_ops	local_ops;

/* Prepare what every local job shares; see exec.h. */
struct executor *
exec_local_new(unsigned int slots, int capture, const char *tty,
    const struct opts *o)
{
	struct spawner	*s;
	sigset_t	 empty, def;
	const char	*dir;
	size_t		 n, i;
	int		 fd = -1;

	if (pick_workdir(o->workdir, opts_tmpdir(o), &dir) == -1)
		return NULL;
	if (tty != NULL && (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		warn("%s: /dev/tty", tty);
		remove_private_dir();
		return NULL;
	}
	/* Too little to run even a short command: say why, as xargs does. */
	if (system_room() < MIN_ROOM) {
		warnx("the environment is too large: it leaves less than %d "
		    "bytes of the system's limit for a command line", MIN_ROOM);
		if (fd != -1)
			(void)close(fd);
		remove_private_dir();
		return NULL;
	}
	set_nice(o->nice);
	s = xcalloc(1, sizeof(*s));
	s->ex.ops = &local_ops;
	s->ex.ctx = s;
	s->slots = slots;
	s->arg_room = system_room();
	s->line_max = s->arg_room < LINE_LIMIT ? s->arg_room : LINE_LIMIT;
	s->capture = capture;
	s->tty = fd;
	s->workdir = dir;
	for (n = 0; environ[n] != NULL; n++)
		;
	/* Room for --process-slot-var's too. */
	s->envp = xreallocarray(NULL, n + NVARS + 2, sizeof(*s->envp));
	for (i = 0; i < n; i++)
		if (!is_job_var(environ[i]))
			s->envp[s->nenv++] = environ[i];
	for (i = 0; i < NVARS; i++)
		s->envp[s->nenv + i] = s->vars[i];
	s->envp[s->nenv + NVARS] = NULL;

	/*
	 * Own process group, so that a signal reaches the whole tree the
	 * job starts; no blocked signals; SIGPIPE back to its default, since
	 * forkpool ignores it and ignored signals survive exec.
	 */
	sigemptyset(&empty);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_init(&s->attr);
	posix_spawnattr_setflags(&s->attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&s->attr, 0);
	posix_spawnattr_setsigmask(&s->attr, &empty);
	posix_spawnattr_setsigdefault(&s->attr, &def);
	return &s->ex;
}

/* Give every job NAME=its slot from 0; see exec.h. */
void
exec_local_slot_var(struct executor *ex, const char *name)
{
	struct spawner	*s = ex->ctx;
	size_t		 i, n, len = strlen(name);

	/* An inherited NAME would be found first: it goes. */
	for (i = n = 0; s->envp[i] != NULL; i++)
		if (strncmp(s->envp[i], name, len) != 0 ||
		    s->envp[i][len] != '=')
			s->envp[n++] = s->envp[i];
	s->nenv -= i - n;
	free(s->slot_var);
	s->slot_at = len + 1;
	s->slot_var = xcalloc(1, s->slot_at + 16);
	memcpy(s->slot_var, name, len);
	s->slot_var[len] = '=';
	s->envp[n++] = s->slot_var;
	s->envp[n] = NULL;
}

/* Release the spawner. */
static void
local_free(void *ctx)
{
	struct spawner	*s = ctx;

	if (s->tty != -1)
		close(s->tty);
	posix_spawnattr_destroy(&s->attr);
	free(s->slot_var);
	free(s->envp);
	free(s);
	remove_private_dir();
}

/* Release any executor. */
void
executor_free(struct executor *ex)
{
	if (ex != NULL)
		ex->ops->free(ex->ctx);
}

/* The terminal's descriptor with --tty, or -1. */
static int
local_tty(void *ctx)
{
	struct spawner	*s = ctx;

	return s->tty;
}

/* Slots: as many as -j says. */
static unsigned int
local_slots(void *ctx)
{
	struct spawner	*s = ctx;

	return s->slots;
}

/* Every slot is on this machine. */
static const char *
local_host(void *ctx, unsigned int slot)
{
	(void)ctx;
	(void)slot;
	return NULL;
}

/* A local slot is always usable. */
static int
local_usable(void *ctx, unsigned int slot)
{
	(void)ctx;
	(void)slot;
	return 1;
}

/* The bytes a command line may take here. */
static size_t
local_line_max(void *ctx)
{
	struct spawner	*s = ctx;

	return s->line_max;
}

/* The bytes an argv and its pointers may take here. */
static size_t
local_arg_room(void *ctx)
{
	struct spawner	*s = ctx;

	return s->arg_room;
}

/* Whatever ended a local job was the job's own doing. */
static enum exec_ending
local_ending(void *ctx, struct job *j, int status)
{
	(void)ctx;
	(void)j;
	(void)status;
	return EXEC_DONE;
}

/* Signal the job's process group. */
static void
local_signal(void *ctx, const struct job *j, pid_t pgid, int sig)
{
	(void)ctx;
	(void)j;
	if (pgid > 0)
		(void)kill(-pgid, sig);
}

/* No local child is anyone's but a job's. */
static int
local_orphan(void *ctx, pid_t pid, int status)
{
	(void)ctx;
	(void)pid;
	(void)status;
	return 0;
}

/* Report why j could not start and mark it failed. */
static void
spawn_failed(struct job *j, int error)
{
	j->start_error = error;
	switch (error) {
	case ENOENT:
		warnx("%s: command not found", j->argv[0]);
		job_set_spawn_failure(j, 127);
		break;
	case EACCES:
	case ENOEXEC:
	case EISDIR:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
		warnx("%s: %s", j->argv[0], strerror(error));
		job_set_spawn_failure(j, 126);
		break;
	default:
		warnx("job %llu: cannot start %s: %s", j->seq, j->argv[0],
		    strerror(error));
		job_set_spawn_failure(j, 126);
		break;
	}
}

/*
 * Write FORKPOOL_SEQ and PARALLEL_SEQ, FORKPOOL_SLOT and PARALLEL_JOBSLOT,
 * and the --process-slot-var.
 */
static void
set_vars(struct spawner *s, const struct job *j)
{
	char	 seq[24], slot[16];
	size_t	 i;

	/* Each number is formatted once: this runs for every job. */
	(void)snprintf(seq, sizeof(seq), "%llu", j->seq);
	(void)snprintf(slot, sizeof(slot), "%u", j->slot);
	for (i = 0; i < NVARS; i++) {
		strlcpy(s->vars[i], job_vars[i], sizeof(s->vars[i]));
		strlcat(s->vars[i], "=", sizeof(s->vars[i]));
		strlcat(s->vars[i], i % 2 == 0 ? seq : slot,
		    sizeof(s->vars[i]));
	}
	if (s->slot_var != NULL)
		(void)snprintf(s->slot_var + s->slot_at, 16, "%u",
		    j->slot - 1);
}

/* Start one job; see exec.h. */
static enum exec_result
local_launch(void *ctx, struct job *j, int in, struct exec_proc *p)
{
	struct spawner			*s = ctx;
	posix_spawn_file_actions_t	 fa;
	int				 out[2] = { -1, -1 };
	int				 errp[2] = { -1, -1 };
	int				 rc;

	set_vars(s, j);

	if (s->capture && (pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(errp, O_CLOEXEC) == -1)) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	if (in != -1)
		posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    s->tty != -1 ? "/dev/tty" : "/dev/null", O_RDONLY, 0);
	/*
	 * The child takes the foreground before exec, so the job never
	 * reads the terminal as a background group.  Only from forkpool's
	 * own group: a forkpool in the background does not take the
	 * terminal from the shell.
	 */
	if (s->tty != -1 && tcgetpgrp(s->tty) == getpgrp())
		posix_spawn_file_actions_addtcsetpgrp_np(&fa, STDIN_FILENO);
	if (s->capture) {
		posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	}
	if (s->workdir != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, s->workdir);
	/*
	 * What forkpool inherited reaches the job, as with xargs(1): a
	 * <(...) or 9<file given on the command line.  Every descriptor
	 * forkpool opens itself is close-on-exec, so none of those does.
	 */
	rc = posix_spawnp(&p->pid, j->argv[0], &fa, &s->attr, j->argv,
	    s->envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		goto fail;
	if (s->capture) {
		close(out[1]);
		close(errp[1]);
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		p->fd[0] = out[0];
		p->fd[1] = errp[0];
	} else
		p->fd[0] = p->fd[1] = -1;
	return EXEC_OK;
fail:
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (errp[0] != -1) {
		close(errp[0]);
		close(errp[1]);
	}
	p->pid = -1;
	if (rc == EMFILE || rc == ENFILE)
		return EXEC_NOFDS;
	if (rc == EAGAIN || rc == ENOMEM)
		return EXEC_AGAIN;
	spawn_failed(j, rc);
	return EXEC_FAILED;
}

static const struct executor_ops	local_ops = {
	.slots = local_slots,
	.host = local_host,
	.usable = local_usable,
	.line_max = local_line_max,
	.arg_room = local_arg_room,
	.launch = local_launch,
	.ending = local_ending,
	.signal = local_signal,
	.orphan = local_orphan,
	.tty = local_tty,
	.free = local_free,
};
