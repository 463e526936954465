/*
 * Semaphore mode; see sem.h for the layout of a semaphore.
 *
 * Every waiter looks at the slots itself, with F_SETLK, which never
 * blocks, and then sleeps in poll(2) on an inotify(7) instance of its own
 * that watches the file for IN_CLOSE_WRITE.  A holder's last descriptor
 * of the file closes when it ends, and Linux drops a POSIX lock when the
 * descriptor is closed (filp_close()), before the close event of the file
 * is sent (__fput()): a waiter that wakes up finds the slot free.  No
 * waiter waits for another, so that one stopped (^Z) or one that wants a
 * slot held does not keep a free slot from the others.  Who looks first
 * after a close wins, as with GNU sem: there is no queue and no fairness.
 * A waiter that finds no inotify instance left (a user has 128 by
 * default) looks again every RETRY_MS instead.
 */
#include <sys/inotify.h>
#include <sys/prctl.h>
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

#include "job.h"
#include "sem.h"
#include "template.h"
#include "util.h"

extern char **environ;

/* The exit status when --semaphoretimeout gives up, as GNU sem's. */
#define EXIT_SEM_TIMEOUT	1

/* How often a waiter looks at the slots when it has no inotify instance. */
#define RETRY_MS		200

/* One semaphore, as a process waiting for it or holding it sees it. */
struct sem {
	const struct opts	*o;
	const char		*name;		/* --id, or name_buf */
	char			 name_buf[NAME_MAX + 1];
	char			*path;		/* owned: the semaphore's file */
	int			 fd;		/* the file, or -1 */
	int			 notify;	/* inotify watching it, or -1 */
	int			 present;	/* byte 0 read-locked: in use */
	long long		 deadline;	/* monotonic ms, 0: none */
	unsigned int		 slot;		/* held: 1..N, 0: none */
};

/* Whether name is a usable semaphore name; see sem.h. */
int
sem_check_name(const char *name)
{
	if (name[0] == '\0') {
		warnx("--id: the name is empty");
		return -1;
	}
	if (strchr(name, '/') != NULL) {
		warnx("--id %s: the name may not contain '/'", name);
		return -1;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		warnx("--id %s: not a valid name", name);
		return -1;
	}
	return 0;
}

/*
 * Whether argv0 names semaphore mode: forkpool-sem, which make install
 * links, or sem, which it does not (GNU parallel has one), for those who
 * link it themselves.
 */
int
sem_called_as(const char *argv0)
{
	const char	*base = strrchr(argv0, '/');

	base = base != NULL ? base + 1 : argv0;
	return strcmp(base, "forkpool-sem") == 0 || strcmp(base, "sem") == 0;
}

/*
 * GNU sem's default name is the terminal's: "tty-pts-3" for /dev/pts/3,
 * "notty" when stdin is no terminal.
 */
static void
default_name(struct sem *s)
{
	char		 path[PATH_MAX] = "";
	const char	*tty = path;
	char		*p;

	if (ttyname_r(STDIN_FILENO, path, sizeof(path)) != 0) {
		strlcpy(s->name_buf, "notty", sizeof(s->name_buf));
		return;
	}
	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	strlcpy(s->name_buf, "tty-", sizeof(s->name_buf));
	strlcat(s->name_buf, tty, sizeof(s->name_buf));
	for (p = s->name_buf; *p != '\0'; p++)
		if (*p == '/')
			*p = '-';
}

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds to the deadline, at least 0; -1 without one (poll(2)). */
static int
remaining_ms(const struct sem *s)
{
	long long	 left;

	if (s->deadline == 0)
		return -1;
	left = s->deadline - now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Make directory path (mode 0700) unless it is there; with check, it must
 * be the user's and closed to others, since who can write in it can take
 * or block the user's slots.  -1 after a message.
 */
static int
make_dir(const char *path, int check)
{
	struct stat	 sb;

	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		warn("%s", path);
		return -1;
	}
	if (!check)
		return 0;
	if (lstat(path, &sb) == -1) {
		warn("%s", path);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		warnx("%s: not a directory", path);
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		warnx("%s: owned by another user", path);
		return -1;
	}
	if ((sb.st_mode & 077) != 0) {
		warnx("%s: not private to its owner (mode %o)", path,
		    (unsigned int)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * The directory of the semaphores, made as needed (with create), into
 * dir: $XDG_RUNTIME_DIR/forkpool/sem, a file system of the user's own
 * that ends with the session, else $XDG_CACHE_HOME or ~/.cache.  0 when
 * it is there, 1 when it is not (without create), -1 after a message.
 */
static int
sem_dir(struct buf *dir, int create)
{
	const char	*base, *home, *runtime;
	struct stat	 sb;
	size_t		 at;
	int		 gone = 0;

	/*
	 * The XDG Base Directory spec: without a runtime directory, fall
	 * back to one alike and warn.  One set to a directory that is not
	 * there (a session that ended, su) is taken as unset.
	 */
	runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime != NULL && runtime[0] == '/') {
		if (stat(runtime, &sb) == -1)
			gone = errno;
		else if (!S_ISDIR(sb.st_mode))
			gone = ENOTDIR;
	}
	if (runtime != NULL && runtime[0] == '/' && gone == 0)
		buf_adds(dir, runtime);
	else {
		if ((base = getenv("XDG_CACHE_HOME")) != NULL &&
		    base[0] == '/')
			buf_adds(dir, base);
		else if ((home = getenv("HOME")) != NULL && home[0] == '/') {
			buf_adds(dir, home);
			buf_adds(dir, "/.cache");
		} else {
			warnx("--semaphore: neither XDG_RUNTIME_DIR nor HOME "
			    "is set to a directory for the semaphores");
			return -1;
		}
		if (gone != 0)
			warnx("XDG_RUNTIME_DIR %s: %s: the semaphores are kept "
			    "in %s/forkpool/sem instead", runtime,
			    strerror(gone), dir->data);
		if (create && make_dir(dir->data, 0) == -1)
			return -1;
	}
	at = dir->len;
	buf_adds(dir, "/forkpool/sem");
	if (!create)
		return stat(dir->data, &sb) == 0 ? 0 : 1;
	dir->data[at + strlen("/forkpool")] = '\0';
	if (make_dir(dir->data, 0) == -1)
		return -1;
	dir->data[at + strlen("/forkpool")] = '/';
	return make_dir(dir->data, 1);
}

/*
 * Open the semaphore's file: for waiting on it (create), or for --wait,
 * which leaves one never used alone.  0, 1 when it is not there (without
 * create), -1 after a message.
 */
static int
sem_open(struct sem *s, int create)
{
	struct buf	 dir = { 0 };
	int		 r;

	if (s->path == NULL) {
		if ((r = sem_dir(&dir, create)) != 0) {
			buf_free(&dir);
			return r;
		}
		buf_addc(&dir, '/');
		buf_adds(&dir, s->name);
		s->path = dir.data;
	}
	/* A write-open descriptor: a lock needs one, and so does the event. */
	s->fd = open(s->path, (create ? O_RDWR | O_CREAT : O_RDONLY) |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd == -1) {
		if (!create && errno == ENOENT)
			return 1;
		warn("%s", s->path);
		return -1;
	}
	return 0;
}

/*
 * Watch the file open for a holder's last close; without inotify (out of
 * instances) the waiter looks again every RETRY_MS instead.  The watch
 * goes through /proc/self/fd: the path may name a newer file already.
 */
static void
sem_watch(struct sem *s)
{
	char	 proc[64];

	if ((s->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return;
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->fd);
	if (inotify_add_watch(s->notify, proc, IN_CLOSE_WRITE) == -1) {
		close(s->notify);
		s->notify = -1;
	}
}

/* Close the file and its watch, which drops every lock held on it. */
static void
sem_close(struct sem *s)
{
	if (s->notify != -1)
		close(s->notify);
	s->notify = -1;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->present = 0;
}

/*
 * Whether the file open is still the one at the path: 1, 0 when it was
 * removed, -1 after a message.
 */
static int
same_file(const struct sem *s)
{
	struct stat	 open_sb, path_sb;

	if (fstat(s->fd, &open_sb) == -1) {
		warn("%s", s->path);
		return -1;
	}
	if (lstat(s->path, &path_sb) == -1) {
		if (errno == ENOENT)
			return 0;
		warn("%s", s->path);
		return -1;
	}
	return open_sb.st_dev == path_sb.st_dev &&
	    open_sb.st_ino == path_sb.st_ino;
}

/*
 * Sleep until the file was closed by a writer or the deadline passed;
 * 1 when it passed, 0 to look again, -1 after a message.
 */
static int
sem_sleep(struct sem *s)
{
	struct pollfd	 pfd = { .fd = s->notify, .events = POLLIN };
	char		 ev[4096];
	int		 left, ms, n;

	left = remaining_ms(s);
	if (left == 0)
		return 1;
	ms = s->notify != -1 || (left != -1 && left < RETRY_MS) ? left :
	    RETRY_MS;
	if ((n = poll(&pfd, s->notify != -1, ms)) == -1 && errno != EINTR) {
		warn("poll");
		return -1;
	}
	/* The events say only that something closed: drain them. */
	while (n > 0 && read(s->notify, ev, sizeof(ev)) > 0)
		;
	return 0;
}

/*
 * Lock (type F_RDLCK, F_WRLCK) or unlock (F_UNLCK) byte at of the file,
 * without waiting: -1 with EAGAIN or EACCES when another holds it.
 */
static int
lock_byte(int fd, off_t at, short type)
{
	struct flock	 fl = { 0 };

	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	return fcntl(fd, F_SETLK, &fl);
}

/*
 * Take the first of slots 1..-j that is free, without waiting; 0, 1 when
 * none is, -1 after a message.
 */
static int
sem_try_slots(struct sem *s)
{
	unsigned int	 k;

	for (k = 1; ; k++) {
		if (lock_byte(s->fd, k, F_WRLCK) == 0) {
			s->slot = k;
			return 0;
		}
		if (errno != EAGAIN && errno != EACCES) {
			warn("%s", s->path);
			return -1;
		}
		if (k == s->o->jobs)
			return 1;
	}
}

/*
 * Open the file and say that this process uses it by a read lock on byte
 * 0, which keeps the others from removing it (see sem_leave); 0, 1 at the
 * deadline, -1 after a message.  The file may have been removed between
 * the open and the lock, by one that left last: the lock is on the file
 * at the path only if it is still there once the lock is held, since
 * removing it takes byte 0 for writing.  Otherwise open it again.
 */
static int
sem_enter(struct sem *s)
{
	int	 r;

	for (;;) {
		if (s->fd == -1) {
			if ((r = sem_open(s, 1)) != 0)
				return r;
			/* Watching before looking: a close after it is seen. */
			sem_watch(s);
		}
		if (lock_byte(s->fd, 0, F_RDLCK) == 0) {
			if ((r = same_file(s)) != 0) {
				s->present = r == 1;
				return r == 1 ? 0 : -1;
			}
			sem_close(s);
			continue;
		}
		if (errno != EAGAIN && errno != EACCES) {
			warn("%s", s->path);
			return -1;
		}
		/* One that left last is removing it: until its close. */
		if ((r = sem_sleep(s)) != 0)
			return r;
	}
}

/* Take a free slot into s->slot; 0, 1 at the deadline, -1 after a message. */
static int
sem_acquire(struct sem *s)
{
	int	 r;

	if ((r = sem_enter(s)) == 0)
		while ((r = sem_try_slots(s)) == 1 && (r = sem_sleep(s)) == 0)
			;
	if (s->notify != -1)
		close(s->notify);
	s->notify = -1;
	return r;
}

/*
 * Stop using the semaphore; the process that leaves last removes the
 * file, so that names such as --id job$$ do not pile up.  Each drops its
 * read lock before it tries for the write lock: were it to convert the
 * one into the other, two leaving at once would each see the other and
 * neither would remove it.  Once a process holds the write lock, none can
 * remove the file but itself, and one that opens it meanwhile finds it
 * gone (sem_enter); the file must still be the one at the path, since
 * another may have removed it between the unlock and the lock.  The slot
 * stays held until the close, so that --wait sees it free only then.
 */
static void
sem_leave(struct sem *s)
{
	if (s->present) {
		(void)lock_byte(s->fd, 0, F_UNLCK);
		if (lock_byte(s->fd, 0, F_WRLCK) == 0 &&
		    same_file(s) == 1)
			(void)unlink(s->path);
	}
	sem_close(s);
}

/* Set the job's variables for the command: job 1 in the slot held. */
static void
set_job_vars(unsigned int slot)
{
	char	 num[16];

	(void)snprintf(num, sizeof(num), "%u", slot);
	(void)setenv("FORKPOOL_SEQ", "1", 1);
	(void)setenv("PARALLEL_SEQ", "1", 1);
	(void)setenv("FORKPOOL_SLOT", num, 1);
	(void)setenv("PARALLEL_JOBSLOT", num, 1);
}

/*
 * Start the command as *pid, in forkpool's process group, so that the
 * terminal's signals reach it as they would without forkpool; it keeps
 * forkpool's stdin, stdout, stderr and other descriptors, but not the
 * semaphore's file.  0, or the exit status after a message.
 */
static int
sem_spawn(const struct sem *s, const struct template *t, pid_t *pid)
{
	struct template_args	 a = { 0 };
	posix_spawnattr_t	 attr;
	struct job		*j;
	sigset_t		 none, def;
	size_t			 argc;
	int			 rc, status = 0;

	j = job_new(1);
	a.seq = 1;
	a.slot = s->slot;
	argc = template_expand(t, &a, &j->cmd, NULL);
	job_set_argv(j, argc, template_uses_shell(t) ? template_shell(t) :
	    NULL);
	set_job_vars(s->slot);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	if (j->argv[0] == NULL) {
		warnx("--semaphore: the command is empty");
		status = EXIT_FORKPOOL_ERROR;
	} else if ((rc = posix_spawnp(pid, j->argv[0], NULL, &attr, j->argv,
	    environ)) != 0) {
		if (rc == ENOENT)
			warnx("%s: command not found", j->argv[0]);
		else
			warnx("%s: %s", j->argv[0], strerror(rc));
		status = rc == ENOENT ? 127 : 126;
	}
	posix_spawnattr_destroy(&attr);
	job_free(j);
	return status;
}

/*
 * Wait for the command and return its exit status, 128 plus the signal
 * that killed it.  SIGTERM and SIGHUP sent to forkpool are passed on;
 * SIGINT and SIGQUIT, which the terminal sends the command itself, are
 * ignored, as system(3) does.  sigs is blocked already, so that none
 * is lost before the command started.
 */
static int
sem_supervise(pid_t pid, const sigset_t *sigs)
{
	int	 sig, status;

	for (;;) {
		if ((sig = sigwaitinfo(sigs, NULL)) == -1)
			continue;
		if (sig == SIGTERM || sig == SIGHUP)
			(void)kill(pid, sig);
		else if (sig == SIGCHLD && waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Take a slot, start the command and tell the parent (report, -1 for
 * none) the status so far: 0 once the command started.  Returns the exit
 * status.
 */
static int
sem_hold(struct sem *s, const struct template *t, int report)
{
	const char	*arg = s->o->sem_timeout_arg;
	sigset_t	 sigs;
	pid_t		 pid;
	unsigned char	 byte;
	int		 r, status;

	r = sem_acquire(s);
	if (r == 1 && s->o->sem_timeout_ms < 0) {
		warnx("--semaphoretimeout %s: no slot of semaphore %s came "
		    "free in time: giving up", arg, s->name);
		status = EXIT_SEM_TIMEOUT;
		goto done;
	}
	if (r == 1)
		warnx("--semaphoretimeout %s: no slot of semaphore %s came "
		    "free in time: running the command anyway", arg, s->name);
	else if (r == -1) {
		status = EXIT_FORKPOOL_ERROR;
		goto done;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((status = sem_spawn(s, t, &pid)) != 0)
		goto done;
	if (report != -1) {
		/* Started: the parent's end no longer ends the command. */
		(void)prctl(PR_SET_PDEATHSIG, 0);
		byte = 0;
		(void)write_all(report, &byte, 1);
		close(report);
	}
	/* The blocked SIGINT and SIGQUIT stay pending, unseen. */
	sigdelset(&sigs, SIGINT);
	sigdelset(&sigs, SIGQUIT);
	return sem_supervise(pid, &sigs);
done:
	if (report != -1) {
		byte = (unsigned char)status;
		(void)write_all(report, &byte, 1);
		close(report);
	}
	return status;
}

/*
 * In the background: a child waits, holds the slot, runs the command and
 * returns its status once it ended; the parent returns what the child
 * reports once it started the command, or why it did not.
 */
static int
sem_background(struct sem *s, const struct template *t)
{
	pid_t		 parent = getpid(), pid;
	unsigned char	 byte;
	ssize_t		 n;
	int		 p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1) {
		warn("pipe");
		return EXIT_FORKPOOL_ERROR;
	}
	if ((pid = fork()) == -1) {
		warn("fork");
		close(p[0]);
		close(p[1]);
		return EXIT_FORKPOOL_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		/* A waiter whose caller was killed does not run on alone. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			return EXIT_FORKPOOL_ERROR;
		return sem_hold(s, t, p[1]);
	}
	close(p[1]);
	while ((n = read(p[0], &byte, 1)) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n == 1 && byte == 0)
		return 0;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n == 1)
		return byte;
	if (WIFSIGNALED(status))
		warnx("--semaphore: the process waiting for semaphore %s was "
		    "killed by signal %d", s->name, WTERMSIG(status));
	return EXIT_FORKPOOL_ERROR;
}

/* --wait: until no slot of the semaphore is held; the exit status. */
static int
sem_wait_all(struct sem *s)
{
	const char	*arg = s->o->sem_timeout_arg;
	struct flock	 fl;
	int		 r;

	if ((r = sem_open(s, 0)) != 0)
		return r == 1 ? 0 : EXIT_FORKPOOL_ERROR;
	sem_watch(s);
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = 1;
		fl.l_len = 0;	/* every slot, whatever -j they had */
		if (fcntl(s->fd, F_GETLK, &fl) == -1) {
			warn("%s", s->path);
			return EXIT_FORKPOOL_ERROR;
		}
		if (fl.l_type == F_UNLCK)
			return 0;
		if ((r = sem_sleep(s)) == -1)
			return EXIT_FORKPOOL_ERROR;
		if (r == 1)
			break;
	}
	warnx("--semaphoretimeout %s: semaphore %s still has commands "
	    "running: %s", arg, s->name, s->o->sem_timeout_ms < 0 ?
	    "giving up" : "going on");
	return s->o->sem_timeout_ms < 0 ? EXIT_SEM_TIMEOUT : 0;
}

/* Run in semaphore mode; see sem.h. */
int
sem_run(const struct opts *o)
{
	struct sem	 s = { .o = o, .fd = -1, .notify = -1 };
	struct template	*t = NULL;
	long long	 ms;
	int		 status;

	if (o->sem_id != NULL)
		s.name = o->sem_id;
	else {
		default_name(&s);
		s.name = s.name_buf;
	}
	if (o->sem_timeout_ms != 0) {
		ms = o->sem_timeout_ms < 0 ? -o->sem_timeout_ms :
		    o->sem_timeout_ms;
		s.deadline = now_ms() + ms;
	}
	if (o->sem_wait)
		status = sem_wait_all(&s);
	else if ((t = template_new(o->cmd, o->ncmd, TEMPLATE_COMMAND,
	    o)) == NULL)
		status = EXIT_FORKPOOL_ERROR;
	else if (o->sem_fg)
		status = sem_hold(&s, t, -1);
	else
		status = sem_background(&s, t);
	template_free(t);
	sem_leave(&s);
	free(s.path);
	return status;
}
