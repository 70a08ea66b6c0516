/* events.h - Server-Sent Events hub for /api/events (private to src/web). */
#ifndef CALLBOT_WEB_EVENTS_H
#define CALLBOT_WEB_EVENTS_H

#include <microhttpd.h>

struct web;
struct events;

/* Starts the watcher thread that publishes "active_calls" snapshots on change. */
int events_new(struct events **out, struct web *w);
/* Ends every stream (resumes suspended connections) and stops the watcher;
 * call before MHD_stop_daemon(). */
void events_stop(struct events *ev);
/* After MHD_stop_daemon(). */
void events_free(struct events *ev);
void events_publish(struct events *ev, const char *type, const char *json);
/* A streaming response for conn, starting with first (an already formatted
 * event, may be NULL). NULL when too many subscribers or out of memory. */
struct MHD_Response *events_subscribe(struct events *ev, struct MHD_Connection *conn,
				      const char *first);
/* Formats one event; malloc'd. */
char *events_format(const char *type, const char *json);

#endif
