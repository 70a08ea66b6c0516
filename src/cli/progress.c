/* progress.c - the terminal status line of long commands (see progress.h). */
#include "cli/progress.h"
#include "core/util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDRAW_MS 100
#define TICK_MS 250

struct progress {
	char cmd[32], what[48];
	int64_t t0, last_draw;
	bool drawn;
	/* busy mode */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ticking, stop;
};

/* "\r" + clear to end of line keeps it a single line however often it changes. */
static void draw(struct progress *p, const char *text)
{
	fprintf(stderr, "\r\033[K%s: %s", p->cmd, text);
	fflush(stderr);
	p->drawn = true;
	p->last_draw = time_mono_ms();
}

struct progress *progress_start(const char *cmd, const char *what)
{
	struct progress *p;

	if (!isatty(STDERR_FILENO))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	str_copy(p->cmd, sizeof(p->cmd), cmd);
	str_copy(p->what, sizeof(p->what), what);
	p->t0 = time_mono_ms();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

void progress_set(struct progress *p, int64_t done, int64_t total)
{
	char text[128];

	if (!p)
		return;
	if (p->drawn && time_mono_ms() - p->last_draw < REDRAW_MS && (total <= 0 || done < total))
		return;
	if (total > 0)
		snprintf(text, sizeof(text), "%" PRId64 "/%" PRId64 " %s (%d %%)", done, total,
			 p->what, (int)(done * 100 / total));
	else
		snprintf(text, sizeof(text), "%" PRId64 " %s", done, p->what);
	draw(p, text);
}

static void draw_elapsed(struct progress *p)
{
	char text[96];

	snprintf(text, sizeof(text), "%s... %" PRId64 " s", p->what,
		 (time_mono_ms() - p->t0) / 1000);
	draw(p, text);
}

static void *tick_main(void *arg)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec until = time_deadline_ms(TICK_MS);

		if (pthread_cond_timedwait(&p->cond, &p->lock, &until) != 0 && !p->stop)
			draw_elapsed(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void progress_busy(struct progress *p)
{
	if (!p || p->ticking)
		return;
	draw_elapsed(p); /* at once: the work may be over before the first tick */
	p->ticking = pthread_create(&p->thread, NULL, tick_main, p) == 0;
}

void progress_clear(struct progress *p)
{
	if (!p || !p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}

void progress_end(struct progress *p)
{
	if (!p)
		return;
	if (p->ticking) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
