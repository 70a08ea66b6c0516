/* rules.h - the embedded rule-based dialogue: phrases the caller says -> replies.
 * Not a language model, and it says so: see docs/rules.md for the file format. */
#ifndef CALLBOT_LLM_RULES_H
#define CALLBOT_LLM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llm/llm.h"

struct rules;

/* Parses rules text; on error returns EINVAL with "line N: ..." in err. */
int rules_parse(struct rules **out, const char *text, size_t len, char *err, size_t errsize);
/* Loads RULES_FILE, or when path is empty the built-in rules of language (LANGUAGE). */
int rules_load(struct rules **out, const char *path, const char *language, char *err,
	       size_t errsize);
/* The built-in rules for a language ("de", "es-MX", ...): English when there are none,
 * and then *known = false. */
const char *rules_builtin(const char *language, bool *known);
void rules_free(struct rules *r);

/* The reply for what the caller said (slots filled in), malloc'd; never NULL on success. */
int rules_answer(const struct rules *r, const char *said, const struct llm_ctx *ctx,
		 char **reply, enum llm_action *action);
/* What a rule asks for: a tool call to make first (tool set, reply NULL), or the reply. */
struct rules_answer {
	char *reply;            /* malloc'd, slots filled */
	enum llm_action action;
	const char *tool;       /* points into the rules */
	const char *tool_args;  /* JSON object */
};
/* result: the tool's result when the rule's tool has run (fills {result}), else NULL. */
int rules_respond(const struct rules *r, const char *said, const struct llm_ctx *ctx,
		  const char *result, struct rules_answer *a);
/* The tools the rules call (h once per rule with a tool:). */
void rules_tools(const struct rules *r, void (*h)(const char *tool, void *arg), void *arg);
/* Every phrase the rules listen for, for an STT grammar; callback per phrase. */
void rules_phrases(const struct rules *r, void (*h)(const char *phrase, void *arg), void *arg);
/* Lower-case words separated by single spaces, punctuation removed; malloc'd. */
char *rules_normalize(const char *s);

extern const char rules_builtin_en[];
extern const char rules_builtin_de[];
extern const char rules_builtin_es[];

#endif
