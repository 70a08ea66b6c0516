/* selftest.c - `callbot selftest speech`, recogniser half: load the engine, run one request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"
#include "stt/stt.h"

int stt_selftest(const struct conf *c, char *msg, size_t size)
{
	struct stt_engine *e = NULL;
	struct stt_stream *s = NULL;
	char err[256];
	int16_t quiet[160];
	int64_t t0 = time_mono_ms(), load_ms;
	unsigned end_ms = 0;
	char *text = NULL;
	int rc;

	rc = stt_engine_alloc(&e, c, err, sizeof(err));
	if (rc) {
		snprintf(msg, size, "%s", err);
		return rc;
	}
	load_ms = time_mono_ms() - t0;
	/* a faint 1 kHz-ish buzz, not digital silence: some servers reject all-zero audio */
	for (size_t i = 0; i < 160; i++)
		quiet[i] = (int16_t)((i & 4) ? 30 : -30);
	rc = stt_stream_begin(e, NULL, &s);
	for (int f = 0; !rc && f < 50; f++)
		rc = stt_stream_feed(s, quiet, 160);
	if (s) {
		if (rc)
			stt_stream_abort(s);
		else
			rc = stt_stream_end(s, &text, &end_ms);
	}
	if (rc)
		snprintf(msg, size, "stt %s: a test utterance failed: %s", stt_engine_name(e),
			 strerror(rc));
	else
		snprintf(msg, size, "stt %s: ready in %lld ms, answered a test utterance in %u ms",
			 stt_engine_name(e), (long long)load_ms, end_ms);
	free(text);
	stt_engine_free(e);
	return rc;
}
