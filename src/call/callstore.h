/* callstore.h - call rows written to the store by a writer thread, so the SIP/RTP
 * loop never waits for the database. */
#ifndef CALLBOT_CALL_CALLSTORE_H
#define CALLBOT_CALL_CALLSTORE_H

#include "store/store.h"

struct callstore;
struct callrow; /* one call's row, as far as the writer knows it */

int callstore_start(struct callstore **out, struct store *st);
/* Writes everything queued, then stops. */
void callstore_stop(struct callstore *cw);

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
 * row's next update. "refused" also forgets the call: caller, callee and recording are
 * not kept (the recording file is deleted when the call ends). Any thread. */
void callstore_row_consent(struct callrow *row, const char *state);

#endif
