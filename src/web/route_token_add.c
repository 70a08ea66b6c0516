/* route_token_add.c - POST /api/tokens {"name"}: a new API token for yourself, shown once;
 * only its SHA-256 is stored. Tokens cannot mint tokens (a session is required). */
#include "web/user_util.h"
#include "crypto/token.h"

#include <stdio.h>
#include <string.h>

enum MHD_Result route_token_add(struct http_req *req)
{
	char raw[TOKEN_URLSAFE_LEN(32) + 1], tok[TOKEN_URLSAFE_LEN(32) + 8];
	char hash[TOKEN_SHA256_HEX_LEN + 1];
	const char *name = NULL;
	enum MHD_Result rc;
	json_t *body;
	int64_t id = 0;

	if (req->user.via_token)
		return http_error(req, 403, "API tokens are created from a dashboard session");
	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	name = json_string_value(json_object_get(body, "name"));
	if (!name || !*name || strlen(name) > 63) {
		json_decref(body);
		return http_error(req, 400, "name: 1 to 63 characters");
	}
	if (token_random_urlsafe(32, raw, sizeof(raw))) {
		json_decref(body);
		return http_error(req, 500, "internal error");
	}
	snprintf(tok, sizeof(tok), "cbt_%s", raw);
	token_sha256_hex(tok, hash);
	if (store_token_add(web_store(req->web), req->user.id, hash, name, &id)) {
		json_decref(body);
		return http_error(req, 500, "the token could not be stored");
	}
	user_audit(req, "token_add", json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "user",
					       req->user.name, "name", name));
	rc = http_send_jsonv(req, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name,
						 "token", tok));
	memset(tok, 0, sizeof(tok));
	memset(raw, 0, sizeof(raw));
	json_decref(body);
	return rc;
}
