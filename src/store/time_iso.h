/* time_iso.h - the store's timestamps: ISO-8601 UTC text <-> milliseconds since the epoch. */
#ifndef CALLBOT_STORE_TIME_ISO_H
#define CALLBOT_STORE_TIME_ISO_H

#include <stdint.h>

/* Current time, UTC milliseconds since the epoch. */
int64_t store_time_now(void);

/* Formats ms as 2026-12-04T17:00:00.123Z (fixed width, so the text sorts
 * like the time). Clamped to years 0000..9999. */
void store_time_iso(int64_t ms, char out[32]);

/* Parses YYYY-MM-DD (midnight UTC) or YYYY-MM-DD[T| ]HH:MM[:SS[.fff...]]
 * followed by Z, +HH:MM, -HH:MM, +HHMM, +HH or nothing (taken as UTC, as
 * SQLAlchemy wrote naive datetimes). Returns 0 or EINVAL. */
int store_time_parse(const char *iso, int64_t *ms);

#endif
