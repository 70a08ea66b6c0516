/* user_util.h - checks shared by the user routes (private to src/web). */
#ifndef CALLBOT_WEB_USER_UTIL_H
#define CALLBOT_WEB_USER_UTIL_H

#include <stdbool.h>

#include "web/http.h"

#define USER_PASSWORD_MIN 12

/* 1-63 of [A-Za-z0-9._@-]. */
bool user_name_valid(const char *name);
/* Audits action with details built from a JSON object (released). */
void user_audit(struct http_req *req, const char *action, json_t *details);

#endif
