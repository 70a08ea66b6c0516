/* tools.h - the tools the LLM may call: TOOLS_FILE webhooks (docs/tools.md) and the
 * built-ins transfer, hangup and send_dtmf, which the dialogue carries out itself.
 * Loaded once; shared read-only by every call (thread-safe). */
#ifndef CALLBOT_TOOLS_TOOLS_H
#define CALLBOT_TOOLS_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

struct store;
struct tools;

/* path "" = no file: only the built-ins. Errors name the file, the tool and the field:
 * "/etc/callbot/tools.json: tool \"lookup\": url: must start with http:// or https://". */
int tools_load(struct tools **out, const char *path, char *err, size_t errsize);
/* The same from text; where names the source in errors. */
int tools_parse(struct tools **out, const char *text, size_t len, const char *where, char *err,
		size_t errsize);
void tools_free(struct tools *t);
/* Where tool calls are audited (audit_log rows "tool_call"); NULL = nowhere. */
void tools_set_store(struct tools *t, struct store *st);

/* The definitions for the LLM (llm_ctx.tools_json): built-ins first. t may be NULL. */
const char *tools_json(const struct tools *t);
/* Webhooks in the file (not counting the built-ins). */
size_t tools_count(const struct tools *t);
/* A built-in or a file tool of that name exists. */
bool tools_has(const struct tools *t, const char *name);
bool tools_builtin(const char *name);
/* The built-in transfer's target is one the file allows (transfer_targets). */
bool tools_transfer_allowed(const struct tools *t, const char *target);

/* Runs webhook name with args (a JSON object). *result (malloc'd, always set on return)
 * is what the LLM gets back: the webhook's answer, or "error: …" saying why not.
 * Returns 0, or ENOENT (no such tool), EINVAL (bad arguments), EACCES (refused: host not
 * allowed), ETIMEDOUT, ECANCELED (*cancel became true), EPROTO (HTTP error, redirect,
 * answer too large or not text), ECONNREFUSED, ... Logs and audits every outcome. */
int tools_call(struct tools *t, const char *name, const char *args, volatile bool *cancel,
	       char **result);
/* An audit row for a built-in tool ("tool_call", details). */
void tools_audit(struct tools *t, const char *details);

#endif
