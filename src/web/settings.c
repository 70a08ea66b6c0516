/* settings.c - dashboard-editable settings: a fixed allow-list, validated by the config table. */
#include "web/settings.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Secrets, addresses, paths, security and compliance keys stay in .env only. */
static const char *const editable[] = {
	"GREETING", "SYSTEM_PROMPT", "LANGUAGE", "VAD_SILENCE_MS", "BARGE_IN", "BARGE_IN_MIN_MS",
	"AEC", "BOT_MODE", "STT_BACKEND", "STT_URL", "STT_MODEL", "LLM_BACKEND", "OLLAMA_URL",
	"OLLAMA_MODEL", "OPENAI_BASE_URL", "OPENAI_MODEL", "LLM_TIMEOUT_MS", "TTS_BACKEND",
	"TTS_URL", "TTS_VOICE", "TTS_RATE", "CONSENT_NOTICE", "TRANSFER_TARGET",
	"MAX_CALL_SECONDS",
};

bool setting_editable(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(editable); i++)
		if (strcmp(editable[i], key) == 0)
			return true;
	return false;
}

static int norm_int(const struct conf_key *k, const char *v, char *out, size_t cap,
		    const char **why)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || strlen(v) > 10) {
		*why = "is not a whole number";
		return EINVAL;
	}
	if (n < k->min || n > k->max) {
		*why = "is out of range";
		return EINVAL;
	}
	snprintf(out, cap, "%ld", n);
	return 0;
}

static int norm_bool(const char *v, char *out, size_t cap, const char **why)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return str_copy(out, cap, "on");
		if (strcasecmp(v, no[i]) == 0)
			return str_copy(out, cap, "off");
	}
	*why = "expected on or off";
	return EINVAL;
}

static int norm_enum(const struct conf_key *k, const char *v, char *out, size_t cap,
		     const char **why)
{
	for (size_t i = 0; k->choices[i]; i++)
		if (strcasecmp(v, k->choices[i]) == 0)
			return str_copy(out, cap, k->choices[i]);
	*why = "is not one of the allowed values";
	return EINVAL;
}

int setting_normalize(const struct conf_key *k, const char *value, char *out, size_t cap,
		      const char **why)
{
	size_t n = strlen(value);

	*why = NULL;
	if (n > SETTING_VALUE_MAX || !utf8_valid(value, n)) {
		*why = "is too long or not UTF-8";
		return EINVAL;
	}
	for (const char *c = value; *c; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t') {
			*why = "contains control characters";
			return EINVAL;
		}
	}
	switch (k->type) {
	case CONF_INT:
		return norm_int(k, value, out, cap, why);
	case CONF_BOOL:
		return norm_bool(value, out, cap, why);
	case CONF_ENUM:
		return norm_enum(k, value, out, cap, why);
	case CONF_STR:
		if (k->check && k->check(value, why))
			return EINVAL;
		return str_copy(out, cap, value) ? (*why = "is too long", EINVAL) : 0;
	case CONF_SECRET:
		break;
	}
	*why = "cannot be changed from the dashboard";
	return EINVAL;
}
