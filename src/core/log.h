/* log.h - the application log (LOG_DIR/callbot.log) and SECURITY event lines. */
#ifndef CALLBOT_CORE_LOG_H
#define CALLBOT_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

/* Opens DIR/callbot.log for appending (0640, DIR created 0750 if missing).
 * Until then, and always when to_stderr is set, lines also go to stderr.
 * Returns 0 or an errno value. */
int log_open(const char *dir);
void log_close(void);
void log_set_level(enum log_level level);
void log_set_stderr(bool on);
bool log_enabled(enum log_level level);
/* Parses "debug", "info", "warn"/"warning", "error" (any case). */
int log_level_parse(const char *s, enum log_level *out);

void log_write(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* One fixed-format line fail2ban and SIEMs can match:
 *   SECURITY: <event> - <details> - <ISO-8601 UTC timestamp>
 * event is a short snake_case name (login_failed, rate_limit, ...). */
void log_security(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Arguments are evaluated only when the level is enabled. */
#define log_debug(...) do { if (log_enabled(LOGL_DEBUG)) log_write(LOGL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_enabled(LOGL_INFO))  log_write(LOGL_INFO,  __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_enabled(LOGL_WARN))  log_write(LOGL_WARN,  __VA_ARGS__); } while (0)
#define log_error(...) log_write(LOGL_ERROR, __VA_ARGS__)

/* Formats the current UTC time as 2026-12-04T17:00:00.123Z into buf (>= 32 bytes). */
void log_timestamp(char *buf, unsigned long size);

#endif
