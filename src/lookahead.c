#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

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
	int			 n;

	*fdp = -1;
	for (n = 0; n < PREFETCH_BATCH; n++) {
		if (la->done || la->error || la->bytes >= LOOKAHEAD_MAX)
			return 0;
		switch (la->inner->ops->next(la->inner->ctx, &j)) {
		case SOURCE_JOB:
			hold(la, j);
			break;
		case SOURCE_REJECTED:
			hold(la, NULL);
			break;
		case SOURCE_WAIT:
			*fdp = la->inner->ops->fd(la->inner->ctx);
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
