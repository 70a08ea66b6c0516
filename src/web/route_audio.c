/* route_audio.c - GET /api/audio/<call_id>: the call's recording as audio/wav, with single
 * byte-range requests (seeking in the browser's player). Audited once per download. */
#include "web/http.h"
#include "web/recording.h"
#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stream {
	struct web_recording *rec;
	uint64_t start;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	ssize_t n = web_recording_read(s->rec, s->start + pos, buf, max);

	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	web_recording_close(s->rec);
	free(s);
}

/* "bytes=a-b", "bytes=a-" or "bytes=-n"; false when unsatisfiable or malformed. */
static bool parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
	unsigned long long a = 0, b = 0;
	int n = 0;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') || size == 0)
		return false;
	h += 6;
	if (*h == '-') {
		if (sscanf(h, "-%llu%n", &b, &n) != 1 || h[n] || b == 0)
			return false;
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return true;
	}
	if (sscanf(h, "%llu-%n", &a, &n) != 1)
		return false;
	if (h[n] && (sscanf(h + n, "%llu", &b) != 1 || b < a))
		return false;
	if (a >= size)
		return false;
	*start = a;
	*end = h[n] && b < size ? b : size - 1;
	return true;
}

static enum MHD_Result send_stream(struct http_req *req, struct web_recording *rec, int64_t id)
{
	const char *range = http_header(req, "Range");
	uint64_t size = web_recording_size(rec), start = 0, end = size ? size - 1 : 0;
	struct stream *s;
	struct MHD_Response *r;
	char hdr[96];
	unsigned status = 200;

	if (range) {
		if (!parse_range(range, size, &start, &end)) {
			web_recording_close(rec);
			snprintf(hdr, sizeof(hdr), "bytes */%" PRIu64, size);
			http_add_header(req, "Content-Range", hdr);
			return http_error(req, 416, "range not satisfiable");
		}
		status = 206;
		snprintf(hdr, sizeof(hdr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start, end, size);
		http_add_header(req, "Content-Range", hdr);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		web_recording_close(rec);
		return http_error(req, 500, "internal error");
	}
	s->rec = rec;
	s->start = start;
	r = MHD_create_response_from_callback(size ? end - start + 1 : 0, 64 * 1024, stream_read, s,
					      stream_free);
	if (!r) {
		stream_free(s);
		return http_error(req, 500, "internal error");
	}
	MHD_add_response_header(r, "Content-Type", "audio/wav");
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	snprintf(hdr, sizeof(hdr), "inline; filename=\"call-%" PRId64 ".wav\"", id);
	MHD_add_response_header(r, "Content-Disposition", hdr);
	req->bytes = size ? (size_t)(end - start + 1) : 0;
	return http_queue(req, status, r);
}

enum MHD_Result route_audio(struct http_req *req)
{
	struct web_recording *rec = NULL;
	struct store_call c;
	const char *range;
	char details[64];
	int64_t id;
	int err;

	if (!http_parse_id(http_path_tail(req, "/api/audio/"), &id))
		return http_error(req, 404, "not found");
	err = store_call_get(web_store(req->web), id, &c);
	if (err == ENOENT || (!err && !c.recording_path[0]))
		return http_error(req, 404, "no recording for this call");
	if (err)
		return http_error(req, 500, "the database is not available");
	err = web_recording_open(web_conf(req->web)->audio_dir, web_conf(req->web)->base_dir,
			     c.recording_path, store_keyring(web_store(req->web)), &rec);
	if (err == EACCES) {
		log_security("path_refused", "recording of call %lld is outside AUDIO_DIR (%s)",
			     (long long)id, req->client);
		return http_error(req, 403, "recording is outside AUDIO_DIR");
	}
	if (err == EBADMSG || err == ENODATA)
		return http_error(req, 500, "the recording cannot be decrypted");
	if (err)
		return http_error(req, 404, "recording file not found");
	/* Players fetch a file in several ranges: one audit row per download, not per range. */
	range = http_header(req, "Range");
	if (!range || strncmp(range, "bytes=0-", 8) == 0) {
		snprintf(details, sizeof(details), "{\"call_id\":%lld}", (long long)id);
		web_audit(req, "recording_download", details);
	}
	return send_stream(req, rec, id);
}
