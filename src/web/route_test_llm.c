/* route_test_llm.c - POST /api/test_llm and /api/test_ollama (admin): reachability and a
 * one-line answer from the configured LLM, through the owner's test_llm callback. */
#include "web/http.h"

#include <stdlib.h>
#include <string.h>

enum MHD_Result route_test_llm(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *backend = strstr(req->url, "ollama") ? "ollama" : NULL;
	char *answer = NULL;
	int latency = -1, err;
	json_t *o;

	if (!s->test_llm)
		return http_error(req, 503, "the LLM test is not available in this build");
	err = s->test_llm(s->arg, backend, &answer, &latency);
	if (err) {
		free(answer);
		return http_send_jsonv(req, 502, json_pack("{s:b,s:s}", "ok", 0, "error",
							   "the LLM did not answer"));
	}
	o = json_pack("{s:b,s:s?,s:i}", "ok", 1, "answer", answer, "latency_ms", latency);
	free(answer);
	return http_send_jsonv(req, 200, o);
}
