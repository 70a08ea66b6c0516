/* rules.h - the embedded rule-based dialogue: phrases the caller says -> replies.
 * Not a language model, and it says so: see docs/rules.md for the file format. */
#ifndef CALLBOT_LLM_RULES_H
#define CALLBOT_LLM_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "llm/llm.h"

struct rules;

/* Parses rules text; on error returns EINVAL with "line N: ..." in err. */
int rules_parse(struct rules **out, const char *text, size_t len, char *err, size_t errsize);
/* Loads RULES_FILE, or the built-in English rules when path is empty. */
int rules_load(struct rules **out, const char *path, char *err, size_t errsize);
void rules_free(struct rules *r);

/* The reply for what the caller said (slots filled in), malloc'd; never NULL on success. */
int rules_answer(const struct rules *r, const char *said, const struct llm_ctx *ctx,
		 char **reply, enum llm_action *action);
/* Every phrase the rules listen for, for an STT grammar; callback per phrase. */
void rules_phrases(const struct rules *r, void (*h)(const char *phrase, void *arg), void *arg);
/* Lower-case words separated by single spaces, punctuation removed; malloc'd. */
char *rules_normalize(const char *s);

extern const char rules_builtin_en[];

#endif
