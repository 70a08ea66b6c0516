/* callstore.c - FIFO of call-row writes served by one thread. Rows are small
 * and rare (a few per call), so the queue is unbounded but counted; a
 * failing database is logged once per row, never retried forever. */
#include "call/callstore.h"

#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct callrow {
	int64_t id;        /* 0 until the insert succeeded */
	atomic_int refs;   /* the loop's until its last update, plus the pipeline's */
	pthread_mutex_t lock;
	char consent[16];  /* set by the pipeline, merged into every update */
};

enum job_kind { JOB_INSERT, JOB_UPDATE, JOB_TURN, JOB_RELEASE };

struct job {
	struct job *next;
	enum job_kind kind;
	bool last;
	struct callrow *row;
	struct store_call c;
	struct store_turn t; /* JOB_TURN; t.text owned by the job */
};

static void row_unref(struct callrow *row)
{
	if (atomic_fetch_sub(&row->refs, 1) == 1) {
		pthread_mutex_destroy(&row->lock);
		free(row);
	}
}

void callstore_row_consent(struct callrow *row, const char *state)
{
	if (!row)
		return;
	pthread_mutex_lock(&row->lock);
	snprintf(row->consent, sizeof(row->consent), "%s", state);
	pthread_mutex_unlock(&row->lock);
}

/* The pipeline's consent decides what of the row is kept. */
static void merge_consent(struct callrow *row, struct store_call *c, bool last)
{
	pthread_mutex_lock(&row->lock);
	if (row->consent[0])
		snprintf(c->consent, sizeof(c->consent), "%s", row->consent);
	pthread_mutex_unlock(&row->lock);
	if (strcmp(c->consent, "refused") != 0)
		return;
	if (last && c->recording_path[0] && unlink(c->recording_path) != 0 && errno != ENOENT)
		log_error("calls: cannot delete the recording of a call without consent: %s",
			  strerror(errno));
	c->caller[0] = c->callee[0] = c->recording_path[0] = '\0';
}

struct callstore {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t queued;
	bool stop;
	struct store *st;
};

static void run(struct callstore *cw, struct job *j)
{
	int err;

	if (!cw->st) { /* no database (callbot dial): rows are only kept for their turns' order */
		if (j->kind == JOB_TURN)
			free(j->t.text);
		if (j->kind == JOB_RELEASE)
			row_unref(j->row);
		if (j->last)
			row_unref(j->row);
		return;
	}
	if (j->kind == JOB_TURN) {
		j->t.call_id = j->row->id;
		err = j->row->id ? store_turn_insert(cw->st, &j->t, NULL) : ENOENT;
		if (err)
			log_error("calls: cannot store turn %d of call row %lld: %s", j->t.seq,
				  (long long)j->row->id, strerror(err));
		free(j->t.text);
	} else if (j->kind == JOB_RELEASE) {
		row_unref(j->row);
	} else if (j->kind == JOB_INSERT) {
		err = store_call_insert(cw->st, &j->c, &j->row->id);
		if (err)
			log_error("calls: cannot store call %s: %s", j->c.sip_call_id,
				  strerror(err));
	} else if (j->row->id) {
		j->c.id = j->row->id;
		merge_consent(j->row, &j->c, j->last);
		err = store_call_update(cw->st, &j->c);
		if (err)
			log_error("calls: cannot update call %s: %s", j->c.sip_call_id,
				  strerror(err));
	}
	if (j->last)
		row_unref(j->row);
}

static void *writer_main(void *arg)
{
	struct callstore *cw = arg;

	pthread_mutex_lock(&cw->lock);
	for (;;) {
		struct job *j = cw->head;

		if (!j) {
			if (cw->stop)
				break;
			pthread_cond_wait(&cw->cond, &cw->lock);
			continue;
		}
		cw->head = j->next;
		if (!cw->head)
			cw->tail = NULL;
		cw->queued--;
		pthread_mutex_unlock(&cw->lock);
		run(cw, j);
		free(j);
		pthread_mutex_lock(&cw->lock);
	}
	pthread_mutex_unlock(&cw->lock);
	return NULL;
}

int callstore_start(struct callstore **out, struct store *st)
{
	struct callstore *cw = calloc(1, sizeof(*cw));
	int err;

	if (!cw)
		return ENOMEM;
	cw->st = st;
	pthread_mutex_init(&cw->lock, NULL);
	pthread_cond_init(&cw->cond, NULL);
	err = pthread_create(&cw->thread, NULL, writer_main, cw);
	if (err) {
		pthread_mutex_destroy(&cw->lock);
		pthread_cond_destroy(&cw->cond);
		free(cw);
		return err;
	}
	pthread_setname_np(cw->thread, "call-rows");
	*out = cw;
	return 0;
}

void callstore_stop(struct callstore *cw)
{
	if (!cw)
		return;
	pthread_mutex_lock(&cw->lock);
	cw->stop = true;
	pthread_cond_signal(&cw->cond);
	pthread_mutex_unlock(&cw->lock);
	pthread_join(cw->thread, NULL);
	pthread_mutex_destroy(&cw->lock);
	pthread_cond_destroy(&cw->cond);
	free(cw);
}

static void submit(struct callstore *cw, struct job *j)
{
	pthread_mutex_lock(&cw->lock);
	j->next = NULL;
	if (cw->tail)
		cw->tail->next = j;
	else
		cw->head = j;
	cw->tail = j;
	if (++cw->queued == 1000)
		log_warn("calls: 1000 call-row writes are waiting for the database");
	pthread_cond_signal(&cw->cond);
	pthread_mutex_unlock(&cw->lock);
}

struct callrow *callstore_insert(struct callstore *cw, const struct store_call *c)
{
	struct callrow *row = calloc(1, sizeof(*row));
	struct job *j = malloc(sizeof(*j));

	if (!row || !j || !cw || !cw->st) {
		free(row);
		free(j);
		return NULL;
	}
	atomic_init(&row->refs, 1);
	pthread_mutex_init(&row->lock, NULL);
	memset(j, 0, sizeof(*j));
	j->kind = JOB_INSERT;
	j->row = row;
	j->c = *c;
	submit(cw, j);
	return row;
}

void callstore_row_hold(struct callrow *row)
{
	if (row)
		atomic_fetch_add(&row->refs, 1);
}

void callstore_turn(struct callstore *cw, struct callrow *row, const struct store_turn *t)
{
	struct job *j;

	if (!row)
		return;
	j = calloc(1, sizeof(*j));
	if (!j || (t->text && !(j->t.text = strdup(t->text)))) {
		log_error("calls: out of memory, turn %d not stored", t->seq);
		free(j);
		return;
	}
	char *text = j->t.text;
	j->kind = JOB_TURN;
	j->row = row;
	j->t = *t;
	j->t.text = text;
	submit(cw, j);
}

void callstore_row_release(struct callstore *cw, struct callrow *row)
{
	struct job *j;

	if (!row)
		return;
	/* Freed on the writer, after the turns queued before. */
	while (!(j = calloc(1, sizeof(*j))))
		;
	j->kind = JOB_RELEASE;
	j->row = row;
	submit(cw, j);
}

void callstore_update(struct callstore *cw, struct callrow *row, const struct store_call *c,
		      bool last)
{
	struct job *j;

	if (!row)
		return;
	j = malloc(sizeof(*j));
	if (!j) {
		log_error("calls: out of memory, call %s not updated", c->sip_call_id);
		if (last) {
			/* Hand the row to the writer anyway so it is freed there. */
			while (!(j = malloc(sizeof(*j))))
				;
		} else {
			return;
		}
	}
	j->kind = JOB_UPDATE;
	j->last = last;
	j->row = row;
	j->c = *c;
	submit(cw, j);
}
