/* route_settings_set.c - POST /api/settings (admin) {"KEY":"value",...}: validates every key
 * first, then stores each change and audits it with its old and new value (change log). */
#include "web/http.h"
#include "web/settings.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value the daemon uses now: the dashboard override, else the .env value. */
static char *effective(struct http_req *req, const struct conf_key *k)
{
	char *v = NULL, buf[SETTING_VALUE_MAX + 1];

	if (store_setting_get(web_store(req->web), k->name, &v) == 0 && v)
		return v;
	conf_value(web_conf(req->web)->conf, k, buf, sizeof(buf));
	return strdup(buf);
}

/* Checks every pair before anything is written: a batch applies whole or not at all. */
static const char *validate(json_t *body, const char **bad_key)
{
	const char *key, *why = NULL;
	json_t *val;
	char norm[SETTING_VALUE_MAX + 1];

	if (json_object_size(body) == 0 || json_object_size(body) > 64)
		return "send 1 to 64 settings";
	json_object_foreach(body, key, val) {
		const struct conf_key *k = conf_key_find(key);
		*bad_key = key;
		if (!k || !setting_editable(key))
			return "this setting cannot be changed from the dashboard";
		if (!json_is_string(val))
			return "values must be strings";
		if (setting_normalize(k, json_string_value(val), norm, sizeof(norm), &why))
			return why ? why : "invalid value";
	}
	return NULL;
}

static int apply_one(struct http_req *req, const struct conf_key *k, const char *value)
{
	char norm[SETTING_VALUE_MAX + 1], *old, *details;
	const char *why;
	json_t *d;
	int err;

	if (setting_normalize(k, value, norm, sizeof(norm), &why))
		return EINVAL;
	old = effective(req, k);
	if (old && strcmp(old, norm) == 0) {
		free(old);
		return 0;
	}
	err = store_setting_set(web_store(req->web), k->name, norm, req->user.name);
	if (!err) {
		d = json_pack("{s:s,s:s?,s:s}", "key", k->name, "old", old, "new", norm);
		details = d ? json_dumps(d, JSON_COMPACT) : NULL;
		web_audit(req, "settings_change", details);
		log_info("web: %s changed %s from the dashboard", req->user.name, k->name);
		free(details);
		json_decref(d);
	}
	free(old);
	return err;
}

enum MHD_Result route_settings_set(struct http_req *req)
{
	const char *key, *msg, *bad = NULL;
	enum MHD_Result rc;
	json_t *body, *val, *changed;
	json_t *err_obj;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	msg = validate(body, &bad);
	if (msg) {
		err_obj = json_pack("{s:s,s:s?}", "error", msg, "key", bad);
		json_decref(body);
		return http_send_jsonv(req, 400, err_obj);
	}
	changed = json_array();
	json_object_foreach(body, key, val) {
		if (apply_one(req, conf_key_find(key), json_string_value(val))) {
			json_decref(body);
			json_decref(changed);
			return http_error(req, 500, "the database is not available");
		}
		json_array_append_new(changed, json_string(key));
	}
	json_decref(body);
	return http_send_jsonv(req, 200, json_pack("{s:b,s:o}", "ok", 1, "keys", changed));
}
