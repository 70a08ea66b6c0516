/* dotenv.h - reads KEY=VALUE files (.env) strictly, reporting the line of any fault. */
#ifndef CALLBOT_CORE_DOTENV_H
#define CALLBOT_CORE_DOTENV_H

#include <stddef.h>

#define DOTENV_MAX_FILE (1024 * 1024)
#define DOTENV_MAX_LINE (64 * 1024)

struct dotenv_entry {
	char *key;
	char *value;
	unsigned line;
};

struct dotenv {
	struct dotenv_entry *v;
	size_t n;
};

/* Parses text of len bytes. Accepts "KEY=VALUE", "export KEY=VALUE", blank lines,
 * "# comments", values in "double" (with \n \t \" \\ escapes) or 'single' quotes,
 * and trailing " # comments" after unquoted values. Refuses NUL bytes, invalid
 * UTF-8, lines over DOTENV_MAX_LINE, malformed lines and duplicate keys.
 * On error returns EINVAL and writes one line (naming line and key) into err. */
int dotenv_parse(const char *text, size_t len, struct dotenv *out, char *err, size_t errsize);
/* Reads and parses a file (at most DOTENV_MAX_FILE bytes). */
int dotenv_load(const char *path, struct dotenv *out, char *err, size_t errsize);
const struct dotenv_entry *dotenv_find(const struct dotenv *env, const char *key);
void dotenv_free(struct dotenv *env);

#endif
