#include <sys/queue.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "lookahead.h"
#include "source.h"
#include "util.h"

/*
 * Jobs built by one prefetch() call at most, so that a turn of the event
 * loop stays short and the running jobs are looked at between them.
 */
#define PREFETCH_BATCH	64

/* What a held job costs beyond its strings and argv: structs, malloc's share. */
#define JOB_OVERHEAD	(sizeof(struct job) + sizeof(struct ahead) + 64)

/* A job held ahead, or the place of a rejected record among them. */
struct ahead {
	struct job		*job;		/* NULL: a rejection */
	unsigned long long	 rejected;	/* the inner count then */
	unsigned long long	 last;		/* and its record number */
	size_t			 cost;
	TAILQ_ENTRY(ahead)	 entry;
};

TAILQ_HEAD(ahead_list, ahead);

/*
 * A job or rejection in the spool file, before its bytes: the values,
 * the command and the tag (with its NUL when there is one).
 */
struct spooled {
	int			 is_job;
	int			 use_shell;
	unsigned long long	 seq;
	unsigned long long	 rejected;	/* a rejection: as in ahead */
	unsigned long long	 last;
	size_t			 nvals;
	size_t			 valslen;
	size_t			 cmdlen;
	size_t			 argc;
	size_t			 taglen;
	const char		*shell;		/* argv[0] with use_shell */
};

struct lookahead {
	struct source		 src;
	struct source		*inner;
	struct ahead_list	 held;
	size_t			 bytes;		/* cost of what is held */
	unsigned long long	 njobs;		/* handed out or held */
	unsigned long long	 rejected;	/* as rejected() says */
	unsigned long long	 last;
	int			 done;		/* inner said SOURCE_DONE */
	int			 error;		/* inner said SOURCE_ERROR */
	const char		*tmpdir;	/* set: read all before any job */
	FILE			*spool;		/* beyond LOOKAHEAD_MAX, or NULL */
	unsigned long long	 spooled;	/* entries in it not handed out */
	int			 reading;	/* the spool was rewound */
};

static const struct source_ops	lookahead_ops;

/* A read-ahead of src. */
struct lookahead *
lookahead_new(struct source *inner)
{
	struct lookahead	*la;

	la = xcalloc(1, sizeof(*la));
	la->src.ops = &lookahead_ops;
	la->src.ctx = la;
	la->inner = inner;
	TAILQ_INIT(&la->held);
	return la;
}

/* Release the read-ahead and every job it holds. */
void
lookahead_free(struct lookahead *la)
{
	struct ahead	*a;

	if (la == NULL)
		return;
	while ((a = TAILQ_FIRST(&la->held)) != NULL) {
		TAILQ_REMOVE(&la->held, a, entry);
		job_free(a->job);
		free(a);
	}
	if (la->spool != NULL)
		(void)fclose(la->spool);
	free(la);
}

/* The read-ahead as a source. */
struct source *
lookahead_source(struct lookahead *la)
{
	return &la->src;
}

/* The jobs known so far; see lookahead.h. */
unsigned long long
lookahead_count(const struct lookahead *la, int *final)
{
	*final = la->done || la->error;
	return la->njobs;
}

/* Hold every job until the inner source has no more; see lookahead.h. */
void
lookahead_read_all(struct lookahead *la, const char *tmpdir)
{
	la->tmpdir = tmpdir;
}

/*
 * Write a job, or (j NULL) the place of the records rejected until now,
 * at the end of the spool; -1 after a message.
 */
static int
spool(struct lookahead *la, struct job *j)
{
	struct spooled	 h = { 0 };
	int		 fd, ok;

	if (la->spool == NULL) {
		if ((fd = temp_file(la->tmpdir, NULL)) == -1 ||
		    (la->spool = fdopen(fd, "w+")) == NULL) {
			warn("cannot create a file in %s for the jobs "
			    "read ahead", la->tmpdir);
			if (fd != -1)
				(void)close(fd);
			job_free(j);
			return -1;
		}
	}
	if (j == NULL) {
		h.rejected = la->inner->ops->rejected(la->inner->ctx, &h.last);
		ok = fwrite(&h, sizeof(h), 1, la->spool) == 1;
	} else {
		h.is_job = 1;
		h.seq = j->seq;
		h.use_shell = j->use_shell;
		h.nvals = j->nvals;
		h.valslen = j->vals.len;
		h.cmdlen = j->cmd.len;
		h.taglen = j->tag != NULL ? strlen(j->tag) + 1 : 0;
		while (j->argv != NULL && j->argv[h.argc] != NULL)
			h.argc++;
		h.shell = j->use_shell && j->argv != NULL ? j->argv[0] : NULL;
		ok = fwrite(&h, sizeof(h), 1, la->spool) == 1 &&
		    (h.valslen == 0 || fwrite(j->vals.data, h.valslen, 1,
		    la->spool) == 1) &&
		    (h.cmdlen == 0 || fwrite(j->cmd.data, h.cmdlen, 1,
		    la->spool) == 1) &&
		    (h.taglen == 0 || fwrite(j->tag, h.taglen, 1,
		    la->spool) == 1);
		la->njobs += ok;
		job_free(j);
	}
	if (!ok) {
		warn("cannot write the jobs read ahead in %s", la->tmpdir);
		return -1;
	}
	la->spooled++;
	return 0;
}

/* Read len bytes of the spool into b, with a NUL after them; -1. */
static int
spool_read(struct lookahead *la, struct buf *b, size_t len)
{
	buf_reserve(b, len);
	if (len > 0 && fread(b->data, len, 1, la->spool) != 1)
		return -1;
	b->len = len;
	b->data[len] = '\0';
	return 0;
}

/*
 * The oldest entry of the spool: a job into *jobp, or NULL with the
 * place of a rejection.  -1 after a message.
 */
static int
unspool(struct lookahead *la, struct job **jobp)
{
	struct spooled	 h;
	struct job	*j;
	struct buf	 tag = { 0 };

	*jobp = NULL;
	if (!la->reading) {
		la->reading = 1;
		if (fflush(la->spool) == EOF || fseek(la->spool, 0,
		    SEEK_SET) == -1)
			goto fail;
	}
	if (fread(&h, sizeof(h), 1, la->spool) != 1)
		goto fail;
	la->spooled--;
	if (!h.is_job) {
		la->rejected = h.rejected;
		la->last = h.last;
		return 0;
	}
	j = job_new(h.seq);
	j->nvals = h.nvals;
	if (spool_read(la, &j->vals, h.valslen) == -1 ||
	    spool_read(la, &j->cmd, h.cmdlen) == -1 ||
	    (h.taglen > 0 && spool_read(la, &tag, h.taglen) == -1)) {
		buf_free(&tag);
		job_free(j);
		goto fail;
	}
	if (h.cmdlen == 0)
		buf_add(&j->cmd, "", 0);
	j->tag = tag.data;
	job_set_argv(j, h.argc, h.use_shell ? h.shell : NULL);
	*jobp = j;
	return 0;
fail:
	warn("cannot read the jobs read ahead in %s", la->tmpdir);
	return -1;
}

/* Hold a job, or (j NULL) the place of the records rejected until now. */
static void
hold(struct lookahead *la, struct job *j)
{
	struct ahead	*a;
	size_t		 argc = 0;

	a = xcalloc(1, sizeof(*a));
	a->job = j;
	if (j != NULL) {
		while (j->argv != NULL && j->argv[argc] != NULL)
			argc++;
		a->cost = JOB_OVERHEAD + j->cmd.cap + j->vals.cap +
		    (argc + 1) * sizeof(*j->argv) +
		    (j->tag != NULL ? strlen(j->tag) + 1 : 0);
		la->njobs++;
	} else
		a->rejected = la->inner->ops->rejected(la->inner->ctx, &a->last);
	la->bytes += a->cost;
	TAILQ_INSERT_TAIL(&la->held, a, entry);
}

/* Build some jobs ahead; see source.h. */
static int
lookahead_prefetch(void *ctx, int *fdp)
{
	struct lookahead	*la = ctx;
	struct job		*j;
	enum source_status	 st;
	int			 n;

	*fdp = -1;
	for (n = 0; n < PREFETCH_BATCH; n++) {
		if (la->done || la->error || (la->bytes >= LOOKAHEAD_MAX &&
		    la->tmpdir == NULL))
			return 0;
		st = la->inner->ops->next(la->inner->ctx, &j);
		/* Read all: what memory does not take goes to disk, in order. */
		if ((st == SOURCE_JOB || st == SOURCE_REJECTED) &&
		    la->tmpdir != NULL && (la->spool != NULL ||
		    la->bytes >= LOOKAHEAD_MAX)) {
			if (spool(la, st == SOURCE_JOB ? j : NULL) == -1) {
				la->error = 1;
				return 0;
			}
			continue;
		}
		switch (st) {
		case SOURCE_JOB:
			hold(la, j);
			break;
		case SOURCE_REJECTED:
			hold(la, NULL);
			break;
		case SOURCE_WAIT:
			*fdp = la->inner->ops->fd(la->inner->ctx);
			return 0;
		case SOURCE_IDLE:
			return 0;
		case SOURCE_DONE:
			la->done = 1;
			return 0;
		case SOURCE_ERROR:
			la->error = 1;
			return 0;
		}
	}
	return 1;
}

/* The next job: the oldest held, else the inner source's next. */
static enum source_status
lookahead_next(void *ctx, struct job **jobp)
{
	struct lookahead	*la = ctx;
	struct ahead		*a;
	enum source_status	 st;
	int			 fd;

	/* Reading all: nothing is handed out before the end of the input. */
	while (la->tmpdir != NULL && !la->done && !la->error)
		if (!lookahead_prefetch(la, &fd) && !la->done && !la->error)
			return SOURCE_WAIT;
	if ((a = TAILQ_FIRST(&la->held)) != NULL) {
		TAILQ_REMOVE(&la->held, a, entry);
		la->bytes -= a->cost;
		*jobp = a->job;
		if (a->job == NULL) {
			la->rejected = a->rejected;
			la->last = a->last;
		}
		free(a);
		return *jobp != NULL ? SOURCE_JOB : SOURCE_REJECTED;
	}
	if (la->spooled > 0) {
		if (unspool(la, jobp) == -1) {
			la->spooled = 0;
			la->error = 1;
			return SOURCE_ERROR;
		}
		return *jobp != NULL ? SOURCE_JOB : SOURCE_REJECTED;
	}
	if (la->error)
		return SOURCE_ERROR;
	if (la->done)
		return SOURCE_DONE;
	st = la->inner->ops->next(la->inner->ctx, jobp);
	switch (st) {
	case SOURCE_JOB:
		la->njobs++;
		break;
	case SOURCE_REJECTED:
		la->rejected = la->inner->ops->rejected(la->inner->ctx,
		    &la->last);
		break;
	case SOURCE_DONE:
		la->done = 1;
		break;
	case SOURCE_ERROR:
		la->error = 1;
		break;
	case SOURCE_WAIT:
	case SOURCE_IDLE:
		break;
	}
	return st;
}

/* The inner source's fd to poll. */
static int
lookahead_fd(void *ctx)
{
	struct lookahead	*la = ctx;

	return la->inner->ops->fd(la->inner->ctx);
}

/* Render as the inner source does. */
static void
lookahead_render(void *ctx, struct job *j)
{
	struct lookahead	*la = ctx;

	la->inner->ops->render(la->inner->ctx, j);
}

/* The records rejected among what was handed out. */
static unsigned long long
lookahead_rejected(void *ctx, unsigned long long *last)
{
	struct lookahead	*la = ctx;

	*last = la->last;
	return la->rejected;
}

static const struct source_ops	lookahead_ops = {
	.next = lookahead_next,
	.fd = lookahead_fd,
	.render = lookahead_render,
	.rejected = lookahead_rejected,
	.prefetch = lookahead_prefetch,
};
