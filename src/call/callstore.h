/* callstore.h - call rows written to the store by a writer thread, so the SIP/RTP
 * loop never waits for the database. While the database is unavailable, writes wait in
 * a bounded memory queue, then in an append-only spool file, and are written in order
 * when it is back (docs/reliability.md, "Database outage"). */
#ifndef CALLBOT_CALL_CALLSTORE_H
#define CALLBOT_CALL_CALLSTORE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Writes held in memory before further ones go to the spool (a write is one call-row
 * insert/update or one turn: at most about 1.3 KB each plus the turn's text). */
#define CALLSTORE_QUEUE_MAX 2000
/* The spool's file name, in the spool folder. */
#define CALLSTORE_SPOOL_NAME "callstore.spool"

struct callstore;
struct callrow; /* one call's row, as far as the writer knows it */

/* spool_dir: where writes go once memory is full, and where a spool left by an earlier
 * run is replayed from (before anything new). NULL: the SQLite database's folder; none
 * for PostgreSQL (then writes beyond the memory bound are dropped, logged and counted). */
int callstore_start_in(struct callstore **out, struct store *st, const char *spool_dir);
/* callstore_start_in(out, st, NULL). */
int callstore_start(struct callstore **out, struct store *st);
/* Writes everything queued, then stops. If the database is unavailable, the writes
 * still waiting go to the spool (in order, ahead of those already there) instead. */
void callstore_stop(struct callstore *cw);
/* The memory bound (CALLSTORE_QUEUE_MAX by default; at least 1). Before any write. */
void callstore_set_queue_max(struct callstore *cw, size_t max);

/* Loop side; each copies c. insert returns the handle later updates use;
 * the final update (last = true) releases it. NULL on ENOMEM. */
struct callrow *callstore_insert(struct callstore *cw, const struct store_call *c);
void callstore_update(struct callstore *cw, struct callrow *row, const struct store_call *c,
		      bool last);

/* Pipeline side (any thread): turns of a call, written in order after its row.
 * hold takes a reference (while the loop still holds one); release drops it on
 * the writer thread after the turns queued before it. */
void callstore_row_hold(struct callrow *row);
void callstore_turn(struct callstore *cw, struct callrow *row, const struct store_turn *t);
void callstore_row_release(struct callstore *cw, struct callrow *row);
/* The caller's consent ("announced", "pending", "given", "refused"), written with the
 * row's next update, or by itself when the pipeline releases the row after the call's
 * final update. "refused" also forgets the call: caller, callee and recording are
 * not kept (the recording file is deleted when the call ends). Any thread. */
void callstore_row_consent(struct callrow *row, const char *state);

/* Process-wide figures for /metrics (all writers together). */
struct callstore_metrics {
	uint64_t queue_depth;    /* writes waiting: in memory plus in the spool */
	uint64_t spool_depth;    /* of those, in the spool */
	uint64_t write_failures; /* attempts the database refused or did not answer */
	uint64_t spooled;        /* writes that went to the spool */
	uint64_t dropped;        /* writes given up (refused as invalid, or no room) */
	bool outage;             /* writes are waiting for the database now */
};
void callstore_metrics(struct callstore_metrics *out);

#endif
