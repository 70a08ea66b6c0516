/* user_util.c - user name rule and audit helper for the user routes. */
#include "web/user_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool user_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._@-", *name))
			return false;
	return true;
}

void user_audit(struct http_req *req, const char *action, json_t *details)
{
	char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;

	web_audit(req, action, text);
	free(text);
	json_decref(details);
}
