/* webhook.h - one HTTP call of a webhook tool, with the SSRF guards (private to src/tools;
 * public for the unit tests). */
#ifndef CALLBOT_TOOLS_WEBHOOK_H
#define CALLBOT_TOOLS_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

struct webhook_req {
	const char *url;
	bool get;                    /* GET with the arguments as query, else POST as JSON body */
	const char *args;            /* JSON object */
	const char *const *allowed;  /* allowed host names / IP literals ("*.example.com" too) */
	size_t nallowed;
	const char *const *headers;  /* "Name: value" lines, may be NULL */
	size_t nheaders;
	int timeout_ms;              /* the whole call */
	size_t max_bytes;            /* answer size cap */
	volatile bool *cancel;       /* polled about every 100 ms (may be NULL) */
};

/* The address the call will use, after the allowlist and address checks. */
struct webhook_target {
	char host[256];   /* lower-case, no brackets */
	int port;
	char addr[64];    /* numeric address to connect to (pinned with CURLOPT_RESOLVE) */
};

/* Checks url against the allowlist and resolves it: 0, or EACCES with the reason in why
 * (not http/https, host not listed, a non-canonical or unlisted IP literal, a name that
 * resolves only to addresses never allowed: link-local, multicast, unspecified),
 * EHOSTUNREACH when the name does not resolve. */
int webhook_check(const char *url, const char *const *allowed, size_t nallowed,
		  struct webhook_target *t, char *why, size_t whysize);
/* url with the arguments appended as a query (k=v&…, values URL-encoded; non-strings as
 * their JSON text); malloc'd, NULL if args is not a JSON object. */
char *webhook_query_url(const char *url, const char *args);
/* Runs the call: *body (malloc'd) is the answer on 0. Errors as tools_call(). */
int webhook_run(const struct webhook_req *req, char **body, long *status, char *why,
		size_t whysize);
/* The allowlist entry is a valid host name, wildcard or IP literal. */
bool webhook_host_valid(const char *entry);

#endif
