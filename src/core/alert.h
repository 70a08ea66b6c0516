/* alert.h - operator alerts: JSON events POSTed to ALERT_WEBHOOK by one sender thread. */
#ifndef CALLBOT_CORE_ALERT_H
#define CALLBOT_CORE_ALERT_H

#include <stdbool.h>
#include <stdint.h>

struct conf;

/*
 * One process-wide alerter (docs/alerts.md). alert_emit() never blocks the
 * caller: it copies the event into a bounded queue and returns; a sender
 * thread POSTs
 *
 *   {"event":"sip_registration_lost","details":{...},"node":"pbx-a",
 *    "timestamp":"2026-12-04T17:00:00.123Z","suppressed":3}
 *
 * with libcurl (Content-Type: application/json, bounded timeouts, no
 * redirects). Each event type is sent at most once per rate interval (60 s);
 * the ones held back in between are counted in the next one's "suppressed".
 * A full queue drops the event with a log line. Every event is also logged
 * (WARN), so a node without ALERT_WEBHOOK still shows it in callbot.log.
 *
 * The sender thread also watches the free space of the folders given to
 * alert_watch_disk() (disk_low when below the threshold, disk_ok when it
 * recovered).
 */

/* Tunables; 0 takes the default in brackets. */
struct alert_opts {
	unsigned rate_ms;       /* per event type [60000] */
	unsigned queue_max;     /* events waiting [64] */
	unsigned timeout_ms;    /* one POST, connection included [5000] */
	unsigned disk_check_ms; /* free-space check period [60000] */
	unsigned disk_min_pct;  /* disk_low below this % free [5] */
	unsigned stop_ms;       /* alert_stop() flushes the queue for at most [3000] */
};

/* Starts the sender with c->alert_webhook (c->node_id names the node). With
 * no ALERT_WEBHOOK, events are only logged. Returns 0, EALREADY, ENOMEM, or
 * the errno of the thread creation. Call once, from the main thread (it
 * initialises libcurl). */
int alert_start(const struct conf *c);
int alert_start_opts(const struct conf *c, const struct alert_opts *o);
/* Adds a folder whose file system is watched (at most 8; e.g. AUDIO_DIR,
 * LOG_DIR, the database's folder). Same file system twice is checked once. */
int alert_watch_disk(const char *path);
/* Queues one event; any thread, never blocks, never fails visibly.
 * event: [a-z0-9_.] up to 47 characters (others are dropped with a log line).
 * details_json: a JSON value (object preferred) or NULL; text that is not
 * JSON is sent as a JSON string. */
void alert_emit(const char *event, const char *details_json);
/* Same with details {"message": message} (escaped properly). */
void alert_emit_msg(const char *event, const char *message);
/* Counts occurrences of event (e.g. each failed login) and emits it once
 * when threshold of them happen within window_ms, with "count" and
 * "window_s" added to the details (details_json: an object, or anything,
 * kept under "details"). Any thread, never blocks. */
void alert_count(const char *event, unsigned threshold, unsigned window_ms,
		 const char *details_json);
/* A service's health: emits down_event when ok turns false, up_event when it
 * turns true again (nothing while it stays the same; the first state is "ok").
 * Transitions are not rate limited, so the last event sent always tells the
 * current state. Any thread, never blocks. */
void alert_state(const char *down_event, const char *up_event, bool ok,
		 const char *details_json);
/* For short-lived commands (backup, purge from a timer) that do not run the
 * sender: logs and POSTs one event synchronously (at most 5 s). Returns 0
 * (also when ALERT_WEBHOOK is empty) or an errno value. */
int alert_send_once(const struct conf *c, const char *event, const char *details_json);
/* alert_send_once with details {"error": strerror(err)}: a command that failed. */
void alert_fail(const struct conf *c, const char *event, int err);
/* Flushes what is queued (bounded by stop_ms), stops the thread. Safe when
 * never started; alert_start() may be called again afterwards. */
void alert_stop(void);

/* Also hands each event that passes the rate limit, as the webhook's JSON
 * document, to h (the dashboard's /api/events stream); NULL removes it, after
 * which h is no longer running. h runs on the emitting thread and must not
 * block or emit alerts. One listener; works without alert_start (node empty). */
typedef void (alert_listener_h)(const char *json, void *arg);
void alert_set_listener(alert_listener_h *h, void *arg);

struct alert_stats {
	uint64_t queued, sent, failed, dropped_full, suppressed, invalid;
};
void alert_get_stats(struct alert_stats *out);

#endif
