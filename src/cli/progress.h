/* progress.h - one updating status line on stderr for long commands (backup, restore,
 * export, rekey, purge, import-callbot), only when stderr is a terminal: scripts, cron and
 * systemd timers see nothing but the command's one-line summary on stdout. */
#ifndef CALLBOT_CLI_PROGRESS_H
#define CALLBOT_CLI_PROGRESS_H

#include <stdint.h>

struct progress;

/* Starts a line "CMD: ..." (NULL when stderr is not a terminal or on ENOMEM; every
 * function below accepts NULL and does nothing). what names the work ("turns",
 * "recording files"). */
struct progress *progress_start(const char *cmd, const char *what);
/* done of total (total <= 0: unknown). Redraws at most every 100 ms, and always
 * the first time and when done reaches total. */
void progress_set(struct progress *p, int64_t done, int64_t total);
/* For work that reports no counts (one call into the store): a ticking
 * "CMD: WHAT... N s" line from a helper thread until progress_end(). */
void progress_busy(struct progress *p);
/* Clears the line before another message on stderr; the next progress_set draws again. */
void progress_clear(struct progress *p);
/* Clears the line (the summary that follows stands alone) and frees p. */
void progress_end(struct progress *p);

#endif
