/* mclock.h - the media clock: one Linux timerfd on an absolute 20 ms schedule,
 * watched by the libre loop (fd_listen), driving every call's send path. */
#ifndef CALLBOT_MEDIA_MCLOCK_H
#define CALLBOT_MEDIA_MCLOCK_H

#include <stdint.h>

struct mclock;
/* ticks: periods elapsed since the last call (1 normally, more after a stall). */
typedef void (mclock_h)(unsigned ticks, void *arg);

/* Loop thread only. */
int mclock_start(struct mclock **out, unsigned period_ms, mclock_h *h, void *arg);
void mclock_stop(struct mclock *clk);

#endif
