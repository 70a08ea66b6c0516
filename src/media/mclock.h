/* mclock.h - the media clock: one Linux timerfd on an absolute schedule, watched by the
 * libre loop (fd_listen), driving every call's send and receive path. */
#ifndef CALLBOT_MEDIA_MCLOCK_H
#define CALLBOT_MEDIA_MCLOCK_H

#include <stdint.h>

struct mclock;
/* ticks: periods elapsed since the last call (1 normally, more after a stall). */
typedef void (mclock_h)(unsigned ticks, void *arg);

/* Loop thread only. */
int mclock_start(struct mclock **out, unsigned period_ms, mclock_h *h, void *arg);
void mclock_stop(struct mclock *clk);
/* Restarts the schedule with a new period from now; 0 pauses the clock (no wake-ups while
 * there is no call). Callable from the clock's own handler. */
int mclock_set(struct mclock *clk, unsigned period_ms);

#endif
