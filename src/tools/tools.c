/* tools.c - TOOLS_FILE: strict loading, the definitions sent to the LLM, and running a
 * webhook tool with its checks, log line and audit row. */
#include "tools/tools.h"
#include "tools/webhook.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOOLS_FILE_MAX (256 * 1024)
#define TOOLS_MAX 64
#define HOSTS_MAX 64
#define HEADERS_MAX 16
#define TIMEOUT_DEFAULT_MS 5000
#define TIMEOUT_MAX_MS 30000
#define ANSWER_DEFAULT_BYTES (16 * 1024)
#define ANSWER_MAX_BYTES (1024 * 1024)

struct tool {
	char name[64];
	char *url;
	bool get;
	int timeout_ms;
	size_t max_bytes;
	char **hosts;    /* the tool's own allowlist, or NULL for the file's */
	size_t nhosts;
	char **headers;  /* "Name: value" */
	size_t nheaders;
	json_t *params;  /* JSON schema, for checking the model's arguments */
};

struct tools {
	struct tool *v;
	size_t n;
	char **hosts;           /* file-level allowed_hosts */
	size_t nhosts;
	char **xfer;            /* transfer_targets the model may name */
	size_t nxfer;
	char *json;             /* definitions for the LLM */
	struct store *st;
};

/* The built-ins: the dialogue carries them out (pipeline/dialogue.c). */
#define BUILTIN_JSON \
	"{\"type\":\"function\",\"function\":{\"name\":\"transfer\",\"description\":\"Hand the " \
	"caller over to a person. Use it when the caller asks for a human, an operator or an agent. " \
	"Say one short sentence before.\",\"parameters\":{\"type\":\"object\",\"properties\":" \
	"{\"target\":{\"type\":\"string\",\"description\":\"Leave out for the default; only " \
	"targets the operator allowed work.\"}}}}}," \
	"{\"type\":\"function\",\"function\":{\"name\":\"hangup\",\"description\":\"End the call " \
	"after your reply, when the caller is done. Say goodbye in the reply.\",\"parameters\":" \
	"{\"type\":\"object\",\"properties\":{}}}}," \
	"{\"type\":\"function\",\"function\":{\"name\":\"send_dtmf\",\"description\":\"Send " \
	"touch-tone digits to the far end (0-9, *, #, A-D), e.g. to navigate a phone menu.\"," \
	"\"parameters\":{\"type\":\"object\",\"properties\":{\"digits\":{\"type\":\"string\"}}," \
	"\"required\":[\"digits\"]}}}"

bool tools_builtin(const char *name)
{
	return !strcmp(name, "transfer") || !strcmp(name, "hangup") || !strcmp(name, "send_dtmf");
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void tools_free(struct tools *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct tool *tl = &t->v[i];
		free(tl->url);
		strv_free(tl->hosts, tl->nhosts);
		strv_free(tl->headers, tl->nheaders);
		json_decref(tl->params);
	}
	free(t->v);
	strv_free(t->hosts, t->nhosts);
	strv_free(t->xfer, t->nxfer);
	free(t->json);
	free(t);
}

/* One error message for the whole file: where, which tool, which field, what is wrong. */
struct ld {
	const char *where;
	const char *tool;  /* NULL at file level */
	char *err;
	size_t errsize;
};

static int bad(const struct ld *l, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const struct ld *l, const char *field, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (l->tool)
		snprintf(l->err, l->errsize, "%s: tool \"%.64s\": %s: %s", l->where, l->tool, field,
			 what);
	else
		snprintf(l->err, l->errsize, "%s: %s: %s", l->where, field, what);
	return EINVAL;
}

static int only_keys(const struct ld *l, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		bool known = false;
		for (size_t i = 0; keys[i] && !known; i++)
			known = !strcmp(k, keys[i]);
		if (!known)
			return bad(l, k, "unknown field");
	}
	return 0;
}

/* A list of non-empty strings (checked by ok when given). */
static int str_list(const struct ld *l, json_t *a, const char *field, size_t max,
		    bool (*ok)(const char *), char ***out, size_t *n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || !json_array_size(a))
		return bad(l, field, "must be a non-empty list of strings");
	if (json_array_size(a) > max)
		return bad(l, field, "at most %zu entries", max);
	*out = calloc(json_array_size(a), sizeof(char *));
	if (!*out)
		return ENOMEM;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !json_string_length(v))
			return bad(l, field, "entry %zu is not a non-empty string", i + 1);
		if (ok && !ok(json_string_value(v)))
			return bad(l, field, "\"%.80s\" is not a host name or IP address",
				   json_string_value(v));
		if (!((*out)[(*n)++] = strdup(json_string_value(v))))
			return ENOMEM;
	}
	return 0;
}

static int int_field(const struct ld *l, json_t *o, const char *field, long long min,
		     long long max, long long def, long long *out)
{
	json_t *v = json_object_get(o, field);

	*out = def;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(l, field, "must be a whole number from %lld to %lld", min, max);
	*out = json_integer_value(v);
	return 0;
}

static int check_name(const struct ld *l, const struct tools *t, json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = s ? strlen(s) : 0;

	if (!json_is_string(v) || !len || len >= sizeof(t->v->name))
		return bad(l, "name", "must be a string of 1-63 characters");
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return bad(l, "name", "only letters, digits, _ and - are allowed");
	}
	if (tools_builtin(s))
		return bad(l, "name", "\"%s\" is a built-in tool", s);
	for (size_t i = 0; i + 1 < t->n; i++) {
		if (!strcmp(t->v[i].name, s))
			return bad(l, "name", "used by two tools");
	}
	return 0;
}

static int check_url(const struct ld *l, const char *url)
{
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		return bad(l, "url", "must start with http:// or https://");
	if (strlen(url) > 2000)
		return bad(l, "url", "longer than 2000 characters");
	return 0;
}

static int parse_headers(const struct ld *l, struct tool *tl, json_t *o)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return bad(l, "headers", "must be an object of \"Name\": \"value\"");
	if (json_object_size(o) > HEADERS_MAX)
		return bad(l, "headers", "at most %d", HEADERS_MAX);
	tl->headers = calloc(json_object_size(o) + 1, sizeof(char *));
	if (!tl->headers)
		return ENOMEM;
	json_object_foreach(o, k, v) {
		const char *val = json_string_value(v);
		if (!json_is_string(v) || !*k || strpbrk(k, ": \r\n") || strpbrk(val, "\r\n"))
			return bad(l, "headers", "\"%.40s\" needs a plain name and a one-line string value",
				   k);
		if (asprintf(&tl->headers[tl->nheaders], "%s: %s", k, val) < 0)
			return ENOMEM;
		tl->nheaders++;
	}
	return 0;
}

static int parse_tool(struct tools *t, json_t *o, struct ld *l)
{
	static const char *const keys[] = { "name", "description", "parameters", "url", "method",
					    "timeout_ms", "max_response_bytes", "allowed_hosts",
					    "headers", NULL };
	struct tool *tl = &t->v[t->n++];
	json_t *desc, *params, *url, *method, *type;
	long long v;
	int rc;

	if (!json_is_object(o))
		return bad(l, "tools", "entry %zu is not an object", t->n);
	l->tool = json_string_value(json_object_get(o, "name"));
	if ((rc = check_name(l, t, json_object_get(o, "name"))) || (rc = only_keys(l, o, keys)))
		return rc;
	str_copy(tl->name, sizeof(tl->name), l->tool);
	desc = json_object_get(o, "description");
	if (!json_is_string(desc) || !json_string_length(desc) || json_string_length(desc) > 1024)
		return bad(l, "description", "must be a string of 1-1024 characters");
	params = json_object_get(o, "parameters");
	type = json_object_get(params, "type");
	if (!json_is_object(params) || !json_is_string(type) ||
	    strcmp(json_string_value(type), "object"))
		return bad(l, "parameters", "must be a JSON schema with \"type\": \"object\"");
	if (json_object_get(params, "properties") &&
	    !json_is_object(json_object_get(params, "properties")))
		return bad(l, "parameters", "\"properties\" must be an object");
	if (json_object_get(params, "required") &&
	    !json_is_array(json_object_get(params, "required")))
		return bad(l, "parameters", "\"required\" must be a list");
	tl->params = json_incref(params);
	url = json_object_get(o, "url");
	if (!json_is_string(url))
		return bad(l, "url", "missing (a string)");
	if ((rc = check_url(l, json_string_value(url))))
		return rc;
	if (!(tl->url = strdup(json_string_value(url))))
		return ENOMEM;
	method = json_object_get(o, "method");
	if (method && (!json_is_string(method) || (strcmp(json_string_value(method), "GET") &&
						   strcmp(json_string_value(method), "POST"))))
		return bad(l, "method", "must be \"GET\" or \"POST\"");
	tl->get = method && !strcmp(json_string_value(method), "GET");
	if ((rc = int_field(l, o, "timeout_ms", 100, TIMEOUT_MAX_MS, TIMEOUT_DEFAULT_MS, &v)))
		return rc;
	tl->timeout_ms = (int)v;
	if ((rc = int_field(l, o, "max_response_bytes", 1, ANSWER_MAX_BYTES, ANSWER_DEFAULT_BYTES,
			    &v)))
		return rc;
	tl->max_bytes = (size_t)v;
	if (json_object_get(o, "allowed_hosts") &&
	    (rc = str_list(l, json_object_get(o, "allowed_hosts"), "allowed_hosts", HOSTS_MAX,
			   webhook_host_valid, &tl->hosts, &tl->nhosts)))
		return rc;
	if (!tl->nhosts && !t->nhosts)
		return bad(l, "allowed_hosts", "none here and none at file level: the tool could "
			   "call nothing");
	if (json_object_get(o, "headers") &&
	    (rc = parse_headers(l, tl, json_object_get(o, "headers"))))
		return rc;
	return 0;
}

/* The definitions the LLM sees: the built-ins, then the file's tools. */
static int build_json(struct tools *t, json_t *list)
{
	json_t *arr = json_loads("[" BUILTIN_JSON "]", 0, NULL);
	size_t i;
	json_t *o;

	if (!arr)
		return ENOMEM;
	json_array_foreach(list, i, o) {
		json_t *fn = json_object(), *def = json_object();
		json_object_set(fn, "name", json_object_get(o, "name"));
		json_object_set(fn, "description", json_object_get(o, "description"));
		json_object_set(fn, "parameters", json_object_get(o, "parameters"));
		json_object_set_new(def, "type", json_string("function"));
		json_object_set_new(def, "function", fn);
		json_array_append_new(arr, def);
	}
	t->json = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return t->json ? 0 : ENOMEM;
}

static void warn_unreachable(const struct tools *t, const char *where)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tool *tl = &t->v[i];
		struct webhook_target tg;
		char why[200];
		int rc = webhook_check(tl->url, (const char *const *)(tl->nhosts ? tl->hosts : t->hosts),
				       tl->nhosts ? tl->nhosts : t->nhosts, &tg, why, sizeof(why));
		if (rc == EACCES)
			log_warn("tools: %s: tool \"%s\" will be refused: %s", where, tl->name, why);
	}
}

int tools_parse(struct tools **out, const char *text, size_t len, const char *where, char *err,
		size_t errsize)
{
	static const char *const keys[] = { "allowed_hosts", "transfer_targets", "tools", NULL };
	struct ld l = { .where = where, .err = err, .errsize = errsize };
	struct tools *t = calloc(1, sizeof(*t));
	json_error_t je;
	json_t *root = NULL, *list = NULL;
	size_t i;
	json_t *o;
	int rc = 0;

	if (!t)
		return ENOMEM;
	if (len) {
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
		if (!root) {
			snprintf(err, errsize, "%s: line %d: not valid JSON: %s", where, je.line, je.text);
			rc = EINVAL;
			goto out;
		}
		/* A bare list of tools, or an object with the file-level settings. */
		if (json_is_array(root)) {
			list = root;
		} else if (!json_is_object(root)) {
			rc = bad(&l, "top level", "must be a list of tools or an object with \"tools\"");
		} else if (!(rc = only_keys(&l, root, keys))) {
			list = json_object_get(root, "tools");
			if (!json_is_array(list))
				rc = bad(&l, "tools", "missing (a list of tools)");
		}
		if (!rc && json_object_get(root, "allowed_hosts"))
			rc = str_list(&l, json_object_get(root, "allowed_hosts"), "allowed_hosts",
				      HOSTS_MAX, webhook_host_valid, &t->hosts, &t->nhosts);
		if (!rc && json_object_get(root, "transfer_targets"))
			rc = str_list(&l, json_object_get(root, "transfer_targets"), "transfer_targets",
				      HOSTS_MAX, NULL, &t->xfer, &t->nxfer);
		if (!rc && json_array_size(list) > TOOLS_MAX)
			rc = bad(&l, "tools", "at most %d tools", TOOLS_MAX);
		if (!rc && json_array_size(list) &&
		    !(t->v = calloc(json_array_size(list), sizeof(*t->v))))
			rc = ENOMEM;
		json_array_foreach(list, i, o) {
			if (rc)
				break;
			rc = parse_tool(t, o, &l);
		}
	}
	if (!rc)
		rc = build_json(t, list);
	if (!rc)
		warn_unreachable(t, where);
out:
	json_decref(root);
	if (rc) {
		if (rc == ENOMEM && !err[0])
			snprintf(err, errsize, "%s: out of memory", where);
		tools_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int tools_load(struct tools **out, const char *path, char *err, size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	err[0] = '\0';
	if (path && *path) {
		rc = file_read_all(path, TOOLS_FILE_MAX, &text, &len);
		if (rc) {
			snprintf(err, errsize, "%s: %s", path,
				 rc == EFBIG ? "larger than 256 KiB" : strerror(rc));
			return rc == EFBIG ? EINVAL : rc;
		}
	}
	rc = tools_parse(out, text ? text : "", len, path && *path ? path : "(none)", err, errsize);
	free(text);
	return rc;
}

void tools_set_store(struct tools *t, struct store *st)
{
	if (t)
		t->st = st;
}

const char *tools_json(const struct tools *t)
{
	return t ? t->json : "[" BUILTIN_JSON "]";
}

size_t tools_count(const struct tools *t)
{
	return t ? t->n : 0;
}

static const struct tool *find(const struct tools *t, const char *name)
{
	for (size_t i = 0; t && i < t->n; i++) {
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	}
	return NULL;
}

bool tools_has(const struct tools *t, const char *name)
{
	return tools_builtin(name) || find(t, name);
}

bool tools_transfer_allowed(const struct tools *t, const char *target)
{
	for (size_t i = 0; t && i < t->nxfer; i++) {
		if (!strcmp(t->xfer[i], target))
			return true;
	}
	return false;
}

void tools_audit(struct tools *t, const char *details)
{
	int rc;

	if (!t || !t->st)
		return;
	rc = store_audit(t->st, 0, "tool_call", details, NULL);
	if (rc)
		log_warn("tools: cannot write the audit row: %s", strerror(rc));
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* The schema's required properties and the top-level types; deeper checks are the
 * webhook's business. */
static int check_args(const struct tool *tl, json_t *args, char *why, size_t whysize)
{
	json_t *props = json_object_get(tl->params, "properties");
	json_t *req = json_object_get(tl->params, "required"), *v;
	const char *k;
	size_t i;

	if (!json_is_object(args)) {
		snprintf(why, whysize, "the arguments are not a JSON object");
		return EINVAL;
	}
	json_array_foreach(req, i, v) {
		if (json_is_string(v) && !json_object_get(args, json_string_value(v))) {
			snprintf(why, whysize, "argument \"%.60s\" is required", json_string_value(v));
			return EINVAL;
		}
	}
	json_object_foreach(args, k, v) {
		const char *want = json_string_value(json_object_get(json_object_get(props, k), "type"));
		const char *have = json_type_name(v);

		if (!json_object_get(props, k) &&
		    json_is_false(json_object_get(tl->params, "additionalProperties"))) {
			snprintf(why, whysize, "unknown argument \"%.60s\"", k);
			return EINVAL;
		}
		if (want && strcmp(want, have) &&
		    !(!strcmp(want, "number") && !strcmp(have, "integer"))) {
			snprintf(why, whysize, "argument \"%.60s\" must be a %.20s", k, want);
			return EINVAL;
		}
	}
	return 0;
}

/* What the model is told when a tool did not answer. */
static int result_error(char **result, int rc, const char *why)
{
	int n;

	if (rc == EACCES)
		n = asprintf(result, "error: refused: %s", why);
	else if (rc == ECANCELED)
		n = asprintf(result, "error: cancelled");
	else
		n = asprintf(result, "error: %s", why);
	if (n < 0)
		*result = NULL;
	return *result ? 0 : ENOMEM;
}

int tools_call(struct tools *t, const char *name, const char *args, volatile bool *cancel,
	       char **result)
{
	const struct tool *tl = find(t, name);
	struct webhook_req req;
	json_t *a = NULL;
	char why[200] = "", details[400];
	int64_t t0 = time_mono_ms();
	long status = 0;
	int rc;

	*result = NULL;
	if (!tl) {
		snprintf(why, sizeof(why), "there is no tool named %.64s", name);
		rc = ENOENT;
		goto out;
	}
	a = json_loads(args ? args : "{}", 0, NULL);
	if ((rc = check_args(tl, a, why, sizeof(why))))
		goto out;
	req = (struct webhook_req){
		.url = tl->url, .get = tl->get, .args = args,
		.allowed = (const char *const *)(tl->nhosts ? tl->hosts : t->hosts),
		.nallowed = tl->nhosts ? tl->nhosts : t->nhosts,
		.headers = (const char *const *)tl->headers, .nheaders = tl->nheaders,
		.timeout_ms = tl->timeout_ms, .max_bytes = tl->max_bytes, .cancel = cancel,
	};
	rc = webhook_run(&req, result, &status, why, sizeof(why));
out:
	json_decref(a);
	if (rc == EACCES)
		log_warn("tools: %s refused, no request sent: %s", name, why);
	else if (rc && rc != ECANCELED)
		log_warn("tools: %s failed: %s", name, why);
	else
		log_info("tools: %s %s in %lld ms", name, rc ? "cancelled" : "answered",
			 (long long)(time_mono_ms() - t0));
	snprintf(details, sizeof(details), "%s: %s (%lld ms)", name,
		 rc == 0 ? "ok" : rc == EACCES ? why : rc == ECANCELED ? "cancelled" : why,
		 (long long)(time_mono_ms() - t0));
	if (rc == EACCES) {
		char refused[sizeof(details)];
		snprintf(refused, sizeof(refused), "%s: refused: %s", name, why);
		tools_audit(t, refused);
	} else {
		tools_audit(t, details);
	}
	if (rc && !*result) {
		int mrc = result_error(result, rc, why);
		if (mrc)
			return mrc;
	}
	(void)status;
	return rc;
}
