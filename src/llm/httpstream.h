/* httpstream.h - POST a JSON body and read a streamed answer line by line (libcurl). */
#ifndef CALLBOT_LLM_HTTPSTREAM_H
#define CALLBOT_LLM_HTTPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

/* Called once per received line (without the newline). Return 0 to go on, ECANCELED to
 * stop (barge-in), EPROTO (with a reason in the stream's why) for a broken answer. */
typedef int(httpstream_line_h)(const char *line, size_t len, void *arg);

struct httpstream_req {
	const char *url;
	const char *body;     /* JSON */
	const char *bearer;   /* API key or NULL */
	int timeout_ms;       /* to connect, to the first byte, and between two bytes */
	volatile bool *cancel; /* polled about every 100 ms: true ends with ECANCELED */
};

/* Returns 0 when the server closed the answer normally, else ETIMEDOUT, ECONNREFUSED,
 * EHOSTUNREACH, EPROTO (HTTP status != 200, line too long, handler refused), ECANCELED.
 * why receives a short explanation (no secrets). */
int httpstream_post(const struct httpstream_req *req, httpstream_line_h *h, void *arg, char *why,
		    size_t whysize);

/* curl_global_init, once per process (thread-safe). */
void httpstream_global_init(void);

#endif
