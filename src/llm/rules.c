/* rules.c - the rules file parser, phrase matcher and slot filler. */
#include "llm/rules.h"
#include "core/util.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RULES_MAX_FILE (256 * 1024)
#define RULES_MAX 500
#define PHRASES_MAX 64

struct rule {
	char name[64];
	char *phrases[PHRASES_MAX]; /* normalized */
	size_t nphrases;
	char *reply;
	enum llm_action action;
	char tool[64];   /* "" = none; else run it, then reply with {result} */
	char *tool_args; /* JSON object */
	unsigned line;
};

struct rules {
	struct rule *v;
	size_t n;
	struct rule *fallback;
};

/* Punctuation outside ASCII that callers' text (or a recogniser) may hold: ¡ ¿ « » – — ‘ ’
 * ‚ “ ” „ …; the length of the sequence at s, or 0. */
static size_t utf8_punct(const unsigned char *s)
{
	if (s[0] == 0xc2 && (s[1] == 0xa1 || s[1] == 0xbf || s[1] == 0xab || s[1] == 0xbb))
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x93 && s[2] <= 0xa6)
		return 3;
	return 0;
}

char *rules_normalize(const char *s)
{
	size_t len = strlen(s), n = 0, skip;
	char *out = malloc(len + 1);
	bool space = true;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((skip = utf8_punct((const unsigned char *)s)) != 0) {
			s += skip - 1;
			if (!space) {
				out[n++] = ' ';
				space = true;
			}
		} else if (ch == 0xc3 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9e &&
			   (unsigned char)s[1] != 0x97) {
			/* Latin-1 capitals (Ä Ö Ü É Ñ ...) to lower case: "Öffnungszeiten". */
			out[n++] = (char)ch;
			out[n++] = (char)((unsigned char)s[1] + 0x20);
			s++;
			space = false;
		} else if (isalnum(ch) || ch == '\'' || ch >= 0x80) {
			/* Letters (any other UTF-8 byte counts as one), digits and apostrophes. */
			out[n++] = (char)tolower(ch);
			space = false;
		} else if (!space) {
			out[n++] = ' ';
			space = true;
		}
	}
	if (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}

static void rule_clear(struct rule *r)
{
	for (size_t i = 0; i < r->nphrases; i++)
		free(r->phrases[i]);
	free(r->reply);
	free(r->tool_args);
	memset(r, 0, sizeof(*r));
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_clear(&r->v[i]);
	free(r->v);
	free(r);
}

static int fail(char *err, size_t errsize, unsigned line, const char *what)
{
	snprintf(err, errsize, "line %u: %s", line, what);
	return EINVAL;
}

static int add_phrases(struct rule *r, char *list, unsigned line, char *err, size_t errsize)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		char *p = rules_normalize(tok);
		if (!p)
			return ENOMEM;
		if (!*p) {
			free(p);
			return fail(err, errsize, line, "empty phrase in match:");
		}
		if (r->nphrases == PHRASES_MAX) {
			free(p);
			return fail(err, errsize, line, "too many phrases in one rule (64 at most)");
		}
		r->phrases[r->nphrases++] = p;
	}
	return 0;
}

/* "tool: name" or "tool: name {json object of arguments}". */
static int set_tool(struct rule *r, char *value, unsigned line, char *err, size_t errsize)
{
	size_t nlen = strcspn(value, " \t{");
	char *args = str_trim(value + nlen);
	json_t *o;

	if (r->tool[0])
		return fail(err, errsize, line, "a rule has one tool:");
	if (!nlen || nlen >= sizeof(r->tool))
		return fail(err, errsize, line, "tool: needs a tool name (1-63 characters)");
	for (size_t i = 0; i < nlen; i++) {
		if (!isalnum((unsigned char)value[i]) && value[i] != '_' && value[i] != '-')
			return fail(err, errsize, line, "tool: names use letters, digits, _ and -");
	}
	memcpy(r->tool, value, nlen);
	r->tool[nlen] = '\0';
	o = json_loads(*args ? args : "{}", 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(err, errsize, line, "tool: arguments must be a JSON object");
	}
	r->tool_args = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return r->tool_args ? 0 : ENOMEM;
}

static int set_field(struct rule *r, char *key, char *value, unsigned line, char *err,
		     size_t errsize)
{
	if (strcmp(key, "match") == 0)
		return add_phrases(r, value, line, err, errsize);
	if (strcmp(key, "reply") == 0) {
		if (r->reply)
			return fail(err, errsize, line, "a rule has one reply:");
		if (!*value)
			return fail(err, errsize, line, "empty reply:");
		r->reply = strdup(value);
		return r->reply ? 0 : ENOMEM;
	}
	if (strcmp(key, "action") == 0) {
		if (strcasecmp(value, "hangup") == 0)
			r->action = LLM_ACT_HANGUP;
		else if (strcasecmp(value, "transfer") == 0)
			r->action = LLM_ACT_TRANSFER;
		else if (strcasecmp(value, "none") == 0)
			r->action = LLM_ACT_NONE;
		else
			return fail(err, errsize, line, "action: must be hangup, transfer or none");
		return 0;
	}
	if (strcmp(key, "tool") == 0)
		return set_tool(r, value, line, err, errsize);
	return fail(err, errsize, line, "unknown field (match:, reply:, action:, tool:)");
}

static int finish_rule(struct rules *rs, unsigned line, char *err, size_t errsize)
{
	struct rule *r;

	if (!rs->n)
		return 0;
	r = &rs->v[rs->n - 1];
	if (!r->reply)
		return fail(err, errsize, r->line, "rule has no reply:");
	if (strcmp(r->name, "fallback") == 0) {
		if (r->nphrases)
			return fail(err, errsize, r->line, "[fallback] takes no match:");
	} else if (!r->nphrases) {
		return fail(err, errsize, r->line, "rule has no match:");
	}
	(void)line;
	return 0;
}

static int start_rule(struct rules *rs, const char *name, unsigned line, char *err, size_t errsize)
{
	struct rule *nv;

	if (!*name || strlen(name) >= sizeof(rs->v->name))
		return fail(err, errsize, line, "a rule name is 1-63 characters");
	for (size_t i = 0; i < rs->n; i++) {
		if (strcmp(rs->v[i].name, name) == 0)
			return fail(err, errsize, line, "rule name used twice");
	}
	if (rs->n == RULES_MAX)
		return fail(err, errsize, line, "too many rules (500 at most)");
	nv = realloc(rs->v, (rs->n + 1) * sizeof(*nv));
	if (!nv)
		return ENOMEM;
	rs->v = nv;
	memset(&nv[rs->n], 0, sizeof(*nv));
	strcpy(nv[rs->n].name, name);
	nv[rs->n].line = line;
	rs->n++;
	return 0;
}

static int parse_line(struct rules *rs, char *s, unsigned line, char *err, size_t errsize)
{
	char *colon;
	int rc;

	str_trim(s);
	if (!*s || *s == '#')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || close[1])
			return fail(err, errsize, line, "expected [rule name]");
		*close = '\0';
		rc = finish_rule(rs, line, err, errsize);
		return rc ? rc : start_rule(rs, str_trim(s + 1), line, err, errsize);
	}
	if (!rs->n)
		return fail(err, errsize, line, "field before the first [rule]");
	colon = strchr(s, ':');
	if (!colon)
		return fail(err, errsize, line, "expected field: value");
	*colon = '\0';
	return set_field(&rs->v[rs->n - 1], str_trim(s), str_trim(colon + 1), line, err, errsize);
}

int rules_parse(struct rules **out, const char *text, size_t len, char *err, size_t errsize)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int rc = 0;

	if (!rs)
		return ENOMEM;
	if (len > RULES_MAX_FILE) {
		rc = fail(err, errsize, 0, "rules file larger than 256 KiB");
		goto out;
	}
	if (memchr(text, '\0', len) || !utf8_valid(text, len)) {
		rc = fail(err, errsize, 0, "rules must be UTF-8 text");
		goto out;
	}
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *buf = mem_to_str(p, llen);

		if (!buf) {
			rc = ENOMEM;
			break;
		}
		rc = parse_line(rs, buf, ++line, err, errsize);
		free(buf);
		p = nl ? nl + 1 : end;
	}
	if (!rc)
		rc = finish_rule(rs, line, err, errsize);
	/* Found only now: rs->v moves while rules are added. */
	for (size_t i = 0; !rc && i < rs->n; i++) {
		if (strcmp(rs->v[i].name, "fallback") == 0)
			rs->fallback = &rs->v[i];
	}
	if (!rc && !rs->fallback)
		rc = fail(err, errsize, line, "no [fallback] rule (what to say when nothing matches)");
out:
	if (rc) {
		rules_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

const char *rules_builtin(const char *language, bool *known)
{
	static const struct {
		const char *lang;
		const char *text;
	} builtin[] = {
		{ "en", rules_builtin_en },
		{ "de", rules_builtin_de },
		{ "es", rules_builtin_es },
	};
	const char *l = language && *language ? language : "en";
	size_t n = strcspn(l, "-_");

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (n == strlen(builtin[i].lang) && !strncasecmp(l, builtin[i].lang, n)) {
			*known = true;
			return builtin[i].text;
		}
	}
	*known = false;
	return rules_builtin_en;
}

int rules_load(struct rules **out, const char *path, const char *language, char *err,
	       size_t errsize)
{
	char *text, msg[300];
	size_t len;
	bool known;
	int rc;

	if (!path || !*path) {
		const char *b = rules_builtin(language, &known);
		return rules_parse(out, b, strlen(b), err, errsize);
	}
	rc = file_read_all(path, RULES_MAX_FILE, &text, &len);
	if (rc) {
		snprintf(err, errsize, "%s: %s", path, rc == EFBIG ? "larger than 256 KiB" : strerror(rc));
		return rc == EFBIG ? EINVAL : rc;
	}
	rc = rules_parse(out, text, len, msg, sizeof(msg));
	if (rc)
		snprintf(err, errsize, "%s %s", path, msg);
	free(text);
	return rc;
}

static bool phrase_in(const char *padded_text, const char *phrase)
{
	char pat[512];

	if (snprintf(pat, sizeof(pat), " %s ", phrase) >= (int)sizeof(pat))
		return false;
	return strstr(padded_text, pat) != NULL;
}

/* Caller numbers are read digit by digit, the way people say them. */
static void spell_digits(const char *num, char *buf, size_t size)
{
	size_t n = 0;

	for (; num && *num && n + 3 < size; num++) {
		if (isdigit((unsigned char)*num) || *num == '+') {
			if (n)
				buf[n++] = ' ';
			if (*num == '+') {
				if (n + 5 >= size)
					break;
				memcpy(buf + n, "plus", 4);
				n += 4;
			} else {
				buf[n++] = *num;
			}
		}
	}
	buf[n] = '\0';
	if (!n)
		snprintf(buf, size, "an unknown number");
}

/* {result}: the whole tool result; {result.key}: a field of a JSON object result. */
static void result_slot(const char *result, const char *key, size_t klen, char *value,
			size_t size)
{
	json_t *o, *v;

	if (!result) {
		value[0] = '\0';
		return;
	}
	if (!klen) {
		snprintf(value, size, "%s", result);
		return;
	}
	o = json_loads(result, 0, NULL);
	v = json_object_getn(o, key, klen);
	if (json_is_string(v))
		snprintf(value, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(value, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(value, size, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(value, size, "%s", json_is_true(v) ? "yes" : "no");
	else
		value[0] = '\0';
	json_decref(o);
}

static char *fill_slots(const char *tmpl, const struct llm_ctx *ctx, const char *result)
{
	time_t t = (time_t)((ctx && ctx->now_ms ? ctx->now_ms : time_now_ms()) / 1000);
	char value[512], *out;
	size_t cap = strlen(tmpl) + 256, n = 0;
	struct tm tm;

	localtime_r(&t, &tm);
	out = malloc(cap);
	if (!out)
		return NULL;
	while (*tmpl) {
		const char *close;
		if (*tmpl == '{' && (close = strchr(tmpl, '}')) && close - tmpl < 48) {
			size_t klen = (size_t)(close - tmpl - 1);
			value[0] = '\0';
			if (klen == 4 && !strncmp(tmpl + 1, "time", 4))
				strftime(value, sizeof(value), "%-I:%M %p", &tm);
			else if (klen == 4 && !strncmp(tmpl + 1, "date", 4))
				strftime(value, sizeof(value), "%A, %B %-d", &tm);
			else if (klen == 6 && !strncmp(tmpl + 1, "time24", 6))
				strftime(value, sizeof(value), "%H:%M", &tm);
			else if (klen == 6 && !strncmp(tmpl + 1, "result", 6))
				result_slot(result, NULL, 0, value, sizeof(value));
			else if (klen > 7 && !strncmp(tmpl + 1, "result.", 7))
				result_slot(result, tmpl + 8, klen - 7, value, sizeof(value));
			else if (klen == 7 && !strncmp(tmpl + 1, "weekday", 7))
				strftime(value, sizeof(value), "%A", &tm);
			else if (klen == 6 && !strncmp(tmpl + 1, "caller", 6))
				spell_digits(ctx ? ctx->caller : NULL, value, sizeof(value));
			else
				snprintf(value, sizeof(value), "%.*s", (int)(klen + 2), tmpl);
			size_t vlen = strlen(value);
			if (n + vlen + 1 > cap) {
				char *nb = realloc(out, cap = (n + vlen + 1) * 2);
				if (!nb) {
					free(out);
					return NULL;
				}
				out = nb;
			}
			memcpy(out + n, value, vlen);
			n += vlen;
			tmpl = close + 1;
			continue;
		}
		if (n + 2 > cap) {
			char *nb = realloc(out, cap *= 2);
			if (!nb) {
				free(out);
				return NULL;
			}
			out = nb;
		}
		out[n++] = *tmpl++;
	}
	out[n] = '\0';
	return out;
}

static const struct rule *match(const struct rules *r, const char *said)
{
	const struct rule *hit = r->fallback;
	char *norm = rules_normalize(said ? said : ""), *padded = NULL;

	if (!norm || asprintf(&padded, " %s ", norm) < 0) {
		free(norm);
		return NULL;
	}
	for (size_t i = 0; i < r->n && hit == r->fallback; i++) {
		for (size_t j = 0; j < r->v[i].nphrases; j++) {
			if (phrase_in(padded, r->v[i].phrases[j])) {
				hit = &r->v[i];
				break;
			}
		}
	}
	free(norm);
	free(padded);
	return hit;
}

int rules_respond(const struct rules *r, const char *said, const struct llm_ctx *ctx,
		  const char *result, struct rules_answer *a)
{
	const struct rule *hit = match(r, said);

	memset(a, 0, sizeof(*a));
	if (!hit)
		return ENOMEM;
	a->action = hit->action;
	if (hit->tool[0] && !result) {
		a->tool = hit->tool;
		a->tool_args = hit->tool_args;
		return 0;
	}
	a->reply = fill_slots(hit->reply, ctx, result);
	return a->reply ? 0 : ENOMEM;
}

int rules_answer(const struct rules *r, const char *said, const struct llm_ctx *ctx,
		 char **reply, enum llm_action *action)
{
	struct rules_answer a;
	/* Without a tool run, a rule's {result} reads as nothing. */
	int rc = rules_respond(r, said, ctx, "", &a);

	*reply = a.reply;
	*action = a.action;
	return rc;
}

void rules_tools(const struct rules *r, void (*h)(const char *tool, void *arg), void *arg)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].tool[0])
			h(r->v[i].tool, arg);
	}
}

void rules_phrases(const struct rules *r, void (*h)(const char *phrase, void *arg), void *arg)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->v[i].nphrases; j++)
			h(r->v[i].phrases[j], arg);
	}
}
