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
 * gone or no longer answers on its socket (a remote command killed by a
 * signal also leaves no exit status, but its master still answers).  Such a job runs again elsewhere; a host that fails three times
 * in a row is dropped.
 *
 * --sshdelay spaces every start of ssh, masters, CPU counts and jobs:
 * at the start by waiting, in the run by a remote slot that is not
 * usable until the delay has passed.
 */
#include <sys/prctl.h>
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

/* How long a master has to answer whether it still serves its clients. */
#define ANSWER_WAIT_MS	10000

/*
 * A socket's path must fit sun_path (108 bytes with its NUL); ssh binds
 * the master's at the path plus ".XXXXXXXXXXXXXXXX" first, then links it.
 */
#define SOCKET_PATH_MAX	(108 - 1 - 17)

/* What the remote side runs to count its CPUs. */
#define CPU_QUERY	"nproc 2>/dev/null || getconf _NPROCESSORS_ONLN"

/*
 * The remote wrapper, run by /bin/sh as "sh -c WRAPPER forkpool MODE
 * ARGV...".  sshd makes the remote command the leader of a session and
 * process group of its own, and the wrapper is exec'd in its place, so
 * that "kill 0" ends the job's whole tree.  The job runs in the
 * background while a watcher waits for the connection to go: with MODE
 * i, the job's stdin is /dev/null and the wrapper's stdin is a pipe
 * forkpool holds open while the job runs, so its end of file means that
 * ssh or forkpool is gone; with MODE p, stdin is the job's (pipe mode),
 * and the watcher looks every second whether sshd, the wrapper's
 * parent, is still there.  The watcher ignores the TERM it sends.
 */
static const char wrapper[] =
    "m=$1; shift; p=$PPID; exec 3<&0 </dev/null; "
    "if [ \"$m\" = p ]; then \"$@\" <&3 3<&- & else \"$@\" 3<&- & fi; "
    "j=$!; "
    "{ trap '' TERM; "
    "if [ \"$m\" = p ]; then exec 3<&-; while kill -0 \"$p\" 2>/dev/null; "
    "do sleep 1; done; "
    "else while read -r _; do :; done <&3; fi; "
    "kill -TERM 0; sleep 2; kill -KILL 0; } </dev/null >/dev/null 2>&1 & "
    "w=$!; exec 3<&-; wait \"$j\"; s=$?; kill -KILL \"$w\" 2>/dev/null; "
    "exit \"$s\"";

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
	unsigned int	 fails;		/* failures in a row */
	pid_t		 master;	/* the master connection, or -1 */
	int		 closing;	/* its end was asked for */
	char		*sock;		/* owned: its socket's path */
	const struct login_arg *from;	/* the -S or file it came from */
	size_t		 line;		/* its line in that file, or 0 */
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
	int			*ended;		/* owned: slot - 1 -> forkpool
						   sent its job a signal that
						   ends it (timeout, halt,
						   a signal of its own) */
	char			*dir;		/* owned: the private directory,
						   or NULL */
	int			 mux;		/* masters, not --no-multiplex */
	int			 none_left;	/* every host was dropped */
	int			 has_local;	/* a ":" login */
	struct buf		 envs;		/* --env: " NAME=VALUE" for
						   each, quoted */
	char			**defssh;	/* owned: --ssh's words */
	char			*defsshbuf;
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

/* For the exit(3) after a fatal error: masters and directory go. */
static struct sshexec	*live_ssh;

/* Split s into words at blanks: *bufp owns their bytes. */
static char **
split_words(const char *s, char **bufp, size_t *np)
{
	char	**v = NULL, *p, *save = NULL, *w;
	size_t	 n = 0;

	*bufp = xstrdup(s);
	for (p = *bufp; (w = strtok_r(p, " \t\n", &save)) != NULL; p = NULL) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = w;
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	v[n] = NULL;
	*np = n;
	return v;
}

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
		colon = p[1] == ':' ? p + 1 : NULL;
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
open_login_file(const struct login_arg *l)
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
	buf_free(&path);
	if (f == NULL)
		warnx("%s %s: %s", l->opt, l->value, strerror(saved));
	return f;
}

/* The logins of a file, one a line.  -1 after a message. */
static int
add_login_file(struct sshexec *s, const struct login_arg *l)
{
	char	*line = NULL;
	size_t	 cap = 0, n, lineno = 0;
	ssize_t	 len;
	FILE	*f;
	int	 rc = 0;

	if (strcmp(l->value, "-") == 0) {
		warnx("%s -: logins from stdin are not supported", l->opt);
		return -1;
	}
	if ((f = open_login_file(l)) == NULL)
		return -1;
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

/* An argv under construction. */
struct argv {
	char	**v;
	size_t	 n;
};

/* Append s (borrowed) to the argv. */
static void
argv_add(struct argv *a, const char *s)
{
	a->v = xreallocarray(a->v, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
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

/* The program file would run, searched in PATH as execvp(3) does. */
static char *
find_program(const char *name)
{
	struct buf	 b = { 0 };
	const char	*path = getenv("PATH"), *p, *e;

	if (strchr(name, '/') != NULL || path == NULL)
		return xstrdup(name);
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		buf_reset(&b);
		if (e == NULL)
			e = p + strlen(p);
		if (e > p)
			buf_add(&b, p, (size_t)(e - p));
		else
			buf_addc(&b, '.');
		buf_addc(&b, '/');
		buf_adds(&b, name);
		if (access(b.data, X_OK) == 0 || *e == '\0')
			break;
	}
	return b.data;
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

/* End h's master connection and wait for it. */
static void
stop_master(struct host *h)
{
	if (h->master <= 0)
		return;
	h->closing = 1;
	(void)kill(h->master, SIGTERM);
	while (waitpid(h->master, NULL, 0) == -1 && errno == EINTR)
		;
	h->master = -1;
}

/* Close every master, remove the directory: at exit after an error. */
static void
cleanup_at_exit(void)
{
	size_t	 i;

	if (live_ssh == NULL)
		return;
	for (i = 0; i < live_ssh->nhosts; i++)
		stop_master(&live_ssh->hosts[i]);
	remove_dir(live_ssh);
}

/* Sleep ms milliseconds. */
static void
nap(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
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

	for (waited = 0; ; waited += 20) {
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
	char	 num[32];
	size_t	 i;

	ssh_argv(s, h, how, log, a, opts);
	argv_add(a, "--");
	/* The remote login shell reads this line: every word quoted. */
	buf_reset(cmd);
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
	buf_adds(cmd, " /bin/sh -c ");
	shell_quote(cmd, wrapper, sizeof(wrapper) - 1);
	buf_adds(cmd, pipe_mode ? " forkpool p" : " forkpool i");
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

	if (s->none_left)
		return 1;
	if (h->dropped)
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

/* Start a job: here for ":", else through ssh; see exec.h. */
static enum exec_result
ssh_launch(void *ctx, struct job *j, int in, struct exec_proc *p)
{
	struct sshexec		*s = ctx;
	struct host		*h = slot_host(s, j->slot);
	struct argv		 a = { NULL, 0 };
	struct buf		 opts = { 0 }, cmd = { 0 };
	enum exec_result	 res;
	char			**argv, *log;
	int			 alive[2] = { -1, -1 }, how;

	if (s->none_left) {
		job_set_spawn_failure(j, EXIT_FORKPOOL_ERROR);
		return EXEC_FAILED;
	}
	if (h->local)
		return s->spawn->ops->launch(s->spawn->ctx, j, in, p);
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
			return errno == EMFILE || errno == ENFILE ?
			    EXEC_NOFDS : EXEC_AGAIN;
		}
	}
	remote_argv(s, h, how, log, j, in != -1, &a, &opts, &cmd);
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
	}
	else if (alive[1] != -1)
		(void)close(alive[1]);
	free(a.v);
	buf_free(&opts);
	buf_free(&cmd);
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
	    master_answers(h))
		return 0;
	if (why[0] == '\0')
		strlcpy(why, "the connection was lost", whylen);
	return 1;
}

/* What ended the job: its own doing, or its host's; see exec.h. */
static enum exec_ending
ssh_ending(void *ctx, const struct job *j, int status)
{
	struct sshexec	*s = ctx;
	struct host	*h = slot_host(s, j->slot);
	char		 why[256];

	if (h->local)
		return s->spawn->ops->ending(s->spawn->ctx, j, status);
	if (s->alive[j->slot - 1] != -1) {
		(void)close(s->alive[j->slot - 1]);
		s->alive[j->slot - 1] = -1;
	}
	/* Ended by forkpool: its own result (a timeout), not a failure. */
	if (s->ended[j->slot - 1])
		return EXEC_DONE;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 255 &&
	    transport_failed(s, h, j->slot, why, sizeof(why))) {
		host_failed(s, h, why);
		return EXEC_REQUEUE;
	}
	h->fails = 0;
	return EXEC_DONE;
}

/* Signal the job: the local ssh's group; the wrapper ends the rest. */
static void
ssh_signal(void *ctx, const struct job *j, pid_t pgid, int sig)
{
	struct sshexec	*s = ctx;

	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGCONT &&
	    sig != SIGTTIN && sig != SIGTTOU && sig != SIGUSR1 &&
	    j->slot >= 1 && j->slot <= s->nslots)
		s->ended[j->slot - 1] = 1;
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

/* Release the executor: masters closed, directory removed. */
static void
ssh_free(void *ctx)
{
	struct sshexec	*s = ctx;
	size_t		 i;

	for (i = 0; i < s->nhosts; i++)
		stop_master(&s->hosts[i]);
	remove_dir(s);
	for (i = 0; i < s->nslots && s->alive != NULL; i++)
		if (s->alive[i] != -1)
			(void)close(s->alive[i]);
	for (i = 0; i < s->nhosts; i++)
		host_free(&s->hosts[i]);
	executor_free(s->spawn);
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
	for (i = 0; i < s->nhosts; i++) {
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
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				break;
			if ((n = read(fds[i], chunk, sizeof(chunk))) == -1 &&
			    errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (out.len < 64)
				buf_add(&out, chunk, (size_t)n);
		}
		(void)close(fds[i]);
		while (waitpid(pids[i], &status, 0) == -1 && errno == EINTR)
			;
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
	if (o->workdir != NULL)
		opt = "--workdir";
	else if (o->tty)
		opt = o->tty_name;
	else if (o->slot_var != NULL)
		opt = "--process-slot-var";
	if (opt == NULL)
		return 0;
	warnx("%s cannot be used with remote hosts (-S, --sshloginfile)", opt);
	return -1;
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
	struct sshexec	*s;
	size_t		 i;
	int		 remote = 0;

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
	if (check_options(o, remote) == -1 || check_ssh_programs(s, o) == -1)
		goto fail;
	live_ssh = s;
	(void)atexit(cleanup_at_exit);
	if (remote && make_dir(s, opts_tmpdir(o)) == -1)
		goto fail;
	for (i = 0; i < s->nhosts; i++) {
		if (s->hosts[i].local)
			continue;
		s->hosts[i].sock = dir_file(s, 's', i);
		if (s->mux) {
			pace_ssh(s);
			start_master(s, &s->hosts[i]);
		}
	}
	wait_masters(s);
	if (!o->jobs_given)
		count_cpus(s);
	make_slots(s, o);
	if (s->nslots == 0) {
		warnx("no host can be reached: no job runs");
		goto fail;
	}
	if ((s->spawn = exec_local_new(s->nslots, capture, NULL, o)) == NULL)
		goto fail;
	if (o->slot_var != NULL)
		exec_local_slot_var(s->spawn, o->slot_var);
	return &s->ex;
fail:
	ssh_free(s);
	return NULL;
}
