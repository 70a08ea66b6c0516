/* fuzz_web.c - the dashboard's own parsers of client input that run without a
 * connection: form bodies (http_form_get), path ids (http_parse_id), session
 * cookies (session_lookup: MAC check, then the table) and HTML escaping. Query
 * strings and cookie headers are split by libmicrohttpd before callbot sees them;
 * the values then go through these functions and store_time_parse (fuzz_time). */
#include <errno.h>

#include "fuzz.h"
#include "web/http.h"
#include "web/session.h"

static struct sessions *sessions;
static char good_cookie[SESSION_COOKIE_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (sessions_new(&sessions, "fuzzing-secret-key-of-at-least-32-bytes!!") != 0 ||
	    session_create(sessions, 7, 1733331600000LL, good_cookie) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "username", "password", "csrf", "role", "" };
	char *s, out[256], sid[64], csrf[64], esc[1024];
	int64_t id, uid = 0;

	if (size > HTTP_BODY_MAX)
		return 0;
	s = fuzz_cstr(data, size);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memset(out, 0x5a, sizeof(out));
		if (http_form_get(s, fields[i], out, sizeof(out)) &&
		    !memchr(out, '\0', sizeof(out)))
			abort();	/* a found value is always terminated */
		if (http_form_get(s, fields[i], out, 4) && !memchr(out, '\0', 4))
			abort();
	}
	if (http_parse_id(s, &id) && id <= 0)
		abort();	/* ids are positive */

	/* a cookie: only our own MAC opens a session */
	if (session_lookup(sessions, s, 1733331601000LL, &uid, sid, csrf) == 0 &&
	    strcmp(s, good_cookie) != 0)
		abort();

	memset(esc, 0x5a, sizeof(esc));
	if (html_escape(esc, sizeof(esc), s) == 0 && (strchr(esc, '<') || strchr(esc, '"')))
		abort();	/* nothing that could open a tag or end an attribute */
	if (!memchr(esc, '\0', sizeof(esc)))
		abort();
	(void)html_escape(esc, 8, s);
	free(s);
	return 0;
}
