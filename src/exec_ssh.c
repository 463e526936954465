/*
 * The OpenSSH executor: the slots of every login given with -S and
 * --sshloginfile.  A remote job is an ssh process on this machine, run
 * by the local executor in its own process group, whose remote command
 * is a POSIX sh wrapper around the job's argv.  The slots of ":" are
 * this machine's, and their jobs are the local executor's as they are.
 *
 * One master connection per host (ControlMaster) serves every job of the
 * host, unless --no-multiplex: its socket is in a private directory made
 * under the tmpdir, and the master is a child of forkpool that dies with
 * it (PR_SET_PDEATHSIG), is reaped by the runner (orphan()) and is closed
 * when the executor is released, or at exit.
 *
 * ssh exits 255 both when it fails and when the remote command does: the
 * transport failed when ssh logged an error of its own (-E, LogLevel
 * ERROR), when its log (-v) holds no exit status from the remote side and
 * the job ran without a master, or, through a master, when the master has
 * gone, no longer answers on its socket, or no session opens through it
 * (a remote command killed by a signal also leaves no exit status, but
 * its master still answers and serves).
 * Such a job runs again elsewhere; a host that fails three times in a
 * row is dropped.
 *
 * Files (--transferfile, --return, --cleanup) move as part of the job's
 * own process, not from the executor: a job that moves files is a local
 * /bin/sh, leader of the job's process group, that runs rsync for each
 * file to send, the job's ssh, rsync for each file to return, and the
 * ssh of the cleanup, one after another (see xfer_script()).  Timeouts,
 * Ctrl-C and --halt reach every step as they reach the job, with no
 * state of the executor's to keep; the job's exit status is its
 * command's, and what went wrong is left in a file of the private
 * directory that ending() reads.  --basefile is sent once per host at
 * the start, and removed (with --cleanup), like --workdir ..., when the
 * executor is released or a signal ends the start, on the hosts a job
 * or a copy reached, waiting a bounded time for each.
 * --sshdelay spaces every start of ssh, masters, CPU counts and jobs:
 * at the start by waiting, in the run by a remote slot that is not
 * usable until the delay has passed.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
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

extern char **environ;

/* Failures in a row after which a host is dropped. */
#define HOST_FAILS	3

/* How long the start waits for a master connection or a CPU count. */
#define CONNECT_WAIT_MS	60000

/* How long a master has to end after SIGTERM before it is killed. */
#define STOP_WAIT_MS	2000

/* How long a master has to answer whether it still serves its clients. */
#define ANSWER_WAIT_MS	10000

/*
 * A socket's path must fit sun_path (108 bytes with its NUL); ssh binds
 * the master's at the path plus ".XXXXXXXXXXXXXXXX" first, then links it.
 */
#define SOCKET_PATH_MAX	(108 - 1 - 17)

/*
 * The longest remote command line: it is one argument of ssh, and of
 * the remote shell, which Linux holds to 32 pages (MAX_ARG_STRLEN).
 */
#define REMOTE_LINE_MAX	(128 * 1024)

/* What the remote side runs to count its CPUs. */
#define CPU_QUERY	"nproc 2>/dev/null || getconf _NPROCESSORS_ONLN"

/*
 * The remote wrapper, run by /bin/sh as "sh -c WRAPPER forkpool MODE
 * ARGV...".  sshd makes the remote command the leader of a session and
 * process group of its own, and the wrapper is exec'd in its place, so
 * that "kill 0" ends the job's whole tree.  A watcher runs in the
 * background and waits for the connection to go: with MODE i, the
 * job's stdin is /dev/null and the watcher alone holds the wrapper's
 * stdin, a pipe forkpool holds open while the job runs, so its end of
 * file means that ssh or forkpool is gone; with MODE p, stdin is the
 * job's (pipe mode), and the watcher looks every second whether sshd,
 * the wrapper's parent, is still there.  The watcher ignores the TERM it
 * sends.  The job runs in the foreground, in a subshell so that a
 * builtin cannot change the wrapper: POSIX sh starts a background
 * command with SIGINT and SIGQUIT ignored, which the job would keep.
 */
static const char wrapper[] =
    "m=$1; shift; p=$PPID; exec 3<&0 </dev/null; "
    "{ trap '' TERM; "
    "if [ \"$m\" = p ]; then exec 3<&-; while kill -0 \"$p\" 2>/dev/null; "
    "do sleep 1; done; "
    "else while read -r _; do :; done <&3; fi; "
    "kill -TERM 0; sleep 2; kill -KILL 0; } </dev/null >/dev/null 2>&1 & "
    "w=$!; if [ \"$m\" = p ]; then exec <&3; fi; exec 3<&-; "
    "(\"$@\"); s=$?; kill -KILL \"$w\" 2>/dev/null; exit \"$s\"";

/* One login: a host, or ":" for this machine. */
struct host {
	char		*login;		/* as written, without N/ */
	char		*name;		/* the host, for {host} and messages */
	char		**ssh;		/* owned words of its ssh command,
					   NULL-terminated, strings in sshbuf */
	char		*sshbuf;	/* owned */
	char		*dest;		/* [user@]host, as ssh takes it */
	char		*port;		/* or NULL */
	unsigned int	 ncpus;		/* N/, or 0: ask the host */
	unsigned int	 slots;
	int		 local;		/* ":" */
	int		 dropped;
	int		 may_return;	/* dropped for its failures: taken
					   back when its file lists it again */
	int		 unlisted;	/* no longer in its --sshloginfile */
	unsigned int	 fails;		/* failures in a row */
	pid_t		 master;	/* the master connection, or -1 */
	int		 closing;	/* its end was asked for */
	int		 touched;	/* a job or a --basefile copy was
					   started there: the run's files
					   may be there */
	char		*sock;		/* owned: its socket's path */
	char		*wd;		/* owned: the jobs' directory there
					   (--workdir), or NULL: the login's */
	const struct login_arg *from;	/* the -S or file it came from */
	size_t		 line;		/* its line in that file, or 0 */
};

/* A --sshloginfile as last read. */
struct loginfile {
	const struct login_arg	*l;
	char			*path;		/* owned: the file opened */
	struct stat		 st;
};

struct sshexec {
	struct executor		 ex;
	struct executor		*spawn;		/* owned: the local executor,
						   for ssh and for ":" */
	struct host		*hosts;		/* owned */
	size_t			 nhosts;
	unsigned int		 nslots;
	unsigned int		*slot_host;	/* owned: slot - 1 -> host */
	int			*alive;		/* owned: slot - 1 -> the write
						   end of a job's stdin that
						   tells it forkpool is there,
						   or -1 */
	int			*direct;	/* owned: slot - 1 -> its job
						   runs without a master */
	int			*ended;		/* owned: slot - 1 -> the last
						   signal that ends it
						   (timeout, halt, a signal
						   of its own) forkpool sent
						   its job, or 0 */
	char			*dir;		/* owned: the private directory,
						   or NULL */
	int			 mux;		/* masters, not --no-multiplex */
	int			 none_left;	/* every host was dropped */
	int			 base_failed;	/* a host was dropped at the
						   start for its basefiles */
	struct loginfile	*files;		/* owned: the --sshloginfile
						   files, read again when they
						   change */
	size_t			 nfiles;
	long long		 files_seen;	/* when they were last looked
						   at, or 0 */
	int			 has_local;	/* a ":" login */
	struct buf		 envs;		/* --env: " NAME=VALUE" for
						   each, quoted */
	char			**defssh;	/* owned: --ssh's words */
	char			*defsshbuf;
	/* Jobs on ":" (--workdir, --process-slot-var there). */
	struct executor		*here;		/* owned, or NULL: no ":" */
	const char		*slot_var;	/* borrowed, or NULL */
	/* Files moved (see xfer_script()). */
	char			*cwd;		/* owned: forkpool's directory */
	char			*rsync;		/* owned: its path, or NULL */
	struct template		**tf;		/* owned: --transferfile's */
	size_t			 ntf;
	size_t			 ntf_named;	/* the first, --transferfile's;
						   the last, --transfer's */
	struct template		**ret;		/* owned: --return's */
	size_t			 nret;
	char			**words;	/* owned: the templates' text */
	struct buf		 base;		/* --basefile's names, each
						   NUL-terminated */
	size_t			 nbase;
	int			 cleanup;	/* --cleanup */
	int			 wd_private;	/* --workdir ... */
	int			*moves;		/* owned: slot - 1 -> its job
						   moves files */
	int			 ready;		/* the hosts were set up */
	long long		 delay_ms;	/* --sshdelay, or 0 */
	long long		 last_ssh_ms;	/* when ssh last started */
};

/*
 * Variables that describe this machine, not the job: --env _ leaves
 * them here.
 */
static const char *const env_local[] = {
	"_", "DISPLAY", "HOME", "HOSTNAME", "LOGNAME", "MAIL", "OLDPWD",
	"PATH", "PWD", "SHELL", "SHLVL", "SSH_AGENT_PID", "SSH_AUTH_SOCK",
	"SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "TERM", "TMPDIR", "TZ",
	"USER", "XDG_RUNTIME_DIR", "XDG_SESSION_ID"
};

/* Whether NAME (of len bytes) is one that --env _ leaves here. */
static int
env_is_local(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(env_local) / sizeof(env_local[0]); i++)
		if (strlen(env_local[i]) == len &&
		    strncmp(env_local[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * --env: " NAME=VALUE" for every variable of the environment that a NAME
 * names or matches, each word quoted for the remote shell.  Only names a
 * shell takes go: a bash function (BASH_FUNC_f%%) needs bash, not the
 * remote sh.
 */
static void
env_words(struct sshexec *s, const struct opts *o)
{
	char		**e, name[256];
	const char	*eq;
	size_t		 i, len;

	for (e = environ; *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL ||
		    (len = (size_t)(eq - *e)) == 0 || len >= sizeof(name) ||
		    strspn(*e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_") != len || (**e >= '0' && **e <= '9'))
			continue;
		memcpy(name, *e, len);
		name[len] = '\0';
		for (i = 0; i < o->nenv; i++)
			if (strcmp(o->env[i], "_") == 0 ?
			    !env_is_local(name, len) :
			    fnmatch(o->env[i], name, 0) == 0)
				break;
		if (i == o->nenv)
			continue;
		buf_addc(&s->envs, ' ');
		shell_quote(&s->envs, *e, strlen(*e));
	}
}

/*
 * Refuse --env values that leave no room on the remote command line
 * beside the wrapper, which every job's holds; else every job would fail
 * for its length.  -1 after a message.
 */
static int
check_env_room(const struct sshexec *s)
{
	struct buf	 w = { 0 };
	size_t		 room;

	shell_quote(&w, wrapper, sizeof(wrapper) - 1);
	room = REMOTE_LINE_MAX - 1 - w.len;
	buf_free(&w);
	if (s->envs.len <= room)
		return 0;
	warnx("--env: the variables take %zu bytes of the remote command "
	    "line, which has room for %zu of its %d", s->envs.len, room,
	    REMOTE_LINE_MAX);
	return -1;
}

/* For the exit(3) after a fatal error: masters and directory go. */
static struct sshexec	*live_ssh;

/* Release what a host owns. */
static void
host_free(struct host *h)
{
	free(h->login);
	free(h->name);
	free(h->ssh);
	free(h->sshbuf);
	free(h->dest);
	free(h->port);
	free(h->sock);
	free(h->wd);
}

/*
 * Where the port of an IPv6 address as GNU parallel writes it starts:
 * the p or # of ADDRpPORT or ADDR#PORT, when what comes before is an
 * address; else NULL.  Neither letter is a hex digit, so the address
 * cannot end with one.
 */
static const char *
ipv6_port(const char *host)
{
	struct in6_addr	 a;
	const char	*p = strrchr(host, 'p'), *q = strrchr(host, '#');
	char		 addr[INET6_ADDRSTRLEN];
	size_t		 len;

	if (p == NULL || (q != NULL && q > p))
		p = q;
	if (p == NULL || strspn(p + 1, "0123456789") != strlen(p + 1) ||
	    (len = (size_t)(p - host)) >= sizeof(addr))
		return NULL;
	memcpy(addr, host, len);
	addr[len] = '\0';
	return inet_pton(AF_INET6, addr, &a) == 1 ? p : NULL;
}

/*
 * Parse one login, [N/][SSHCMD ][USER@]HOST[:PORT] or [N/]:, into h.
 * -1 with *why set to the problem.
 */
static int
parse_login(const char *s, struct host *h, const char **why)
{
	static char	 msg[64];
	const char	*errstr, *p, *at, *colon;
	char		 digits[16], *last, *host;
	size_t		 n, nw;

	memset(h, 0, sizeof(*h));
	h->master = -1;
	s += strspn(s, " \t");
	if (*s == '\0') {
		*why = "an empty login";
		return -1;
	}
	if (*s == '@') {
		*why = "host groups are not supported";
		return -1;
	}
	/* N/, or a bare / (GNU parallel's, for a command's absolute path). */
	n = strspn(s, "0123456789");
	if (s[n] == '/') {
		if (n > 0) {
			if (n >= sizeof(digits))
				n = sizeof(digits) - 1;
			memcpy(digits, s, n);
			digits[n] = '\0';
			h->ncpus = (unsigned int)strtonum(digits, 1, 100000,
			    &errstr);
			if (errstr != NULL) {
				(void)snprintf(msg, sizeof(msg), "the number "
				    "of job slots is %s: %s", errstr, digits);
				*why = msg;
				return -1;
			}
		}
		s += strspn(s, "0123456789") + 1;
	}
	h->login = xstrdup(s);
	n = strlen(h->login);
	while (n > 0 && strchr(" \t\r\n", h->login[n - 1]) != NULL)
		h->login[--n] = '\0';
	if (strcmp(h->login, ":") == 0) {
		h->local = 1;
		h->name = xstrdup(":");
		return 0;
	}
	if (strcmp(h->login, "-") == 0) {
		*why = "logins from stdin are not supported";
		return -1;
	}
	h->ssh = split_words(h->login, &h->sshbuf, &nw);
	if (nw == 0) {
		*why = "no host";
		return -1;
	}
	last = h->ssh[nw - 1];
	h->ssh[nw - 1] = NULL;
	/* ssh would take it as an option, such as -oProxyCommand=CMD. */
	if (last[0] == '-') {
		*why = "a host cannot start with -";
		return -1;
	}
	if ((at = strrchr(last, '@')) != NULL) {
		if (memchr(last, ':', (size_t)(at - last)) != NULL) {
			*why = "a password in a login is not supported; use "
			    "a key";
			return -1;
		}
		host = (char *)at + 1;
	} else
		host = last;
	/*
	 * [ADDR]:PORT, HOST:PORT; an IPv6 address has several colons, and
	 * its port comes after p or # (ADDRpPORT, ADDR#PORT).
	 */
	if (*host == '[' && (p = strchr(host, ']')) != NULL) {
		/* [ADDR]:PORT, [ADDR]pPORT or [ADDR]#PORT, or [ADDR] */
		colon = strchr(":p#", p[1]) != NULL && p[1] != '\0' ?
		    p + 1 : NULL;
		if (colon == NULL && p[1] != '\0') {
			*why = "what follows ] is not :PORT";
			return -1;
		}
		h->name = xstrdup(host + 1);
		h->name[p - host - 1] = '\0';
	} else {
		colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = ipv6_port(host);
		h->name = xstrdup(host);
		if (colon != NULL)
			h->name[colon - host] = '\0';
	}
	if (h->name[0] == '\0') {
		*why = "no host";
		return -1;
	}
	if (colon != NULL) {
		(void)strtonum(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL) {
			(void)snprintf(msg, sizeof(msg), "the port is %s: %.24s",
			    errstr, colon + 1);
			*why = msg;
			return -1;
		}
		h->port = xstrdup(colon + 1);
	}
	n = at != NULL ? (size_t)(at + 1 - last) : 0;
	h->dest = xmalloc(n + strlen(h->name) + 1);
	memcpy(h->dest, last, n);
	strlcpy(h->dest + n, h->name, strlen(h->name) + 1);
	/* The login's own ssh command, or NULL for --ssh's. */
	if (nw == 1) {
		free(h->ssh);
		h->ssh = NULL;
	}
	return 0;
}

/* Add a host parsed from s; -1 after a message naming opt and where. */
static int
add_login(struct sshexec *s, const struct login_arg *l, size_t line,
    const char *item)
{
	const char	*opt = l->opt, *whole = l->value;
	char		 where[32];
	struct host	 h;
	const char	*why;

	if (parse_login(item, &h, &why) == -1) {
		(void)snprintf(where, sizeof(where), "line %zu", line);
		if (line != 0)
			warnx("%s %s: %s: %s: %s", opt, whole, where, item, why);
		else
			warnx("%s %s: %s", opt, whole, why);
		host_free(&h);
		return -1;
	}
	h.from = l;
	h.line = line;
	s->hosts = xreallocarray(s->hosts, s->nhosts + 1, sizeof(*s->hosts));
	s->hosts[s->nhosts++] = h;
	return 0;
}

/*
 * The logins of one -S value: separated by commas or newlines; "\," and
 * ",," stand for a comma; an empty item is none.  -1 after a message.
 */
static int
add_logins(struct sshexec *s, const struct login_arg *l)
{
	struct buf	 item = { 0 };
	const char	*p;
	int		 rc = 0;

	for (p = l->value; rc == 0; p++) {
		if ((p[0] == '\\' || p[0] == ',') && p[1] == ',') {
			buf_addc(&item, ',');
			p++;
			continue;
		}
		if (*p != ',' && *p != '\n' && *p != '\0') {
			buf_addc(&item, *p);
			continue;
		}
		buf_addc(&item, '\0');
		/* As GNU parallel passes over a trailing comma: any empty item. */
		if (item.data[strspn(item.data, " \t\r")] != '\0')
			rc = add_login(s, l, 0, item.data);
		buf_reset(&item);
		if (*p == '\0')
			break;
	}
	buf_free(&item);
	return rc;
}

/*
 * Open a --sshloginfile: ".." is ~/.parallel/sshloginfile, "." is
 * /etc/parallel/sshloginfile; a name not found here is looked for in
 * ~/.parallel.  NULL after a message naming the file as given.
 */
static FILE *
open_login_file(const struct login_arg *l, char **pathp)
{
	struct buf	 path = { 0 };
	const char	*home = getenv("HOME");
	FILE		*f;
	int		 saved;

	if (strcmp(l->value, "..") == 0 && home != NULL) {
		buf_adds(&path, home);
		buf_adds(&path, "/.parallel/sshloginfile");
	} else if (strcmp(l->value, ".") == 0)
		buf_adds(&path, "/etc/parallel/sshloginfile");
	else
		buf_adds(&path, l->value);
	f = fopen(path.data, "re");
	saved = errno;
	if (f == NULL && errno == ENOENT && strchr(l->value, '/') == NULL &&
	    strcmp(l->value, ".") != 0 && strcmp(l->value, "..") != 0 &&
	    home != NULL) {
		buf_reset(&path);
		buf_adds(&path, home);
		buf_adds(&path, "/.parallel/");
		buf_adds(&path, l->value);
		f = fopen(path.data, "re");
	}
	if (f == NULL) {
		warnx("%s %s: %s", l->opt, l->value, strerror(saved));
		buf_free(&path);
	} else
		*pathp = path.data;
	return f;
}

/* The logins of a file, one a line.  -1 after a message. */
static int
add_login_file(struct sshexec *s, const struct login_arg *l)
{
	struct loginfile	*lf;
	char			*line = NULL, *path;
	size_t			 cap = 0, n, lineno = 0;
	ssize_t			 len;
	FILE			*f;
	int			 rc = 0;

	if (strcmp(l->value, "-") == 0) {
		warnx("%s -: logins from stdin are not supported", l->opt);
		return -1;
	}
	if ((f = open_login_file(l, &path)) == NULL)
		return -1;
	s->files = xreallocarray(s->files, s->nfiles + 1, sizeof(*s->files));
	lf = &s->files[s->nfiles++];
	lf->l = l;
	lf->path = path;
	if (fstat(fileno(f), &lf->st) == -1)
		memset(&lf->st, 0, sizeof(lf->st));
	while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		n = (size_t)len;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		n = strspn(line, " \t");
		if (line[n] == '\0' || line[n] == '#')
			continue;
		rc = add_login(s, l, lineno, line);
	}
	if (rc == 0 && ferror(f)) {
		warn("%s %s", l->opt, l->value);
		rc = -1;
	}
	free(line);
	(void)fclose(f);
	return rc;
}

/* Remove one entry of the private directory, depth first. */
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

/* Remove the private directory with what is in it. */
static void
remove_dir(struct sshexec *s)
{
	if (s->dir == NULL)
		return;
	(void)nftw(s->dir, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
	if (access(s->dir, F_OK) == 0)
		warnx("could not remove %s", s->dir);
	free(s->dir);
	s->dir = NULL;
}

/*
 * The private directory, under tmpdir or else /tmp when the sockets'
 * paths would be too long there.  -1 after a message.
 */
static int
make_dir(struct sshexec *s, const char *tmpdir)
{
	struct buf	 b = { 0 };
	const char	*under[2] = { tmpdir, "/tmp" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		buf_reset(&b);
		buf_adds(&b, under[i]);
		buf_adds(&b, "/forkpool.ssh.XXXXXX");
		/*
		 * "/" and a host's number, up to 6 digits.  ssh splits a
		 * ControlPath at blanks and quotes and expands its %: a
		 * path with other than these characters goes under /tmp.
		 */
		if (b.len + 7 > SOCKET_PATH_MAX || strspn(b.data,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._+-,:@") != b.len)
			continue;
		if (mkdtemp(b.data) == NULL) {
			warn("cannot create a directory in %s", under[i]);
			buf_free(&b);
			return -1;
		}
		s->dir = b.data;
		return 0;
	}
	warnx("%s: not a path ssh's sockets can take, and neither is /tmp",
	    tmpdir);
	buf_free(&b);
	return -1;
}

/* The path of a file of the private directory: kind and a number. */
static char *
dir_file(const struct sshexec *s, char kind, size_t n)
{
	char	*p;

	if (asprintf(&p, "%s/%c%zu", s->dir, kind, n) == -1)
		err(EXIT_FORKPOOL_ERROR, "asprintf");
	return p;
}

/*
 * The first line of ssh's log in path that is not its debugging, into
 * why (empty: none).  Returns whether the log holds the remote
 * command's exit status: "rtype exit-status" (or exit-signal) at -v for
 * a connection of its own, "exit status from master" at -vv through a
 * master.
 */
static int
read_log(const char *path, char *why, size_t whylen)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	FILE	*f;
	int	 status = 0;

	why[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strstr(line, "rtype exit-status") != NULL ||
		    strstr(line, "rtype exit-signal") != NULL ||
		    strstr(line, "exit status from master") != NULL)
			status = 1;
		if (why[0] == '\0' && len > 0 &&
		    strncmp(line, "debug", 5) != 0 &&
		    strncmp(line, "OpenSSH_", 8) != 0)
			strlcpy(why, line, whylen);
	}
	free(line);
	(void)fclose(f);
	return status;
}

/* Empty the log of path (ssh -E appends). */
static void
clear_log(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1)
		(void)close(fd);
}

/*
 * ssh's words for host h up to its destination: its command, then the
 * options for a master (how 'm'), a job through the master ('j'), or a
 * connection of its own ('d'), each logging to log.  opts holds the
 * strings made here, freed with the argv.
 */
static void
ssh_argv(const struct sshexec *s, const struct host *h, int how,
    const char *log, struct argv *a, struct buf *opts)
{
	char * const	*w = h->ssh != NULL ? h->ssh : s->defssh;
	size_t		 at;

	for (; *w != NULL; w++)
		argv_add(a, *w);
	/* The strings are made first, then pointed at: opts may move. */
	buf_reset(opts);
	buf_adds(opts, "ControlPath=");
	buf_adds(opts, how == 'd' ? "none" : h->sock);
	buf_addc(opts, '\0');
	at = opts->len;
	buf_adds(opts, log);
	buf_addc(opts, '\0');
	argv_add(a, "-o");
	argv_add(a, how == 'm' ? "ControlMaster=yes" : "ControlMaster=no");
	argv_add(a, "-o");
	argv_add(a, opts->data);
	if (how == 'm') {
		argv_add(a, "-o");
		argv_add(a, "ControlPersist=no");
		argv_add(a, "-N");
	}
	/*
	 * A master logs its errors; a job logs enough that the remote
	 * command's exit status shows (-v, or -vv through a master).
	 */
	argv_add(a, how == 'm' ? "-oLogLevel=ERROR" : how == 'd' ? "-v" :
	    "-vv");
	argv_add(a, "-E");
	argv_add(a, opts->data + at);
	if (h->port != NULL) {
		argv_add(a, "-p");
		argv_add(a, h->port);
	}
	argv_add(a, h->dest);
}

/*
 * Whether the ssh program name can be run: 0, or why not (an errno).
 * access(2) finds a directory executable, execve(2) does not.
 */
static int
program_error(const char *name)
{
	struct stat	 st;
	char		*path = find_program(name);
	int		 error = 0;

	if (access(path, X_OK) == -1)
		error = errno;
	else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		error = EISDIR;
	free(path);
	return error;
}

/*
 * Refuse an ssh command whose program cannot be run, naming where it was
 * given, before any connection: else every host would seem unreachable.
 * -1 after a message.
 */
static int
check_ssh_programs(const struct sshexec *s, const struct opts *o)
{
	const struct host	*h;
	const char		*prog, *env;
	size_t			 i;
	int			 error;

	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		if (h->local)
			continue;
		prog = h->ssh != NULL ? h->ssh[0] : s->defssh[0];
		if ((error = program_error(prog)) == 0)
			continue;
		env = getenv("PARALLEL_SSH");
		if (h->ssh != NULL && h->line != 0)
			warnx("%s %s: line %zu: %s: cannot be run: %s",
			    h->from->opt, h->from->value, h->line, prog,
			    strerror(error));
		else if (h->ssh != NULL)
			warnx("%s %s: %s: cannot be run: %s", h->from->opt,
			    h->from->value, prog, strerror(error));
		else if (o->ssh != NULL)
			warnx("--ssh %s: %s: cannot be run: %s", o->ssh, prog,
			    strerror(error));
		else if (env != NULL && *env != '\0')
			warnx("$PARALLEL_SSH %s: %s: cannot be run: %s", env,
			    prog, strerror(error));
		else
			warnx("%s: cannot be run: %s (--ssh names another "
			    "program)", prog, strerror(error));
		return -1;
	}
	return 0;
}

/*
 * Start h's master connection: a child of forkpool in a process group of
 * its own (the terminal's signals are forkpool's to pass on), which
 * gets SIGTERM if forkpool dies.  fork(), not posix_spawn(): a spawn has
 * no parent-death signal.  Between fork and exec, only system calls.
 */
static void
start_master(struct sshexec *s, struct host *h)
{
	struct argv	 a = { NULL, 0 };
	struct buf	 opts = { 0 };
	struct rlimit	 rl;
	sigset_t	 none;
	char		*log, *prog;
	pid_t		 parent = getpid(), pid;
	int		 null;

	log = dir_file(s, 'm', (size_t)(h - s->hosts));
	clear_log(log);
	(void)unlink(h->sock);
	ssh_argv(s, h, 'm', log, &a, &opts);
	prog = find_program(a.v[0]);
	sigemptyset(&none);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null == -1 || (pid = fork()) == -1) {
		warn("%s: cannot start its master connection", h->name);
		pid = -1;
	} else if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(255);
		(void)setpgid(0, 0);
		/*
		 * The master holds three descriptors for every job of its
		 * host: it may use all the hard limit allows.
		 */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
		(void)signal(SIGPIPE, SIG_DFL);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		(void)execv(prog, a.v);
		_exit(127);
	}
	if (null != -1)
		(void)close(null);
	h->master = pid;
	h->closing = 0;
	free(prog);
	free(a.v);
	buf_free(&opts);
	free(log);
}

static void	nap(long);

/*
 * End the master connections of the n hosts: SIGTERM to each, then wait
 * for them all.  One still there after STOP_WAIT_MS is killed: an ssh
 * master was seen to sleep on after SIGTERM.
 */
static void
stop_masters(struct host *hosts, size_t n)
{
	long long	 end = loop_now_ms() + STOP_WAIT_MS;
	size_t		 i, left;
	int		 sig = SIGTERM;

	for (;;) {
		for (i = left = 0; i < n; i++) {
			if (hosts[i].master <= 0)
				continue;
			if (sig != 0) {
				hosts[i].closing = 1;
				(void)kill(hosts[i].master, sig);
			}
			if (waitpid(hosts[i].master, NULL, WNOHANG) == 0)
				left++;
			else
				hosts[i].master = -1;
		}
		if (left == 0)
			return;
		sig = sig == SIGTERM || loop_now_ms() < end ? 0 : SIGKILL;
		if (sig == SIGKILL)
			end = LLONG_MAX;
		nap(5);
	}
}

/* End h's master connection and wait for it. */
static void
stop_master(struct host *h)
{
	stop_masters(h, 1);
}

/* Close every master, remove the directory: at exit after an error. */
static void
cleanup_at_exit(void)
{
	if (live_ssh == NULL)
		return;
	stop_masters(live_ssh->hosts, live_ssh->nhosts);
	remove_dir(live_ssh);
}

/* A signal that ends forkpool while the start waits for the hosts. */
static volatile sig_atomic_t start_signal;

/* The signals the start catches. */
static const int start_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define NSTART_SIGS	(sizeof(start_sigs) / sizeof(start_sigs[0]))

/* Note the signal: the start's waits end early (no SA_RESTART). */
static void
on_start_signal(int sig)
{
	start_signal = sig;
}

/*
 * While the start waits for the hosts, the runner does not watch signals
 * yet: catch those that end forkpool (unless ignored), so that what the
 * start began ends with it.  With on 0, put back what old holds.
 */
static void
catch_at_start(int on, struct sigaction *old)
{
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_start_signal;
	(void)sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSTART_SIGS; i++) {
		if (!on)
			(void)sigaction(start_sigs[i], &old[i], NULL);
		else if (sigaction(start_sigs[i], NULL, &old[i]) == 0 &&
		    old[i].sa_handler != SIG_IGN)
			(void)sigaction(start_sigs[i], &sa, NULL);
	}
}

static void	finish_hosts(struct sshexec *);

/*
 * A signal came during the start: clean up the hosts as the end of a
 * run does, close the masters, remove the private directory, and end as
 * the signal would have.
 */
static void
end_at_start(struct sshexec *s)
{
	int	 sig = start_signal;

	finish_hosts(s);
	cleanup_at_exit();
	live_ssh = NULL;
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
	_exit(128 + sig);
}

/* Sleep ms milliseconds, or less when a signal ends the start. */
static void
nap(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !start_signal)
		;
}

/*
 * --sshdelay, before forkpool's event loop runs: wait until an ssh may
 * start, and count it as started now.
 */
static void
pace_ssh(struct sshexec *s)
{
	long long	 wait;

	if (s->delay_ms <= 0)
		return;
	if ((wait = s->last_ssh_ms + s->delay_ms - loop_now_ms()) > 0)
		nap((long)wait);
	s->last_ssh_ms = loop_now_ms();
}

/* Drop h at the start, with one message saying why. */
static void
drop_at_start(struct host *h, const char *why)
{
	h->dropped = 1;
	warnx("%s: cannot be reached; dropped%s%s", h->name,
	    why[0] != '\0' ? ": " : "", why);
}

/*
 * Wait until every master started is ready (its socket is there) or
 * gone; those that are gone, or not ready in time, drop their host.
 */
static void
wait_masters(struct sshexec *s)
{
	struct host	*h;
	char		*log, why[256];
	size_t		 i, waiting;
	long		 waited;
	int		 status;

	for (waited = 0; !start_signal; waited += 20) {
		for (i = waiting = 0; i < s->nhosts; i++) {
			h = &s->hosts[i];
			if (h->local || h->dropped || h->master == -1)
				continue;
			if (access(h->sock, F_OK) == 0)
				continue;
			if (waitpid(h->master, &status, WNOHANG) == 0 &&
			    waited < CONNECT_WAIT_MS) {
				waiting++;
				continue;
			}
			log = dir_file(s, 'm', i);
			(void)read_log(log, why, sizeof(why));
			free(log);
			if (waited >= CONNECT_WAIT_MS) {
				stop_master(h);
				strlcpy(why, "no answer in 60 seconds",
				    sizeof(why));
			} else
				h->master = -1;
			drop_at_start(h, why);
		}
		if (waiting == 0)
			return;
		nap(20);
	}
}

/* The argv of a job of h: ssh up to its destination, then the wrapper. */
static void
remote_argv(const struct sshexec *s, const struct host *h, int how,
    const char *log, const struct job *j, int pipe_mode, struct argv *a,
    struct buf *opts, struct buf *cmd)
{
	struct buf	 zero = { 0 };
	char		 num[32];
	size_t		 i;

	ssh_argv(s, h, how, log, a, opts);
	argv_add(a, "--");
	/* The remote login shell reads this line: every word quoted. */
	buf_reset(cmd);
	if (h->wd != NULL) {
		buf_adds(cmd, "mkdir -p -- ");
		shell_quote(cmd, h->wd, strlen(h->wd));
		buf_adds(cmd, " && cd -- ");
		shell_quote(cmd, h->wd, strlen(h->wd));
		buf_adds(cmd, " && ");
	}
	buf_adds(cmd, "exec env");
	(void)snprintf(num, sizeof(num), "%llu", j->seq);
	buf_adds(cmd, " FORKPOOL_SEQ=");
	buf_adds(cmd, num);
	buf_adds(cmd, " PARALLEL_SEQ=");
	buf_adds(cmd, num);
	(void)snprintf(num, sizeof(num), "%u", j->slot);
	buf_adds(cmd, " FORKPOOL_SLOT=");
	buf_adds(cmd, num);
	buf_adds(cmd, " PARALLEL_JOBSLOT=");
	buf_adds(cmd, num);
	buf_addc(cmd, ' ');
	buf_adds(cmd, "PARALLEL_SSHHOST=");
	shell_quote(cmd, h->name, strlen(h->name));
	buf_adds(cmd, " PARALLEL_SSHLOGIN=");
	shell_quote(cmd, h->login, strlen(h->login));
	buf_add(cmd, s->envs.data, s->envs.len);
	if (s->slot_var != NULL) {
		(void)snprintf(num, sizeof(num), "=%u", j->slot - 1);
		buf_addc(cmd, ' ');
		buf_adds(cmd, s->slot_var);
		buf_adds(cmd, num);
	}
	buf_adds(cmd, " /bin/sh -c ");
	shell_quote(cmd, wrapper, sizeof(wrapper) - 1);
	/* $0 names the host in the remote shell's own messages. */
	buf_addc(cmd, ' ');
	buf_reset(&zero);
	buf_adds(&zero, "forkpool: ");
	buf_adds(&zero, h->name);
	shell_quote(cmd, zero.data, zero.len);
	buf_free(&zero);
	buf_adds(cmd, pipe_mode ? " p" : " i");
	for (i = 0; j->argv[i] != NULL; i++) {
		buf_addc(cmd, ' ');
		shell_quote(cmd, j->argv[i], strlen(j->argv[i]));
	}
	argv_add(a, cmd->data);
}

/*
 * Drop h after its failures, with one message; when no host is left,
 * say once that the jobs not run yet fail.
 */
static void
host_failed(struct sshexec *s, struct host *h, const char *why)
{
	size_t	 i;

	if (h->dropped || ++h->fails < HOST_FAILS)
		return;
	h->dropped = 1;
	h->may_return = h->line != 0;
	warnx("%s: dropped: %d failures in a row%s%s", h->name, HOST_FAILS,
	    why[0] != '\0' ? "; the last: " : "", why);
	stop_master(h);
	if (s->has_local)
		return;
	for (i = 0; i < s->nhosts; i++)
		if (!s->hosts[i].dropped)
			return;
	s->none_left = 1;
	warnx("no host is left: the jobs not run yet fail");
}

/* Whether the file f read last is f->st still. */
static int
file_same(const struct loginfile *f, const struct stat *st)
{
	return st->st_dev == f->st.st_dev && st->st_ino == f->st.st_ino &&
	    st->st_size == f->st.st_size &&
	    st->st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
	    st->st_mtim.tv_nsec == f->st.st_mtim.tv_nsec;
}

/* The host of list whose login is login, or NULL. */
static const struct host *
find_login(const struct host *list, size_t n, const char *login)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].login, login) == 0)
			return &list[i];
	return NULL;
}

/*
 * f changed: read it again.  Its hosts no longer in it get no new job;
 * those in it again are used again, a host dropped for its failures
 * too.  The slots are made at the start, so a host new to the file is
 * not used: said once a change.  A file that cannot be read, or holds a
 * bad login, leaves its hosts as they are.
 */
static void
reread_file(struct sshexec *s, struct loginfile *f)
{
	struct sshexec	 now;
	struct host	*h;
	size_t		 i;

	memset(&now, 0, sizeof(now));
	if (add_login_file(&now, f->l) == -1)
		warnx("%s %s: changed: its hosts are left as they were",
		    f->l->opt, f->l->value);
	else {
		for (i = 0; i < s->nhosts; i++) {
			h = &s->hosts[i];
			if (h->from != f->l)
				continue;
			h->unlisted = find_login(now.hosts, now.nhosts,
			    h->login) == NULL;
			if (h->unlisted || !h->dropped || !h->may_return)
				continue;
			h->dropped = h->may_return = 0;
			h->fails = 0;
			s->none_left = 0;
		}
		for (i = 0; i < s->nhosts; i++)
			if (!s->hosts[i].dropped && !s->hosts[i].unlisted)
				break;
		if (i == s->nhosts)
			warnx("%s %s: no host of the run is listed: the jobs "
			    "wait until one is", f->l->opt, f->l->value);
		for (i = 0; i < now.nhosts; i++)
			if (find_login(s->hosts, s->nhosts,
			    now.hosts[i].login) == NULL)
				warnx("%s %s: %s: added while running: not "
				    "used, hosts are taken at the start",
				    f->l->opt, f->l->value, now.hosts[i].name);
	}
	for (i = 0; i < now.nhosts; i++)
		host_free(&now.hosts[i]);
	free(now.hosts);
	for (i = 0; i < now.nfiles; i++)
		free(now.files[i].path);
	free(now.files);
}

/*
 * Read again the --sshloginfile files that changed, as GNU parallel
 * does: looked at once a second at most, when a job ends or a slot is
 * wanted.
 */
static void
reread_files(struct sshexec *s)
{
	struct stat	 st;
	long long	 now;
	size_t		 i;

	if (s->nfiles == 0 || !s->ready ||
	    (now = loop_now_ms()) < s->files_seen + 1000)
		return;
	s->files_seen = now;
	for (i = 0; i < s->nfiles; i++) {
		/*
		 * Only a regular file: opening a FIFO put in its place
		 * would wait for a writer.  A change is read, or said to
		 * be bad, once.
		 */
		if (stat(s->files[i].path, &st) == -1 ||
		    file_same(&s->files[i], &st))
			continue;
		s->files[i].st = st;
		if (S_ISREG(st.st_mode))
			reread_file(s, &s->files[i]);
		else
			warnx("%s %s: changed into what is not a file: its "
			    "hosts are left as they were", s->files[i].l->opt,
			    s->files[i].l->value);
	}
}

/* The host of a slot. */
static struct host *
slot_host(const struct sshexec *s, unsigned int slot)
{
	return &s->hosts[s->slot_host[slot - 1]];
}

/* Slots: those of every host. */
static unsigned int
ssh_slots(void *ctx)
{
	struct sshexec	*s = ctx;

	return s->nslots;
}

/* The host's name, NULL for this machine. */
static const char *
ssh_host(void *ctx, unsigned int slot)
{
	struct host	*h = slot_host(ctx, slot);

	return h->local ? NULL : h->name;
}

/*
 * A dropped host's slots are not used, unless no host is left: then a
 * job fails in any slot.  With --sshdelay a remote slot waits until ssh
 * may start again; a master the host lacks starts here, as an ssh start
 * of its own, and its job later.
 */
static int
ssh_usable(void *ctx, unsigned int slot)
{
	struct sshexec	*s = ctx;
	struct host	*h = slot_host(s, slot);
	long long	 now;

	reread_files(s);
	if (s->none_left)
		return 1;
	if (h->dropped || h->unlisted)
		return 0;
	if (h->local || s->delay_ms <= 0)
		return 1;
	if ((now = loop_now_ms()) < s->last_ssh_ms + s->delay_ms)
		return 0;
	if (s->mux && h->master == -1) {
		start_master(s, h);
		s->last_ssh_ms = now;
		return 0;
	}
	return 1;
}

/*
 * A remote command line is quoted once more, which may make it up to
 * four times as long.
 */
static size_t
ssh_line_max(void *ctx)
{
	struct sshexec	*s = ctx;
	size_t		 n = s->spawn->ops->line_max(s->spawn->ctx);

	/* A value's quoting takes at most 5 bytes a byte (' is '"'"'). */
	n = n > s->envs.len ? n - s->envs.len : 0;
	return n / 5 > 4096 ? n / 5 - 2048 : n / 5;
}

/* As the local executor's. */
static size_t
ssh_arg_room(void *ctx)
{
	struct sshexec	*s = ctx;

	return s->spawn->ops->arg_room(s->spawn->ctx);
}

/*
 * Files moved for remote jobs (--transferfile, --return, --cleanup,
 * --basefile, and --workdir on the hosts).  rsync runs over the host's
 * master connection (or a connection of its own with --no-multiplex),
 * with its arguments protected (-s) so that a name is data, never code,
 * on the remote side.  A job that moves files is a local /bin/sh of its
 * own process group running, one after another: rsync for each file to
 * send, the ssh of the job's command, rsync for each file to return and
 * the ssh of the cleanup.  A signal to the group (a timeout, Ctrl-C)
 * reaches all of them, and the job's exit status stays its command's.
 * The script leaves a line for each step that failed, and the command's
 * status, in a file of the private directory, which ending() reads.
 */

/* rsync's options: recursive, links, perms, times, relative paths. */
#define RSYNC_OPTS	"-rlptDR"

/*
 * The rsync -e value of ssh's words w (a program, options): quoted for
 * rsync, which splits it at spaces and takes '' and "" quotes.
 */
static void
rsync_shell(struct buf *b, char * const *w)
{
	const char	*p;

	for (; *w != NULL; w++) {
		if (b->len > 0)
			buf_addc(b, ' ');
		if (**w != '\0' && strpbrk(*w, " '\"") == NULL) {
			buf_adds(b, *w);
			continue;
		}
		buf_addc(b, '\'');
		for (p = *w; *p != '\0'; p++) {
			if (*p == '\'')
				buf_addc(b, '\'');
			buf_addc(b, *p);
		}
		buf_addc(b, '\'');
	}
	buf_addc(b, '\0');
}

/* The host as rsync takes it before the colon: an IPv6 address in []. */
static void
rsync_host(struct buf *b, const struct host *h)
{
	const char	*at = strrchr(h->dest, '@');

	if (strchr(h->name, ':') == NULL) {
		buf_adds(b, h->dest);
		return;
	}
	if (at != NULL)
		buf_add(b, h->dest, (size_t)(at + 1 - h->dest));
	buf_addc(b, '[');
	buf_adds(b, h->name);
	buf_addc(b, ']');
}

/*
 * Where file p goes, as GNU parallel places it: after a "/./" relative
 * to the remote working directory, else an absolute path as it is and a
 * relative one under that directory.  Fills the local path rsync -R
 * sends from (with the "/./" that marks where the relative part starts),
 * the remote directory it goes to ("." or "/"), the path on the host,
 * and the local directory a returned file goes under.
 */
static void
xfer_paths(const char *cwd, const char *p, struct buf *src,
    const char **dest, struct buf *remote, struct buf *back)
{
	const char	*m = strstr(p, "/./");

	buf_reset(src);
	buf_reset(remote);
	buf_reset(back);
	if (p[0] != '/') {
		buf_adds(src, cwd);
		buf_adds(src, m != NULL ? "/" : "/./");
		buf_adds(back, cwd);
		buf_addc(back, '/');
	}
	buf_adds(src, p);
	buf_addc(src, '\0');
	*dest = m == NULL && p[0] == '/' ? "/" : ".";
	buf_adds(remote, m != NULL ? m + 3 : p);
	buf_addc(remote, '\0');
	if (m != NULL)
		buf_add(back, p, (size_t)(m + 1 - p));
	else if (p[0] == '/')
		buf_adds(back, "/");
	buf_addc(back, '\0');
}

/*
 * The names the templates t give job j, one after another, each
 * NUL-terminated, into out; empty ones are left out.  A template names
 * a file for each value of the job, as in GNU parallel: -X, -m, -N and
 * several input sources give a job several.  With fromp, *fromp is an
 * array (the caller's to free) of the template of each name.  Returns
 * how many.
 */
static size_t
xfer_names(const struct sshexec *s, const struct job *j,
    struct template * const *t, size_t n, struct buf *out, size_t **fromp)
{
	struct template_args	 a = { 0 };
	struct buf		 all = { 0 };
	char			**v;
	size_t			*len, i, k, m, count = 0;
	const char		*p;

	v = xcalloc(j->nvals + 1, sizeof(*v));
	len = xcalloc(j->nvals + 1, sizeof(*len));
	for (i = 0, p = j->vals.data; i < j->nvals; i++) {
		v[i] = (char *)p;
		len[i] = strlen(p);
		p += len[i] + 1;
	}
	a.v = v;
	a.len = len;
	a.n = j->nvals;
	a.seq = j->seq;
	a.slot = j->slot;
	a.host = slot_host(s, j->slot)->name;
	buf_reset(out);
	if (fromp != NULL)
		*fromp = NULL;
	for (i = 0; i < n; i++) {
		m = template_expand_each(t[i], &a, &all);
		for (k = 0, p = all.data; k < m; k++, p += strlen(p) + 1) {
			if (*p == '\0')
				continue;
			buf_add(out, p, strlen(p));
			buf_addc(out, '\0');
			if (fromp != NULL) {
				*fromp = xreallocarray(*fromp, count + 1,
				    sizeof(**fromp));
				(*fromp)[count] = i;
			}
			count++;
		}
	}
	buf_free(&all);
	free(v);
	free(len);
	return count;
}

/* The k-th of the NUL-terminated names in b. */
static const char *
nth_name(const struct buf *b, size_t k)
{
	const char	*p = b->data;

	while (k-- > 0)
		p += strlen(p) + 1;
	return p;
}

/*
 * rsync's words to move one file for host h, each quoted for the local
 * shell, into cmd: to the host (back 0) or from it.  log is the ssh log
 * the transfer writes.
 */
static void
xfer_rsync(const struct sshexec *s, const struct host *h, int how,
    const char *log, const char *name, int back, struct buf *cmd)
{
	struct argv	 a = { NULL, 0 };
	struct buf	 opts = { 0 }, e = { 0 }, src = { 0 }, remote = { 0 },
			 dir = { 0 }, w = { 0 };
	const char	*dest;

	ssh_argv(s, h, how, log, &a, &opts);
	a.v[--a.n] = NULL;	/* rsync names the host itself */
	rsync_shell(&e, a.v);
	xfer_paths(s->cwd, name, &src, &dest, &remote, &dir);
	shell_quote(cmd, s->rsync, strlen(s->rsync));
	buf_adds(cmd, " " RSYNC_OPTS " -s -e ");
	shell_quote(cmd, e.data, strlen(e.data));
	if (h->wd != NULL) {
		buf_adds(&w, "--rsync-path=");
		if (!back) {
			buf_adds(&w, "mkdir -p -- ");
			shell_quote(&w, h->wd, strlen(h->wd));
			buf_adds(&w, " && ");
		}
		buf_adds(&w, "cd -- ");
		shell_quote(&w, h->wd, strlen(h->wd));
		buf_adds(&w, " && rsync");
		buf_addc(cmd, ' ');
		shell_quote(cmd, w.data, w.len);
	}
	buf_adds(cmd, " -- ");
	buf_reset(&w);
	rsync_host(&w, h);
	buf_addc(&w, ':');
	if (back) {
		buf_adds(&w, remote.data);
		shell_quote(cmd, w.data, w.len);
		buf_addc(cmd, ' ');
		shell_quote(cmd, dir.data, strlen(dir.data));
	} else {
		buf_adds(&w, dest);
		shell_quote(cmd, src.data, strlen(src.data));
		buf_addc(cmd, ' ');
		shell_quote(cmd, w.data, w.len);
	}
	free(a.v);
	buf_free(&opts);
	buf_free(&e);
	buf_free(&src);
	buf_free(&remote);
	buf_free(&dir);
	buf_free(&w);
}

/*
 * The remote command that removes the names (NUL-terminated, n of them)
 * on a host whose working directory is wd, quoted; their directories
 * stay, as for the files of a job.
 */
static void
cleanup_command(const char *wd, const char *cwd, const char *names,
    size_t n, struct buf *cmd)
{
	struct buf	 src = { 0 }, remote = { 0 }, dir = { 0 };
	const char	*p, *dest;
	size_t		 i;

	buf_adds(cmd, "(");
	if (wd != NULL) {
		buf_adds(cmd, "cd -- ");
		shell_quote(cmd, wd, strlen(wd));
		buf_adds(cmd, " && ");
	}
	buf_adds(cmd, "rm -f --");
	for (i = 0, p = names; i < n; i++, p += strlen(p) + 1) {
		xfer_paths(cwd, p, &src, &dest, &remote, &dir);
		buf_addc(cmd, ' ');
		shell_quote(cmd, remote.data, strlen(remote.data));
	}
	buf_addc(cmd, ')');
	buf_free(&src);
	buf_free(&remote);
	buf_free(&dir);
}

/*
 * The shell line of the script that adds name, a file of the job, to
 * what its cleanup removes on the host: $k, the rm command.  Its
 * directories stay: another job of the host may be using them.
 */
static void
cleanup_add(const char *cwd, const char *name, struct buf *script)
{
	struct buf	 src = { 0 }, remote = { 0 }, dir = { 0 }, w = { 0 };
	const char	*dest;

	xfer_paths(cwd, name, &src, &dest, &remote, &dir);
	buf_addc(&w, ' ');
	shell_quote(&w, remote.data, strlen(remote.data));
	buf_adds(script, "k=\"$k\"");
	shell_quote(script, w.data, w.len);
	buf_addc(script, '\n');
	buf_free(&src);
	buf_free(&remote);
	buf_free(&dir);
	buf_free(&w);
}

/*
 * The script of a job of h that moves files (see above), into script:
 * send is the names to send (nsend), ret those to return (nret).  It
 * runs "$@", the job's ssh, in between.  With --cleanup, the files sent
 * and returned so far are listed as they move (cleanup_add()), and the
 * shell function c removes them: after the returns, or when a file
 * cannot be sent, as the files before it are on the host.
 */
static void
xfer_script(const struct sshexec *s, const struct host *h, int how,
    unsigned int slot, const struct buf *send, size_t nsend,
    const struct buf *ret, size_t nret, struct buf *script)
{
	struct argv	 a = { NULL, 0 };
	struct buf	 opts = { 0 }, rm = { 0 };
	char		*x = dir_file(s, 'x', slot), *t = dir_file(s, 't', slot),
			*r = dir_file(s, 'r', slot), *y = dir_file(s, 'k', slot),
			num[32];
	size_t		 i;

	buf_reset(script);
	buf_adds(script, "x=");
	shell_quote(script, x, strlen(x));
	buf_adds(script, " t=");
	shell_quote(script, t, strlen(t));
	buf_adds(script, " r=");
	shell_quote(script, r, strlen(r));
	buf_adds(script, "\n");
	if (s->cleanup) {
		if (h->wd != NULL) {
			buf_adds(&rm, "cd -- ");
			shell_quote(&rm, h->wd, strlen(h->wd));
			buf_adds(&rm, " && ");
		}
		buf_adds(&rm, "rm -f --");
		buf_adds(script, "y=");
		shell_quote(script, y, strlen(y));
		buf_adds(script, " k=");
		shell_quote(script, rm.data, rm.len);
		buf_adds(script, "\nc() { [ \"$k\" = ");
		shell_quote(script, rm.data, rm.len);
		buf_adds(script, " ] && return; ");
		ssh_argv(s, h, how, t, &a, &opts);
		argv_add(&a, "--");
		for (i = 0; i < a.n; i++) {
			shell_quote(script, a.v[i], strlen(a.v[i]));
			buf_addc(script, ' ');
		}
		buf_adds(script, "\"$k\" </dev/null >/dev/null 2>\"$y\" || "
		    "echo \"k $?\" >>\"$x\"; }\n");
	}
	/* Each step's logs are its own: a message is the failing step's. */
	for (i = 0; i < nsend; i++) {
		buf_adds(script, ": >\"$t\"; : >\"$r\"; ");
		xfer_rsync(s, h, how, t, nth_name(send, i), 0, script);
		(void)snprintf(num, sizeof(num), "%zu", i);
		buf_adds(script, " </dev/null >/dev/null 2>>\"$r\" || "
		    "{ echo \"i ");
		buf_adds(script, num);
		buf_adds(script, s->cleanup ? " $?\" >\"$x\"; c; exit 255; }\n" :
		    " $?\" >\"$x\"; exit 255; }\n");
		if (s->cleanup)
			cleanup_add(s->cwd, nth_name(send, i), script);
	}
	buf_adds(script, "\"$@\"; s=$?; echo \"c $s\" >\"$x\"\n");
	/* A lost master: nothing more reaches the host. */
	if (how == 'j') {
		buf_adds(script, "[ \"$s\" = 255 ] && ! [ -S ");
		shell_quote(script, h->sock, strlen(h->sock));
		buf_adds(script, " ] && exit 255\n");
	}
	/*
	 * What rsync said of a failed return is kept as $r.K; a file that
	 * did not come back stays on the host, its only copy.
	 */
	for (i = 0; i < nret; i++) {
		buf_adds(script, ": >\"$t\"; : >\"$r\"; ");
		xfer_rsync(s, h, how, t, nth_name(ret, i), 1, script);
		(void)snprintf(num, sizeof(num), "%zu", i);
		buf_adds(script, " </dev/null >/dev/null 2>>\"$r\" || "
		    "{ echo \"r ");
		buf_adds(script, num);
		buf_adds(script, " $?\" >>\"$x\"; mv -f \"$r\" \"$r.");
		buf_adds(script, num);
		buf_adds(script, "\"; false; }");
		if (s->cleanup) {
			buf_adds(script, " && {\n");
			cleanup_add(s->cwd, nth_name(ret, i), script);
			buf_adds(script, "}");
		}
		buf_addc(script, '\n');
	}
	if (s->cleanup)
		buf_adds(script, "c\n");
	buf_adds(script, "exit \"$s\"\n");
	buf_addc(script, '\0');
	free(a.v);
	buf_free(&opts);
	buf_free(&rm);
	free(x);
	free(t);
	free(r);
	free(y);
}

/* The option a file to send comes from: its template's, the k-th. */
static const char *
tf_option(const struct sshexec *s, size_t k)
{
	return k < s->ntf_named ? "--transferfile" : "--transfer";
}

/* Why a path with ".." on the host is refused, and what to do. */
static const char dotdot_why[] = "its path on the host has a .. component "
    "(mark with /./ where that path starts)";

/* Whether the path p has a ".." component. */
static int
has_dotdot(const char *p)
{
	size_t	 n;

	for (; *p != '\0'; p += n + (p[n] == '/')) {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
	}
	return 0;
}

/*
 * The names of the files job j sends and returns, into send and ret
 * (counts in *nsend, *nret), and the bytes it sends into j->sent.  -1
 * after a message naming a file to send that is not here, or a file
 * whose path on the host has a ".." component: rsync -R refuses it,
 * and it would be out of the working directory.
 */
static int
xfer_prepare(const struct sshexec *s, struct job *j, struct buf *send,
    size_t *nsend, struct buf *ret, size_t *nret)
{
	struct buf	 src = { 0 }, remote = { 0 }, dir = { 0 };
	struct stat	 st;
	const char	*p, *dest;
	size_t		 i, *from;
	int		 rc = 0;

	j->sent = 0;	/* counted anew if the launch is tried again */
	*nsend = xfer_names(s, j, s->tf, s->ntf, send, &from);
	*nret = xfer_names(s, j, s->ret, s->nret, ret, NULL);
	for (i = 0, p = send->data; rc == 0 && i < *nsend;
	    i++, p += strlen(p) + 1) {
		xfer_paths(s->cwd, p, &src, &dest, &remote, &dir);
		if (has_dotdot(remote.data)) {
			warnx("job %llu: %s %s: %s", j->seq,
			    tf_option(s, from[i]), p, dotdot_why);
			rc = -1;
		} else if (stat(src.data, &st) == -1) {
			warnx("job %llu: %s %s: %s", j->seq,
			    tf_option(s, from[i]), p, strerror(errno));
			rc = -1;
		} else
			j->sent += (unsigned long long)st.st_size;
	}
	for (i = 0, p = ret->data; rc == 0 && i < *nret;
	    i++, p += strlen(p) + 1) {
		xfer_paths(s->cwd, p, &src, &dest, &remote, &dir);
		if (has_dotdot(remote.data)) {
			warnx("job %llu: --return %s: %s", j->seq, p,
			    dotdot_why);
			rc = -1;
		}
	}
	free(from);
	buf_free(&src);
	buf_free(&remote);
	buf_free(&dir);
	return rc;
}

/* Start a job: here for ":", else through ssh; see exec.h. */
static enum exec_result
ssh_launch(void *ctx, struct job *j, int in, struct exec_proc *p)
{
	struct sshexec		*s = ctx;
	struct host		*h = slot_host(s, j->slot);
	struct argv		 a = { NULL, 0 };
	struct buf		 opts = { 0 }, cmd = { 0 }, send = { 0 },
				 ret = { 0 }, script = { 0 };
	enum exec_result	 res;
	char			**argv, *log, *x;
	size_t			 nsend = 0, nret = 0, i;
	int			 alive[2] = { -1, -1 }, how;

	if (s->none_left) {
		/* Run nowhere: the joblog's Host is empty. */
		j->host = "";
		job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
		return EXEC_FAILED;
	}
	if (h->local)
		return s->here->ops->launch(s->here->ctx, j, in, p);
	s->moves[j->slot - 1] = 0;
	if ((s->ntf > 0 || s->nret > 0) && xfer_prepare(s, j, &send,
	    &nsend, &ret, &nret) == -1) {
		buf_free(&send);
		buf_free(&ret);
		job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
		return EXEC_FAILED;
	}
	/*
	 * Without a master for now, the job connects on its own (with
	 * --sshdelay, ssh_usable() starts the master, in a turn of its own).
	 */
	if (s->mux && h->master == -1 && s->delay_ms <= 0)
		start_master(s, h);
	how = s->mux && access(h->sock, F_OK) == 0 ? 'j' : 'd';
	s->direct[j->slot - 1] = how == 'd';
	s->ended[j->slot - 1] = 0;
	log = dir_file(s, 'j', j->slot);
	clear_log(log);
	if (in == -1) {
		if (pipe2(alive, O_CLOEXEC) == -1) {
			free(log);
			buf_free(&send);
			buf_free(&ret);
			return errno == EMFILE || errno == ENFILE ?
			    EXEC_NOFDS : EXEC_AGAIN;
		}
	}
	remote_argv(s, h, how, log, j, in != -1, &a, &opts, &cmd);
	if (nsend + nret > 0) {
		/* /bin/sh -c SCRIPT forkpool SSH...: "$@" is the ssh. */
		s->moves[j->slot - 1] = 1;
		x = dir_file(s, 'x', j->slot);
		(void)unlink(x);
		free(x);
		xfer_script(s, h, how, j->slot, &send, nsend, &ret, nret,
		    &script);
		for (i = 0; i < 4; i++)
			argv_add(&a, "");
		memmove(a.v + 4, a.v, (a.n - 4) * sizeof(*a.v));
		a.v[0] = "/bin/sh";
		a.v[1] = "-c";
		a.v[2] = script.data;
		a.v[3] = "forkpool";
	}
	argv = j->argv;
	j->argv = a.v;
	res = s->spawn->ops->launch(s->spawn->ctx, j, in != -1 ? in :
	    alive[0], p);
	j->argv = argv;
	if (alive[0] != -1)
		(void)close(alive[0]);
	if (res == EXEC_OK) {
		s->alive[j->slot - 1] = alive[1];
		s->last_ssh_ms = loop_now_ms();
		h->touched = 1;
	} else if (alive[1] != -1)
		(void)close(alive[1]);
	free(a.v);
	buf_free(&opts);
	buf_free(&cmd);
	buf_free(&send);
	buf_free(&ret);
	buf_free(&script);
	free(log);
	return res;
}

/* Put the 32-bit big-endian v at p. */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The 32-bit big-endian number at p. */
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The multiplexing protocol's messages used here (OpenSSH PROTOCOL.mux). */
#define MUX_MSG_HELLO		0x00000001U
#define MUX_C_ALIVE_CHECK	0x10000004U
#define MUX_S_ALIVE		0x80000005U
#define MUX_VERSION		4U

/*
 * Whether h's master still serves its clients: it answers an alive check
 * on its socket within ANSWER_WAIT_MS.  A master whose connection is lost
 * closes its clients' sessions before it removes its socket and exits, so
 * a client can see its end while the socket is still there: that master
 * no longer answers, and the connection to it ends as it exits.
 */
static int
master_answers(const struct host *h)
{
	struct sockaddr_un	 sa;
	struct pollfd		 pfd;
	unsigned char		 msg[24], in[4096];
	size_t			 have = 0, len;
	long long		 end = loop_now_ms() + ANSWER_WAIT_MS, left;
	ssize_t			 n;
	int			 fd, answered = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlcpy(sa.sun_path, h->sock, sizeof(sa.sun_path)) >=
	    sizeof(sa.sun_path))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 1;	/* no way to ask: trust the socket */
	/* A full backlog refuses for now (EAGAIN): ask again. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if ((errno != EAGAIN && errno != EINTR) ||
		    loop_now_ms() >= end) {
			(void)close(fd);
			return 0;
		}
		nap(10);
	}
	put32(msg, 8);
	put32(msg + 4, MUX_MSG_HELLO);
	put32(msg + 8, MUX_VERSION);
	put32(msg + 12, 8);
	put32(msg + 16, MUX_C_ALIVE_CHECK);
	put32(msg + 20, 1);
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg)) {
		(void)close(fd);
		return 0;
	}
	/* Its hello (with any extensions), then the answer. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!answered && (left = end - loop_now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
		n = read(fd, in + have, sizeof(in) - have);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			break;
		if (n > 0)
			have += (size_t)n;
		while (have >= 8 && (len = get32(in)) <= sizeof(in) - 4 &&
		    have >= 4 + len) {
			if (len >= 8 && get32(in + 4) == MUX_S_ALIVE &&
			    get32(in + 8) == 1)
				answered = 1;
			memmove(in, in + 4 + len, have - 4 - len);
			have -= 4 + len;
		}
		if (have >= 4 && get32(in) > sizeof(in) - 4)
			break;	/* not a master's message */
	}
	(void)close(fd);
	return answered;
}

/*
 * Whether h's connection still carries sessions: a command run through
 * its master ends well within ANSWER_WAIT_MS.  A master answers an alive
 * check by itself, before it may have read that its server is gone; a
 * new session needs the server.  Asked only after a client's 255 that
 * left no exit status, so its cost (one session) is rare.
 */
static int
connection_serves(const struct sshexec *s, const struct host *h)
{
	struct argv	 a = { 0 };
	struct buf	 opts = { 0 };
	long long	 end = loop_now_ms() + ANSWER_WAIT_MS;
	pid_t		 pid, r;
	int		 status, rc;

	ssh_argv(s, h, 'c', "/dev/null", &a, &opts);
	argv_add(&a, "exit 0");
	rc = spawn_quiet(a.v, 0, &pid);
	free(a.v);
	buf_free(&opts);
	if (rc != 0)
		return 1;	/* no way to ask: trust the master */
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    loop_now_ms() < end)
		nap(5);
	if (r == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		return 0;
	}
	return r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Whether h's master has exited, without reaping it (orphan() will). */
static int
master_exited(const struct host *h)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)h->master, &si,
	    WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == h->master;
}

/*
 * ssh exited 255: whether its transport failed rather than the remote
 * command exiting so (ssh's log holds no exit status); why says how.
 */
static int
transport_failed(struct sshexec *s, const struct host *h, unsigned int slot,
    char *why, size_t whylen)
{
	char	*log;
	int	 status;

	log = dir_file(s, 'j', slot);
	status = read_log(log, why, whylen);
	free(log);
	if (status)
		return 0;
	/*
	 * Through a master, a remote command killed by a signal leaves no
	 * exit status in the client's log: the transport failed only if
	 * the master's connection is gone or ssh said why.
	 */
	if (!s->direct[slot - 1] && why[0] == '\0' && h->master != -1 &&
	    access(h->sock, F_OK) == 0 && !master_exited(h) &&
	    master_answers(h) && connection_serves(s, h))
		return 0;
	if (why[0] == '\0')
		strlcpy(why, "the connection was lost", whylen);
	return 1;
}

/*
 * What the script of a job that moved files left (see xfer_script()):
 * the file that could not be sent (-1: none), the command's status was
 * written, the returns that failed, cleanup failed.
 */
struct xfer_status {
	long		 send_failed;
	int		 ran;
	size_t		*returns_failed;	/* owned: their numbers, in
						   the order the script wrote
						   them, rising */
	size_t		 nreturns_failed;
	int		 cleanup_failed;
};

/* Whether the k-th return failed; the script wrote them in order. */
static int
return_failed(const struct xfer_status *st, size_t k)
{
	size_t	 lo = 0, hi = st->nreturns_failed, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (st->returns_failed[mid] == k)
			return 1;
		if (st->returns_failed[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Read the status file of slot's job into st. */
static void
xfer_read_status(const struct sshexec *s, unsigned int slot,
    struct xfer_status *st)
{
	char		*path = dir_file(s, 'x', slot), line[64];
	const char	*errstr;
	long long	 k;
	FILE		*f;

	memset(st, 0, sizeof(*st));
	st->send_failed = -1;
	if ((f = fopen(path, "re")) == NULL) {
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "i K CODE", "r K CODE": K, the file's number, alone. */
		if (line[0] != '\0' && line[1] == ' ')
			line[2 + strcspn(line + 2, " \n")] = '\0';
		if (line[0] == 'c')
			st->ran = 1;
		else if (line[0] == 'k')
			st->cleanup_failed = 1;
		else if (line[0] == 'i' || line[0] == 'r') {
			k = strtonum(line + 2, 0, LONG_MAX, &errstr);
			if (errstr != NULL)
				continue;
			if (line[0] == 'i') {
				st->send_failed = (long)k;
				continue;
			}
			st->returns_failed = xreallocarray(st->returns_failed,
			    st->nreturns_failed + 1,
			    sizeof(*st->returns_failed));
			st->returns_failed[st->nreturns_failed++] = (size_t)k;
		}
	}
	(void)fclose(f);
	free(path);
}

/*
 * Whether the last transfer of slot's job failed because its connection
 * was lost: ssh's log holds no exit status of the remote rsync, and the
 * job had no master or the master is gone.  why says what rsync said.
 */
static int
xfer_lost(struct sshexec *s, const struct host *h, unsigned int slot,
    char *why, size_t whylen)
{
	char	*log, said[256];
	int	 status;

	log = dir_file(s, 't', slot);
	status = read_log(log, why, whylen);
	free(log);
	log = dir_file(s, 'r', slot);
	(void)read_log(log, said, sizeof(said));
	free(log);
	if (said[0] != '\0')
		strlcpy(why, said, whylen);
	if (status)
		return 0;
	if (!s->direct[slot - 1] && h->master != -1 &&
	    access(h->sock, F_OK) == 0 && !master_exited(h) &&
	    master_answers(h) && connection_serves(s, h))
		return 0;
	if (why[0] == '\0')
		strlcpy(why, "the connection was lost", whylen);
	return 1;
}

/*
 * The bytes of the local files named (NUL-terminated, n of them) that
 * came back: those whose return did not fail (xs).
 */
static unsigned long long
local_bytes(const char *cwd, const char *names, size_t n,
    const struct xfer_status *xs)
{
	struct buf		 src = { 0 }, remote = { 0 }, dir = { 0 };
	struct stat		 st;
	unsigned long long	 sum = 0;
	const char		*dest;
	size_t			 i;

	for (i = 0; i < n; i++, names += strlen(names) + 1) {
		if (return_failed(xs, i))
			continue;
		/* A returned file's directory here, then its path there. */
		xfer_paths(cwd, names, &src, &dest, &remote, &dir);
		buf_reset(&src);
		buf_adds(&src, dir.data);
		buf_adds(&src, remote.data);
		buf_addc(&src, '\0');
		if (stat(src.data, &st) == 0)
			sum += (unsigned long long)st.st_size;
	}
	buf_free(&src);
	buf_free(&remote);
	buf_free(&dir);
	return sum;
}

/*
 * The cleanup of job j on h failed: one warning naming the files it was
 * to remove (the first nsend of sends; the returns, but those that
 * failed) and what the host said.
 */
static void
cleanup_warn(const struct sshexec *s, const struct host *h,
    const struct job *j, const struct buf *sends, size_t nsend,
    const struct buf *rets, size_t nret, const struct xfer_status *st)
{
	struct buf	 list = { 0 };
	char		*path = dir_file(s, 'k', j->slot), why[256];
	size_t		 i;

	(void)read_log(path, why, sizeof(why));
	free(path);
	for (i = 0; i < nsend + nret; i++) {
		if (i >= nsend && st != NULL && return_failed(st, i - nsend))
			continue;
		if (list.len > 0)
			buf_adds(&list, ", ");
		buf_adds(&list, i < nsend ? nth_name(sends, i) :
		    nth_name(rets, i - nsend));
	}
	buf_addc(&list, '\0');
	warnx("job %llu: --cleanup: cannot remove %s on %s%s%s", j->seq,
	    list.data, h->name, why[0] != '\0' ? ": " : "", why);
	buf_free(&list);
}

/*
 * The ending of a job that moved files, before its command's: -1 when
 * the command's ending decides (ran), else what ended it.  Failed
 * returns make the job fail with forkpool's own exit value, so that
 * --resume-failed runs it again; each is named.  A job whose command
 * ran is never run again elsewhere, even when a return was cut by a
 * lost connection: its side effects would happen twice.
 */
static int
xfer_ending(struct sshexec *s, struct host *h, struct job *j,
    const struct xfer_status *st, int after)
{
	struct buf	 names = { 0 }, sends = { 0 };
	char		 why[256], one[256], *said;
	size_t		 n, m, i, *from;
	int		 res = EXEC_DONE;

	if (!after && st->send_failed >= 0) {
		if (xfer_lost(s, h, j->slot, why, sizeof(why))) {
			host_failed(s, h, why);
			return EXEC_REQUEUE;
		}
		n = xfer_names(s, j, s->tf, s->ntf, &names, &from);
		if ((size_t)st->send_failed < n)
			warnx("job %llu: %s %s: cannot be copied to %s: %s",
			    j->seq, tf_option(s, from[st->send_failed]),
			    nth_name(&names, (size_t)st->send_failed),
			    h->name, why);
		if (st->cleanup_failed && (size_t)st->send_failed <= n)
			cleanup_warn(s, h, j, &names, (size_t)st->send_failed,
			    &sends, 0, NULL);
		free(from);
		buf_free(&names);
		return EXEC_DONE;
	}
	if (!after)
		return -1;
	n = xfer_names(s, j, s->ret, s->nret, &names, NULL);
	if (st->nreturns_failed > 0) {
		if (xfer_lost(s, h, j->slot, why, sizeof(why)))
			host_failed(s, h, why);
		for (i = 0; i < n; i++) {
			if (!return_failed(st, i))
				continue;
			if (asprintf(&said, "%s/r%u.%zu", s->dir, j->slot,
			    i) == -1)
				err(EXIT_FORKPOOL_ERROR, "asprintf");
			(void)read_log(said, one, sizeof(one));
			free(said);
			warnx("job %llu: --return %s: cannot be copied back "
			    "from %s: %s", j->seq, nth_name(&names, i),
			    h->name, one[0] != '\0' ? one : why);
		}
		j->failed = 1;
		j->exit_code = EXIT_FORKPOOL_ERROR;
	}
	if (st->cleanup_failed) {
		m = xfer_names(s, j, s->tf, s->ntf, &sends, NULL);
		cleanup_warn(s, h, j, &sends, m, &names, n, st);
		buf_free(&sends);
	}
	j->received = local_bytes(s->cwd, names.data, n, st);
	buf_free(&names);
	return res;
}

/*
 * Spawn rsync (its words in the shell line cmd) or any shell line, with
 * stdin and stdout on /dev/null and stderr to errpath, as the leader of
 * a process group of its own (so that forkpool alone ends it, and all
 * it started); the pid, or -1 after a message.
 */
static pid_t
spawn_line(const char *cmd, const char *errpath)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	char				*argv[] = { "/bin/sh", "-c", NULL, NULL };
	pid_t				 pid;
	int				 rc;

	argv[2] = (char *)cmd;
	posix_spawnattr_init(&attr);
	(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	(void)posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errpath,
	    O_WRONLY | O_CREAT | O_APPEND, 0600);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		warn("%s", argv[0]);
		return -1;
	}
	return pid;
}

/* Wait for pid; its exit status, or -1 for a signal or an error. */
static int
wait_exit(pid_t pid)
{
	int	 status;

	if (pid == -1)
		return -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Reap those of the n pids (-1: none) that have ended, setting each one's
 * code to its exit status (-1: a signal) and its pid to -1; how many are
 * still running.
 */
static size_t
reap_ended(pid_t *pids, int *codes, size_t n)
{
	size_t	 i, left = 0;
	pid_t	 r;
	int	 status;

	for (i = 0; i < n; i++) {
		if (pids[i] == -1)
			continue;
		r = waitpid(pids[i], &status, WNOHANG);
		if (r == 0 || (r == -1 && errno == EINTR)) {
			left++;
			continue;
		}
		codes[i] = r == pids[i] && WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1;
		pids[i] = -1;
	}
	return left;
}

/*
 * --basefile: each file to every host that is left, all hosts at once
 * and a host's files one after another; a host a file cannot be copied
 * to is dropped, with what rsync said.  A signal that ends the start
 * ends the copies at once, and drops no host: the run ends.
 */
static void
send_basefiles(struct sshexec *s, const struct opts *o)
{
	struct host	*h;
	struct buf	 cmd = { 0 };
	pid_t		*pids;
	char		*log, *errs, why[256];
	int		*codes;
	size_t		 i, k;

	if (o->nbasefiles == 0)
		return;
	pids = xcalloc(s->nhosts, sizeof(*pids));
	codes = xcalloc(s->nhosts, sizeof(*codes));
	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		pids[i] = -1;
		if (h->local || h->dropped)
			continue;
		log = dir_file(s, 'B', i);
		errs = dir_file(s, 'b', i);
		buf_reset(&cmd);
		for (k = 0; k < o->nbasefiles; k++) {
			if (k > 0)
				buf_adds(&cmd, " && ");
			xfer_rsync(s, h, s->mux && h->master != -1 ? 'j' : 'd',
			    log, o->basefiles[k], 0, &cmd);
		}
		buf_addc(&cmd, '\0');
		pids[i] = spawn_line(cmd.data, errs);
		codes[i] = pids[i] == -1 ? 0 : -1;
		h->touched = 1;
		free(log);
		free(errs);
	}
	/* Polled, not waited for: nap() ends early on a signal. */
	while (reap_ended(pids, codes, s->nhosts) > 0 && !start_signal)
		nap(20);
	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		if (pids[i] != -1) {
			(void)kill(-pids[i], SIGTERM);
			(void)wait_exit(pids[i]);
			continue;
		}
		if (codes[i] == 0 || start_signal)
			continue;
		errs = dir_file(s, 'b', i);
		(void)read_log(errs, why, sizeof(why));
		free(errs);
		h->dropped = 1;
		s->base_failed = 1;
		stop_master(h);
		warnx("%s: --basefile: cannot copy the files there; dropped%s%s",
		    h->name, why[0] != '\0' ? ": " : "", why);
	}
	free(pids);
	free(codes);
	buf_free(&cmd);
}

/*
 * Wait for the cleanups of finish_hosts(), n pids (-1: none), at most
 * CONNECT_WAIT_MS, as a connection at the start, and STOP_WAIT_MS once a
 * signal came: a host that hangs must not keep forkpool from ending.
 * Those not done by then are killed.  The signals that end forkpool are
 * caught meanwhile, into start_signal.
 */
static void
wait_cleanups(pid_t *pids, int *codes, size_t n)
{
	struct sigaction	 old[NSTART_SIGS];
	long long		 end, now;
	size_t			 i, left;
	int			 signalled;

	catch_at_start(1, old);
	signalled = start_signal;
	end = loop_now_ms() + (signalled ? STOP_WAIT_MS : CONNECT_WAIT_MS);
	for (;;) {
		left = reap_ended(pids, codes, n);
		now = loop_now_ms();
		if (start_signal && !signalled) {
			signalled = 1;
			if (now + STOP_WAIT_MS < end)
				end = now + STOP_WAIT_MS;
		}
		if (left == 0 || now >= end)
			break;
		nap(20);
	}
	for (i = 0; i < n; i++) {
		if (pids[i] == -1)
			continue;
		(void)kill(-pids[i], SIGKILL);
		(void)wait_exit(pids[i]);
		pids[i] = -1;
		codes[i] = -1;
	}
	catch_at_start(0, old);
}

/*
 * At the end of the run, on every host left where the run may have left
 * files: the basefiles go with --cleanup, and the working directory of
 * --workdir ... with all in it.  A host no job nor copy reached has
 * none, and may be one that never answered.
 */
static void
finish_hosts(struct sshexec *s)
{
	struct host	*h;
	struct argv	 a;
	struct buf	 opts = { 0 }, cmd = { 0 }, line = { 0 };
	pid_t		*pids;
	int		*codes;
	char		*log;
	size_t		 i, k;

	if (!s->ready || ((!s->cleanup || s->nbase == 0) && !s->wd_private))
		return;
	pids = xcalloc(s->nhosts, sizeof(*pids));
	codes = xcalloc(s->nhosts, sizeof(*codes));
	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		pids[i] = -1;
		if (h->local || h->dropped || !h->touched)
			continue;
		buf_reset(&cmd);
		if (s->cleanup && s->nbase > 0)
			cleanup_command(h->wd, s->cwd, s->base.data, s->nbase,
			    &cmd);
		/* Each part is done, and a failure of either is told. */
		if (s->wd_private) {
			if (cmd.len > 0)
				buf_adds(&cmd, "; r=$?; ");
			buf_adds(&cmd, "rm -rf -- ");
			shell_quote(&cmd, h->wd, strlen(h->wd));
			if (s->cleanup && s->nbase > 0)
				buf_adds(&cmd, " && exit \"$r\"");
		}
		buf_addc(&cmd, '\0');
		a.v = NULL;
		a.n = 0;
		log = dir_file(s, 'B', i);
		ssh_argv(s, h, s->mux && h->master != -1 ? 'j' : 'd', log, &a,
		    &opts);
		argv_add(&a, "--");
		argv_add(&a, cmd.data);
		buf_reset(&line);
		for (k = 0; k < a.n; k++) {
			if (k > 0)
				buf_addc(&line, ' ');
			shell_quote(&line, a.v[k], strlen(a.v[k]));
		}
		buf_addc(&line, '\0');
		pids[i] = spawn_line(line.data, "/dev/null");
		codes[i] = pids[i] == -1 ? -1 : 0;
		free(a.v);
		free(log);
	}
	wait_cleanups(pids, codes, s->nhosts);
	for (i = 0; i < s->nhosts; i++)
		if (codes[i] != 0)
			warnx("%s: the files of the run could not be removed "
			    "there", s->hosts[i].name);
	free(pids);
	free(codes);
	buf_free(&opts);
	buf_free(&cmd);
	buf_free(&line);
}

/* What ended the job: its own doing, or its host's; see exec.h. */
static enum exec_ending
ssh_ending(void *ctx, struct job *j, int status)
{
	struct sshexec		*s = ctx;
	struct host		*h = slot_host(s, j->slot);
	struct xfer_status	 st = { 0 };
	char			 why[256];
	int			 moved, r = -1, sig;

	if (h->local)
		return s->here->ops->ending(s->here->ctx, j, status);
	if (s->alive[j->slot - 1] != -1) {
		(void)close(s->alive[j->slot - 1]);
		s->alive[j->slot - 1] = -1;
	}
	moved = s->moves[j->slot - 1];
	s->moves[j->slot - 1] = 0;
	/*
	 * Ended by forkpool: its own result (a timeout), not a failure.
	 * ssh ends on the signal with 255, or with the remote job's 128 + N:
	 * as a local job killed by it, the signal.
	 */
	if ((sig = s->ended[j->slot - 1]) != 0) {
		if (WIFEXITED(status) && (WEXITSTATUS(status) == 255 ||
		    WEXITSTATUS(status) == 128 + sig))
			job_set_status(j, sig);
		return EXEC_DONE;
	}
	if (moved) {
		xfer_read_status(s, j->slot, &st);
		r = xfer_ending(s, h, j, &st, 0);
	}
	if (r == -1 && WIFEXITED(status) && WEXITSTATUS(status) == 255 &&
	    transport_failed(s, h, j->slot, why, sizeof(why))) {
		host_failed(s, h, why);
		r = EXEC_REQUEUE;
	} else if (r == -1) {
		h->fails = 0;
		r = moved && st.ran ? xfer_ending(s, h, j, &st, 1) : EXEC_DONE;
	}
	free(st.returns_failed);
	return (enum exec_ending)r;
}

/* Signal the job: the local ssh's group; the wrapper ends the rest. */
static void
ssh_signal(void *ctx, const struct job *j, pid_t pgid, int sig)
{
	struct sshexec	*s = ctx;

	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGCONT &&
	    sig != SIGTTIN && sig != SIGTTOU && sig != SIGUSR1 &&
	    j->slot >= 1 && j->slot <= s->nslots)
		s->ended[j->slot - 1] = sig;
	if (j->slot >= 1 && j->slot <= s->nslots &&
	    slot_host(s, j->slot)->local)
		s->here->ops->signal(s->here->ctx, j, pgid, sig);
	else
		s->spawn->ops->signal(s->spawn->ctx, j, pgid, sig);
}

/* A master that ended is a failure of its host, unless it was asked to. */
static int
ssh_orphan(void *ctx, pid_t pid, int status)
{
	struct sshexec	*s = ctx;
	struct host	*h;
	size_t		 i;

	(void)status;
	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		if (h->master != pid)
			continue;
		h->master = -1;
		if (!h->closing)
			host_failed(s, h, "its master connection ended");
		return 1;
	}
	return s->spawn->ops->orphan(s->spawn->ctx, pid, status);
}

/* No terminal for remote jobs. */
static int
ssh_tty(void *ctx)
{
	(void)ctx;
	return -1;
}

/*
 * Release the executor: masters closed, directory removed.  A signal
 * that came while the hosts were cleaned up then ends forkpool, as it
 * would have had it not been caught.
 */
static void
ssh_free(void *ctx)
{
	struct sshexec	*s = ctx;
	size_t		 i;
	int		 sig;

	finish_hosts(s);
	sig = start_signal;
	stop_masters(s->hosts, s->nhosts);
	remove_dir(s);
	for (i = 0; i < s->nfiles; i++)
		free(s->files[i].path);
	free(s->files);
	for (i = 0; i < s->nslots && s->alive != NULL; i++)
		if (s->alive[i] != -1)
			(void)close(s->alive[i]);
	for (i = 0; i < s->nhosts; i++)
		host_free(&s->hosts[i]);
	executor_free(s->spawn);
	executor_free(s->here);
	for (i = 0; i < s->ntf; i++)
		template_free(s->tf[i]);
	for (i = 0; i < s->nret; i++)
		template_free(s->ret[i]);
	free(s->tf);
	free(s->ret);
	free(s->words);
	free(s->cwd);
	free(s->rsync);
	buf_free(&s->base);
	free(s->moves);
	free(s->hosts);
	free(s->slot_host);
	free(s->alive);
	free(s->direct);
	free(s->ended);
	buf_free(&s->envs);
	free(s->defssh);
	free(s->defsshbuf);
	if (live_ssh == s)
		live_ssh = NULL;
	free(s);
	if (sig != 0) {
		(void)signal(sig, SIG_DFL);
		(void)raise(sig);
	}
}

static const struct executor_ops	ssh_ops = {
	.slots = ssh_slots,
	.host = ssh_host,
	.usable = ssh_usable,
	.line_max = ssh_line_max,
	.arg_room = ssh_arg_room,
	.launch = ssh_launch,
	.ending = ssh_ending,
	.signal = ssh_signal,
	.orphan = ssh_orphan,
	.tty = ssh_tty,
	.free = ssh_free,
};

/*
 * Ask every host whose slots are not known for its CPUs, all at once;
 * a host that does not answer with a number is dropped.
 */
static void
count_cpus(struct sshexec *s)
{
	posix_spawn_file_actions_t	 fa;
	struct host	*h;
	struct argv	 a;
	struct buf	 opts = { 0 }, out = { 0 };
	pid_t		*pids;
	int		*fds, fd[2], status;
	char		*log, why[256], chunk[64];
	const char	*errstr;
	struct pollfd	 pfd;
	long long	 until, left;
	size_t		 i;
	ssize_t		 n;
	int		 late;

	until = loop_now_ms() + CONNECT_WAIT_MS;
	pids = xcalloc(s->nhosts, sizeof(*pids));
	fds = xcalloc(s->nhosts, sizeof(*fds));
	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		fds[i] = -1;
		if (h->local || h->dropped || h->ncpus != 0)
			continue;
		a.v = NULL;
		a.n = 0;
		log = dir_file(s, 'q', i);
		clear_log(log);
		ssh_argv(s, h, s->mux ? 'j' : 'd', log, &a, &opts);
		argv_add(&a, "--");
		argv_add(&a, CPU_QUERY);
		pace_ssh(s);
		if (pipe2(fd, O_CLOEXEC) == -1)
			err(EXIT_FORKPOOL_ERROR, "pipe");
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
		    "/dev/null", O_WRONLY, 0);
		if ((errno = posix_spawnp(&pids[i], a.v[0], &fa, NULL, a.v,
		    environ)) != 0) {
			warn("%s", a.v[0]);
			pids[i] = 0;
			(void)close(fd[0]);
		} else
			fds[i] = fd[0];
		(void)close(fd[1]);
		posix_spawn_file_actions_destroy(&fa);
		free(a.v);
		free(log);
	}
	for (i = 0; i < s->nhosts && !start_signal; i++) {
		h = &s->hosts[i];
		if (pids[i] == 0 && fds[i] == -1) {
			if (!h->local && !h->dropped && h->ncpus == 0)
				drop_at_start(h, "");
			continue;
		}
		buf_reset(&out);
		late = 0;
		for (;;) {
			pfd.fd = fds[i];
			pfd.events = POLLIN;
			left = until - loop_now_ms();
			if ((n = poll(&pfd, 1, left < 0 ? 0 : (int)left)) == 0) {
				/* A host that takes the connection, and hangs. */
				late = 1;
				(void)kill(pids[i], SIGKILL);
				break;
			}
			if (n == -1 && errno == EINTR && !start_signal)
				continue;
			if (n == -1)
				break;
			if ((n = read(fds[i], chunk, sizeof(chunk))) == -1 &&
			    errno == EINTR && !start_signal)
				continue;
			if (n <= 0)
				break;
			if (out.len < 64)
				buf_add(&out, chunk, (size_t)n);
		}
		if (start_signal)
			break;
		(void)close(fds[i]);
		fds[i] = -1;
		while (waitpid(pids[i], &status, 0) == -1 && errno == EINTR)
			;
		pids[i] = 0;
		if (late) {
			stop_master(h);
			drop_at_start(h, "no answer in time");
			continue;
		}
		buf_addc(&out, '\0');
		out.data[strcspn(out.data, " \t\r\n")] = '\0';
		h->ncpus = (unsigned int)strtonum(out.data, 1, 100000,
		    &errstr);
		if (errstr == NULL)
			continue;
		log = dir_file(s, 'q', i);
		(void)read_log(log, why, sizeof(why));
		free(log);
		if (why[0] == '\0' && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 255)
			strlcpy(why, "it did not say how many CPUs it has",
			    sizeof(why));
		stop_master(h);
		drop_at_start(h, why);
	}
	/* Ended by a signal: so are the questions not answered yet. */
	for (i = 0; i < s->nhosts; i++) {
		if (fds[i] != -1)
			(void)close(fds[i]);
		if (pids[i] <= 0)
			continue;
		(void)kill(pids[i], SIGTERM);
		while (waitpid(pids[i], &status, 0) == -1 && errno == EINTR)
			;
	}
	free(pids);
	free(fds);
	buf_free(&opts);
	buf_free(&out);
}

/*
 * Refuse what needs a remote side forkpool does not build, when a login
 * is remote (":" alone runs here, as without -S); -1 after a message.
 */
static int
check_options(const struct opts *o, int remote)
{
	const char	*opt = NULL;

	if (!remote)
		return 0;
	if (o->tty)
		opt = o->tty_name;
	if (opt == NULL)
		return 0;
	warnx("%s cannot be used with remote hosts (-S, --sshloginfile)", opt);
	return -1;
}

/*
 * What moving files needs: forkpool's directory, rsync when a remote
 * host is to get or give files, the templates, the basefiles (which
 * must be here).  -1 after a message.
 */
static int
setup_xfer(struct sshexec *s, const struct opts *o, int remote)
{
	struct stat	 st;
	const char	*opt = NULL;
	size_t		 i, n = 0;

	if ((s->cwd = getcwd(NULL, 0)) == NULL) {
		warn("cannot find the current directory");
		return -1;
	}
	s->cleanup = o->cleanup;
	s->slot_var = o->slot_var;
	if (o->ntransfers > 0)
		opt = "--transferfile";
	else if (o->transfer)
		opt = "--transfer";
	else if (o->nreturns > 0)
		opt = "--return";
	else if (o->nbasefiles > 0)
		opt = "--basefile";
	if (!remote || opt == NULL)
		return 0;
	s->rsync = find_program("rsync");
	if (access(s->rsync, X_OK) == -1) {
		warnx("%s needs rsync, which is not installed (not found in "
		    "PATH)", opt);
		return -1;
	}
	for (i = 0; i < o->nbasefiles; i++) {
		if (stat(o->basefiles[i], &st) == -1) {
			warn("--basefile %s", o->basefiles[i]);
			return -1;
		}
		buf_adds(&s->base, o->basefiles[i]);
		buf_addc(&s->base, '\0');
	}
	s->nbase = o->nbasefiles;
	/* The templates borrow their words: one array holds them all. */
	s->words = xcalloc(o->ntransfers + 1 + o->nreturns, sizeof(*s->words));
	s->tf = xcalloc(o->ntransfers + 1, sizeof(*s->tf));
	s->ret = xcalloc(o->nreturns + 1, sizeof(*s->ret));
	s->ntf_named = o->ntransfers;
	for (i = 0; i < o->ntransfers + (o->transfer != 0); i++) {
		s->words[n] = (char *)(i < o->ntransfers ? o->transfers[i] :
		    o->replstr);
		if ((s->tf[s->ntf] = template_new(&s->words[n++], 1,
		    TEMPLATE_TEXT, o)) == NULL)
			return -1;
		s->ntf++;
	}
	for (i = 0; i < o->nreturns; i++) {
		s->words[n] = (char *)o->returns[i];
		if ((s->ret[s->nret] = template_new(&s->words[n++], 1,
		    TEMPLATE_TEXT, o)) == NULL)
			return -1;
		s->nret++;
	}
	return 0;
}

/*
 * --workdir on host number i: DIR as given (relative to the login's
 * directory), "." the current directory's path under $HOME (or all of
 * it elsewhere), "..." a directory of the run's own under
 * ~/.parallel/tmp.  NULL: the login's directory.
 */
static char *
remote_workdir(const struct sshexec *s, const char *wd, size_t i)
{
	const char	*suffix;
	char		*p, *home = NULL;
	size_t		 n;

	if (wd == NULL)
		return NULL;
	if (strcmp(wd, "...") == 0) {
		suffix = strrchr(s->dir, '.');
		if (asprintf(&p, ".parallel/tmp/forkpool%s.%zu", suffix, i) ==
		    -1)
			err(EXIT_FORKPOOL_ERROR, "asprintf");
		return p;
	}
	if (strcmp(wd, ".") != 0)
		return xstrdup(wd);
	/* The cwd is a physical path: so must $HOME be to compare. */
	if (getenv("HOME") != NULL)
		home = realpath(getenv("HOME"), NULL);
	p = NULL;
	if (home != NULL && (n = strlen(home)) > 0 &&
	    strncmp(s->cwd, home, n) == 0 &&
	    (s->cwd[n] == '/' || s->cwd[n] == '\0')) {
		if (s->cwd[n] == '/' && n > 1)
			p = xstrdup(s->cwd + n + 1);
		else if (s->cwd[n] != '\0')
			p = xstrdup(s->cwd);
	} else
		p = xstrdup(s->cwd);
	free(home);
	return p;
}

/* The slot table: each host's slots one after another. */
static void
make_slots(struct sshexec *s, const struct opts *o)
{
	struct host	*h;
	size_t		 i;
	unsigned int	 k;

	for (i = 0; i < s->nhosts; i++) {
		h = &s->hosts[i];
		if (h->dropped)
			continue;
		/* -j N counts per host, as in GNU parallel. */
		h->slots = o->jobs_given || h->ncpus == 0 ? o->jobs : h->ncpus;
		s->nslots += h->slots;
		s->has_local |= h->local;
	}
	s->slot_host = xcalloc(s->nslots, sizeof(*s->slot_host));
	s->alive = xcalloc(s->nslots, sizeof(*s->alive));
	s->direct = xcalloc(s->nslots, sizeof(*s->direct));
	s->ended = xcalloc(s->nslots, sizeof(*s->ended));
	s->moves = xcalloc(s->nslots, sizeof(*s->moves));
	for (i = 0, s->nslots = 0; i < s->nhosts; i++)
		for (k = 0; !s->hosts[i].dropped && k < s->hosts[i].slots;
		    k++) {
			s->alive[s->nslots] = -1;
			s->slot_host[s->nslots++] = (unsigned int)i;
		}
}

/* The words of --ssh, or $PARALLEL_SSH, or ssh; -1 after a message. */
static int
set_ssh(struct sshexec *s, const struct opts *o)
{
	const char	*ssh;
	size_t		 n;

	if ((ssh = o->ssh) == NULL && ((ssh = getenv("PARALLEL_SSH")) == NULL ||
	    *ssh == '\0'))
		ssh = "ssh";
	s->defssh = split_words(ssh, &s->defsshbuf, &n);
	if (n == 0) {
		warnx("--ssh %s: no command", ssh);
		return -1;
	}
	return 0;
}

/* See exec.h. */
int
exec_ssh_logins(const struct opts *o, char ***valuesp, char ***namesp)
{
	struct sshexec	*s = xcalloc(1, sizeof(*s));
	struct buf	 v = { 0 };
	char		**values = NULL, **names = NULL;
	const char	*p;
	size_t		 i, k, n = 0;
	int		 rc, remote = 0;

	rc = set_ssh(s, o);
	for (i = 0; rc == 0 && i < o->nlogins; i++)
		rc = o->logins[i].file ? add_login_file(s, &o->logins[i]) :
		    add_logins(s, &o->logins[i]);
	if (rc == 0 && s->nhosts == 0) {
		warnx("%s %s: no login", o->logins[0].opt, o->logins[0].value);
		rc = -1;
	}
	for (i = 0; i < s->nhosts; i++)
		remote |= !s->hosts[i].local;
	/* Said once here, not by the run of every host. */
	if (rc == 0 && (check_options(o, remote) == -1 ||
	    check_ssh_programs(s, o) == -1))
		rc = -1;
	for (i = 0; rc == 0 && i < s->nhosts; i++) {
		buf_reset(&v);
		for (p = s->hosts[i].login; *p != '\0'; p++) {
			buf_addc(&v, *p);
			if (*p == ',')
				buf_addc(&v, ',');
		}
		for (k = 0; k < n && strcmp(values[k], v.data) != 0; k++)
			;
		if (k < n)
			continue;
		values = xreallocarray(values, n + 1, sizeof(*values));
		names = xreallocarray(names, n + 1, sizeof(*names));
		values[n] = xstrdup(v.data);
		names[n++] = xstrdup(s->hosts[i].name);
	}
	buf_free(&v);
	for (i = 0; i < s->nhosts; i++)
		host_free(&s->hosts[i]);
	free(s->hosts);
	free(s->defssh);
	free(s->defsshbuf);
	free(s);
	*valuesp = values;
	*namesp = names;
	if (rc == -1) {
		for (i = 0; i < n; i++) {
			free(values[i]);
			free(names[i]);
		}
		free(values);
		free(names);
		*valuesp = *namesp = NULL;
		return -1;
	}
	return (int)n;
}

/* See exec.h. */
struct executor *
exec_ssh_new(int capture, const struct opts *o)
{
	struct sshexec		*s;
	struct sigaction	 old[NSTART_SIGS];
	struct opts		 local;
	size_t			 i;
	int			 remote = 0;

	s = xcalloc(1, sizeof(*s));
	s->ex.ops = &ssh_ops;
	s->ex.ctx = s;
	s->mux = !o->no_multiplex;
	s->delay_ms = o->sshdelay_ms;
	s->last_ssh_ms = -o->sshdelay_ms;
	if (set_ssh(s, o) == -1)
		goto fail;
	env_words(s, o);
	for (i = 0; i < o->nlogins; i++)
		if ((o->logins[i].file ? add_login_file(s, &o->logins[i]) :
		    add_logins(s, &o->logins[i])) == -1)
			goto fail;
	if (s->nhosts == 0) {
		warnx("%s %s: no login", o->logins[0].opt, o->logins[0].value);
		goto fail;
	}
	for (i = 0; i < s->nhosts; i++)
		remote |= !s->hosts[i].local;
	if (check_options(o, remote) == -1 ||
	    (remote && check_env_room(s) == -1) ||
	    setup_xfer(s, o, remote) == -1 || check_ssh_programs(s, o) == -1)
		goto fail;
	live_ssh = s;
	(void)atexit(cleanup_at_exit);
	catch_at_start(1, old);
	if (remote && make_dir(s, opts_tmpdir(o)) == -1) {
		catch_at_start(0, old);
		goto fail;
	}
	for (i = 0; i < s->nhosts; i++) {
		if (s->hosts[i].local)
			continue;
		s->hosts[i].sock = dir_file(s, 's', i);
		s->hosts[i].wd = remote_workdir(s, o->workdir, i);
		if (s->mux && !start_signal) {
			pace_ssh(s);
			start_master(s, &s->hosts[i]);
		}
	}
	wait_masters(s);
	if (!o->jobs_given && !start_signal)
		count_cpus(s);
	s->wd_private = remote && o->workdir != NULL &&
	    strcmp(o->workdir, "...") == 0;
	s->ready = 1;
	if (!start_signal)
		send_basefiles(s, o);
	catch_at_start(0, old);
	if (start_signal)
		end_at_start(s);
	make_slots(s, o);
	if (s->nslots == 0) {
		if (s->base_failed)
			warnx("no host is left: --basefile could not be "
			    "copied to them: no job runs");
		else
			warnx("no host can be reached: no job runs");
		goto fail;
	}
	/* ssh runs here, in forkpool's directory; ":"'s jobs in --workdir. */
	local = *o;
	local.workdir = NULL;
	if ((s->spawn = exec_local_new(s->nslots, capture, NULL, &local)) ==
	    NULL)
		goto fail;
	if (s->has_local) {
		local = *o;
		local.nice = 0;		/* the first one took it */
		if ((s->here = exec_local_new(s->nslots, capture, NULL,
		    &local)) == NULL)
			goto fail;
		if (o->slot_var != NULL)
			exec_local_slot_var(s->here, o->slot_var);
	}
	return &s->ex;
fail:
	ssh_free(s);
	return NULL;
}
