/* retention.c - the retention thread of serve: data_purge a minute after start, then hourly. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/alert.h"
#include "core/log.h"
#include "store/data.h"
#include "store/time_iso.h"

#define FIRST_RUN_S 60
#define INTERVAL_S 3600

struct retention {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* signalled by retention_stop */
	bool stop;
	struct store *st;
	int days;
	char *audio_dir, *base_dir;
};

static void run_once(struct retention *r)
{
	struct data_ctx dc = { .st = r->st, .base_dir = r->base_dir,
			       .audio_dir = r->audio_dir, .ip = "retention" };
	struct data_purge_counts n;
	int err = data_purge(&dc, r->days, store_time_now(), &n);

	if (err) {
		log_error("retention: purge failed: %s (retried in an hour)", strerror(err));
		alert_emit_msg("retention_failed", strerror(err));
	}
	else if (n.calls || n.files)
		log_info("retention: purged %" PRId64 " calls, %" PRId64 " turns, %" PRId64
			 " recordings, %" PRId64 " stray files older than %d days",
			 n.calls, n.turns, n.recordings, n.files, r->days);
}

static void *retention_main(void *arg)
{
	struct retention *r = arg;
	int wait_s = FIRST_RUN_S;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_s;
		while (!r->stop &&
		       pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		run_once(r);	/* disk and database work, off the media loop */
		pthread_mutex_lock(&r->lock);
		wait_s = INTERVAL_S;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void retention_free(struct retention *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->audio_dir);
	free(r->base_dir);
	free(r);
}

int retention_start(struct retention **out, const struct conf *c, struct store *st)
{
	struct retention *r;
	pthread_condattr_t ca;
	int err;

	if (!out || !c || !st)
		return EINVAL;
	*out = NULL;
	if (c->retention_days <= 0) {
		log_info("retention: RETENTION_DAYS=0, data is kept until erased");
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->st = st;
	r->days = c->retention_days;
	r->audio_dir = c->audio_dir && c->audio_dir[0] ? strdup(c->audio_dir) : NULL;
	r->base_dir = c->base_dir ? strdup(c->base_dir) : NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&r->thread, NULL, retention_main, r);
	if (err) {
		retention_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void retention_stop(struct retention *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	retention_free(r);
}
