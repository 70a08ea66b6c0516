/* route_settings_get.c - GET /api/settings (admin): every configuration key with its effective
 * value and where it comes from; secrets are masked, never sent. */
#include "web/http.h"
#include "web/settings.h"

#include <stdlib.h>
#include <string.h>

static const char *type_name(enum conf_type t)
{
	switch (t) {
	case CONF_INT: return "int";
	case CONF_BOOL: return "bool";
	case CONF_ENUM: return "enum";
	case CONF_SECRET: return "secret";
	default: return "string";
	}
}

static json_t *key_json(struct http_req *req, const struct conf_key *k)
{
	const struct conf *c = web_conf(req->web)->conf;
	char *override = NULL, shown[SETTING_VALUE_MAX + 1];
	bool editable = setting_editable(k->name);
	json_t *o, *choices = json_null();

	conf_display(c, k, shown, sizeof(shown));
	if (editable)
		store_setting_get(web_store(req->web), k->name, &override);
	if (k->type == CONF_ENUM) {
		choices = json_array();
		for (size_t i = 0; k->choices[i]; i++)
			json_array_append_new(choices, json_string(k->choices[i]));
	}
	o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:s,s:s?,s:o}", "key", k->name, "value",
		      override ? override : shown, "env_value", shown, "editable", editable, "secret",
		      k->type == CONF_SECRET, "type", type_name(k->type), "help", k->help, "choices",
		      choices);
	if (o) {
		json_object_set_new(o, "source", json_string(override ? "dashboard" : "env"));
		if (k->type == CONF_INT) {
			json_object_set_new(o, "min", json_integer(k->min));
			json_object_set_new(o, "max", json_integer(k->max));
		}
	}
	free(override);
	return o;
}

enum MHD_Result route_settings_get(struct http_req *req)
{
	size_t n;
	const struct conf_key *keys = conf_keys(&n);
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = key_json(req, &keys[i]);
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return http_error(req, 500, "internal error");
		}
	}
	return http_send_jsonv(req, 200, json_pack("{s:o}", "settings", arr));
}
