/* dotenv.c - reads KEY=VALUE files (.env) strictly, reporting the line of any fault. */
#include "core/dotenv.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errsize, unsigned line, const char *what)
{
	snprintf(err, errsize, "line %u: %s", line, what);
	return EINVAL;
}

static bool key_valid(const char *k, size_t len)
{
	if (len == 0 || len > 64 || !(isupper((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!isupper((unsigned char)k[i]) && !isdigit((unsigned char)k[i]) && k[i] != '_')
			return false;
	}
	return true;
}

/* Decodes a quoted value starting at *p (on the quote); the rest of the line may
 * hold only white space or a comment. Result written over the input. */
static int unquote(char *p, char **value, const char **why)
{
	char q = *p, *src = p + 1, *dst = p;

	*value = p;
	for (;; src++) {
		if (*src == '\0') {
			*why = "unterminated quoted value";
			return EINVAL;
		}
		if (*src == q)
			break;
		if (q == '"' && *src == '\\' && src[1]) {
			src++;
			switch (*src) {
			case 'n': *dst++ = '\n'; break;
			case 't': *dst++ = '\t'; break;
			case 'r': *dst++ = '\r'; break;
			case '"': case '\\': case '$': *dst++ = *src; break;
			default: *dst++ = '\\'; *dst++ = *src; break;
			}
			continue;
		}
		*dst++ = *src;
	}
	*dst = '\0';
	for (src++; *src == ' ' || *src == '\t'; src++)
		;
	if (*src && *src != '#') {
		*why = "unexpected text after the closing quote";
		return EINVAL;
	}
	return 0;
}

static int add_entry(struct dotenv *env, const char *key, const char *value, unsigned line)
{
	struct dotenv_entry *nv = realloc(env->v, (env->n + 1) * sizeof(*nv));

	if (!nv)
		return ENOMEM;
	env->v = nv;
	nv[env->n].key = strdup(key);
	nv[env->n].value = strdup(value);
	nv[env->n].line = line;
	if (!nv[env->n].key || !nv[env->n].value) {
		free(nv[env->n].key);
		free(nv[env->n].value);
		return ENOMEM;
	}
	env->n++;
	return 0;
}

static int parse_line(struct dotenv *env, char *s, unsigned line, char *err, size_t errsize)
{
	char *eq, *key, *value, msg[160];
	const char *why = NULL;
	const struct dotenv_entry *dup;
	size_t klen;

	str_trim(s);
	if (s[0] == '\0' || s[0] == '#')
		return 0;
	if (strncmp(s, "export ", 7) == 0)
		s = str_trim(s + 7);
	eq = strchr(s, '=');
	if (!eq)
		return fail(err, errsize, line, "expected KEY=VALUE");
	*eq = '\0';
	key = str_trim(s);
	klen = strlen(key);
	if (!key_valid(key, klen))
		return fail(err, errsize, line,
			    "invalid key name (use upper-case letters, digits and _)");
	value = str_trim(eq + 1);
	if (value[0] == '"' || value[0] == '\'') {
		if (unquote(value, &value, &why)) {
			snprintf(msg, sizeof(msg), "%s: %s", key, why);
			return fail(err, errsize, line, msg);
		}
	} else {
		/* An unquoted value ends at " #": a comment, as in python-dotenv. */
		for (char *c = value; *c; c++) {
			if (*c == '#' && c > value && (c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				str_trim(value);
				break;
			}
		}
	}
	dup = dotenv_find(env, key);
	if (dup) {
		snprintf(msg, sizeof(msg), "%s is set twice (first on line %u)", key, dup->line);
		return fail(err, errsize, line, msg);
	}
	return add_entry(env, key, value, line);
}

int dotenv_parse(const char *text, size_t len, struct dotenv *out, char *err, size_t errsize)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	char *buf = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* UTF-8 byte order mark from Windows editors */
	buf = malloc(DOTENV_MAX_LINE + 1);
	if (!buf)
		return ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line++;
		if (llen > DOTENV_MAX_LINE) {
			rc = fail(err, errsize, line, "line longer than 65536 bytes");
			goto out;
		}
		if (memchr(p, '\0', llen)) {
			rc = fail(err, errsize, line, "contains a NUL byte");
			goto out;
		}
		if (!utf8_valid(p, llen)) {
			rc = fail(err, errsize, line, "not valid UTF-8");
			goto out;
		}
		memcpy(buf, p, llen);
		buf[llen] = '\0';
		rc = parse_line(out, buf, line, err, errsize);
		if (rc)
			goto out;
		p = nl ? nl + 1 : end;
	}
out:
	free(buf);
	if (rc)
		dotenv_free(out);
	return rc;
}

int dotenv_load(const char *path, struct dotenv *out, char *err, size_t errsize)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = file_read_all(path, DOTENV_MAX_FILE, &text, &len);
	if (rc == EFBIG) {
		snprintf(err, errsize, "%s: larger than 1 MiB", path);
		return EINVAL;
	}
	if (rc) {
		snprintf(err, errsize, "%s: %s", path, strerror(rc));
		return rc;
	}
	rc = dotenv_parse(text, len, out, err, errsize);
	free(text);
	return rc;
}

const struct dotenv_entry *dotenv_find(const struct dotenv *env, const char *key)
{
	for (size_t i = 0; i < env->n; i++) {
		if (strcmp(env->v[i].key, key) == 0)
			return &env->v[i];
	}
	return NULL;
}

void dotenv_free(struct dotenv *env)
{
	for (size_t i = 0; i < env->n; i++) {
		free(env->v[i].key);
		free(env->v[i].value);
	}
	free(env->v);
	env->v = NULL;
	env->n = 0;
}
