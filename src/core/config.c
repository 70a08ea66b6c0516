/* config.c - the configuration table, the .env/environment loader and validation. */
#include "core/config.h"
#include "core/dotenv.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

static const char *const transports[] = { "udp", "tcp", "tls", NULL };
static const char *const srtp_modes[] = { "off", "optional", "required", NULL };
static const char *const bot_modes[] = { "ai", "echo", "prompt", NULL };
static const char *const stt_backends[] = { "pocketsphinx", "http", NULL };
static const char *const llm_backends[] = { "rules", "ollama", "openai", NULL };
static const char *const tts_backends[] = { "espeak", "flite", "http", NULL };
static const char *const consent_modes[] = { "off", "announce", "require", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };

static int check_server(const char *v, const char **why)
{
	struct hostport hp;
	if (!*v)
		return 0;
	if (hostport_parse(v, &hp)) {
		*why = "expected host or host:port";
		return EINVAL;
	}
	return 0;
}

static int check_listen(const char *v, const char **why)
{
	struct hostport hp;
	if (hostport_parse(v, &hp) || !hp.port) {
		*why = "expected address:port, e.g. 127.0.0.1:5000 or [::1]:5000";
		return EINVAL;
	}
	return 0;
}

static int check_cidrs(const char *v, const char **why)
{
	struct cidr *list;
	size_t n;
	int err = cidr_list_parse(v, &list, &n);
	free(list);
	if (err)
		*why = "expected a comma-separated list of addresses or CIDR ranges (10.0.0.0/8, ::1/128)";
	return err;
}

static int parse_port_range(const char *v, int *lo, int *hi)
{
	char *end;
	long a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != '-')
		return EINVAL;
	v = end + 1;
	b = strtol(v, &end, 10);
	if (end == v || *end || a < 1024 || b > 65535 || b - a < 1)
		return EINVAL;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int check_port_range(const char *v, const char **why)
{
	int lo, hi;
	if (parse_port_range(v, &lo, &hi)) {
		*why = "expected LOW-HIGH with 1024 <= LOW < HIGH <= 65535";
		return EINVAL;
	}
	return 0;
}

static int check_url(const char *v, const char **why)
{
	const char *host;

	if (!*v)
		return 0;
	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else {
		*why = "expected an http:// or https:// URL";
		return EINVAL;
	}
	if (!*host || *host == '/') {
		*why = "the URL has no host";
		return EINVAL;
	}
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "the URL contains white space or control characters";
			return EINVAL;
		}
	}
	return 0;
}

static int check_dburl(const char *v, const char **why)
{
	if (strncmp(v, "sqlite:///", 10) == 0 && v[10]) {
		return 0;
	}
	if ((strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0))
		return 0;
	*why = "expected sqlite:///path.db or postgresql://user:pass@host:port/db";
	return EINVAL;
}

/* Fernet keys are 32 bytes in URL-safe base64; several may be listed, newest first. */
static int check_fernet_keys(const char *v, const char **why)
{
	const char *p = v;

	if (!*v)
		return 0;
	while (*p) {
		unsigned char raw[64];
		size_t len = 0, tlen;
		char tok[128];

		while (*p == ' ' || *p == ',')
			p++;
		tlen = strcspn(p, ", ");
		if (tlen == 0)
			break;
		if (tlen >= sizeof(tok) ||
		    (memcpy(tok, p, tlen), tok[tlen] = '\0',
		     sodium_base642bin(raw, sizeof(raw), tok, tlen, NULL, &len, NULL,
				       sodium_base64_VARIANT_URLSAFE) != 0) ||
		    len != 32 || tlen != 44) {
			*why = "expected one or more Fernet keys (44 characters of URL-safe base64; "
			       "make one with 'callbot gen-key')";
			return EINVAL;
		}
		p += tlen;
	}
	return 0;
}

static int check_rates(const char *v, const char **why)
{
	struct rate_limit r[RATESPEC_MAX];
	size_t n;
	if (ratespec_parse(v, r, &n)) {
		*why = "expected rules like '200 per day, 50 per hour' (second, minute, hour, day)";
		return EINVAL;
	}
	return 0;
}

static int check_transfer_target(const char *v, const char **why)
{
	if (strpbrk(v, "<>\" \t\r\n")) {
		*why = "expected a SIP URI (sip:200@pbx.example.com) or an extension (200)";
		return EINVAL;
	}
	return 0;
}

static int check_language(const char *v, const char **why)
{
	size_t i = 0;

	while (islower((unsigned char)v[i]))
		i++;
	if (i >= 2 && i <= 3 && (v[i] == '\0' ||
				 ((v[i] == '-') && isalpha((unsigned char)v[i + 1]) &&
				  isalpha((unsigned char)v[i + 2]) && v[i + 3] == '\0')))
		return 0;
	*why = "expected a language code such as en, de, es or en-GB";
	return EINVAL;
}

/* NODE_ID: stored with each call (at most 63 bytes, see store_set_node). */
static int check_node_id(const char *v, const char **why)
{
	size_t i;

	for (i = 0; v[i]; i++) {
		if (!isalnum((unsigned char)v[i]) && !strchr("._-", v[i]))
			break;
	}
	if (!v[i] && i < 64)
		return 0;
	*why = "expected at most 63 letters, digits, '.', '_' or '-'";
	return EINVAL;
}

#define O(field) offsetof(struct conf, field)
#define STR(n, f, d, chk, h) { n, CONF_STR, d, O(f), NULL, 0, 0, chk, false, h }
#define PATH(n, f, d, h) { n, CONF_STR, d, O(f), NULL, 0, 0, NULL, true, h }
#define SECRET(n, f, chk, h) { n, CONF_SECRET, "", O(f), NULL, 0, 0, chk, false, h }
#define INT(n, f, d, lo, hi, h) { n, CONF_INT, d, O(f), NULL, lo, hi, NULL, false, h }
#define BOOL(n, f, d, h) { n, CONF_BOOL, d, O(f), NULL, 0, 0, NULL, false, h }
#define ENUM(n, f, d, ch, h) { n, CONF_ENUM, d, O(f), ch, 0, 0, NULL, false, h }

static const struct conf_key keys[] = {
	STR("SIP_SERVER", sip_server, "", check_server,
	    "registrar/proxy host[:port]; empty = no registration, answer direct calls only"),
	STR("SIP_USERNAME", sip_username, "", NULL, "SIP account user name"),
	SECRET("SIP_PASSWORD", sip_password, NULL, "SIP account password (digest auth)"),
	STR("SIP_DOMAIN", sip_domain, "", NULL, "SIP account domain; default: SIP_SERVER's host"),
	STR("SIP_AUTH_USER", sip_auth_user, "", NULL, "digest auth user; default: SIP_USERNAME"),
	ENUM("SIP_TRANSPORT", sip_transport, "udp", transports, "udp, tcp or tls"),
	PATH("SIP_TLS_CA", sip_tls_ca, "", "CA file to verify the SIP TLS server; empty = system store"),
	STR("SIP_LISTEN", sip_listen, "0.0.0.0:5060", check_listen,
	    "local SIP address (default port 5061 with SIP_TRANSPORT=tls)"),
	INT("SIP_REGISTER_EXPIRES", sip_register_expires, "600", 30, 86400,
	    "registration lifetime in seconds"),
	INT("SIP_KEEPALIVE_INTERVAL", sip_keepalive_interval, "30", 0, 3600, "seconds between OPTIONS probes to SIP_SERVER while registered (2 unanswered = registration lost); 0 = off"),
	STR("SIP_ALLOW_FROM", sip_allow_from, "", check_cidrs,
	    "CIDR list allowed to send INVITE directly; empty = anyone"),
	ENUM("SRTP", srtp, "optional", srtp_modes, "off, optional or required"),
	STR("RTP_PORTS", rtp_ports, "10000-20000", check_port_range, "local RTP port range"),
	INT("MAX_CALLS", max_calls, "16", 1, 100000, "concurrent calls; above it 486 Busy Here"),
	INT("MAX_CALL_SECONDS", max_call_seconds, "600", 10, 86400, "hard limit per call"),
	INT("RTP_TIMEOUT", rtp_timeout, "60", 0, 3600,
	    "seconds without caller RTP before the call is ended (0 = never; not while on hold)"),
	ENUM("BOT_MODE", bot_mode, "ai", bot_modes, "ai, echo or prompt"),
	STR("GREETING", greeting, "Hello, this is callbot. How can I help you?", NULL,
	    "spoken after answering"),
	STR("SYSTEM_PROMPT", system_prompt,
	    "You are a friendly and helpful phone assistant. Answer in one or two short "
	    "spoken sentences, without lists or formatting.", NULL, "instructions for the LLM"),
	STR("LANGUAGE", language, "en", check_language,
	    "STT model, TTS voice and built-in rules (en, de, es)"),
	INT("VAD_SILENCE_MS", vad_silence_ms, "500", 100, 5000, "silence that ends an utterance"),
	BOOL("BARGE_IN", barge_in, "on", "caller speech stops bot playback"),
	INT("BARGE_IN_MIN_MS", barge_in_min_ms, "250", 0, 5000,
	    "speech shorter than this does not interrupt"),
	BOOL("AEC", aec, "on", "cancel the bot's own echo from the received audio"),
	STR("TRANSFER_TARGET", transfer_target, "", check_transfer_target,
	    "SIP URI or extension for transfers to a person (SIP REFER)"),
	STR("OUTBOUND_ALLOW", outbound_allow, "", NULL, "patterns outbound calls may dial"),
	PATH("TOOLS_FILE", tools_file, "", "JSON file declaring webhook tools for the LLM; empty = built-ins only"),
	ENUM("STT_BACKEND", stt_backend, "pocketsphinx", stt_backends, "pocketsphinx or http"),
	STR("STT_URL", stt_url, "", check_url, "OpenAI-compatible transcription server"),
	SECRET("STT_API_KEY", stt_api_key, NULL, "API key of the STT server"),
	STR("STT_MODEL", stt_model, "whisper-1", NULL, "model name sent to the STT server"),
	ENUM("LLM_BACKEND", llm_backend, "rules", llm_backends, "rules, ollama or openai"),
	PATH("RULES_FILE", rules_file, "", "rules for the rules backend; empty = built-in rules of LANGUAGE"),
	STR("OLLAMA_URL", ollama_url, "http://localhost:11434", check_url, "Ollama server"),
	STR("OLLAMA_MODEL", ollama_model, "llama3.2", NULL, "Ollama model"),
	STR("OPENAI_BASE_URL", openai_base_url, "https://api.openai.com/v1", check_url,
	    "OpenAI-compatible API base URL"),
	SECRET("OPENAI_API_KEY", openai_api_key, NULL, "API key for OPENAI_BASE_URL"),
	STR("OPENAI_MODEL", openai_model, "gpt-4o-mini", NULL, "model name"),
	INT("LLM_TIMEOUT_MS", llm_timeout_ms, "8000", 100, 300000, "LLM request timeout"),
	ENUM("TTS_BACKEND", tts_backend, "espeak", tts_backends, "espeak, flite or http"),
	STR("TTS_URL", tts_url, "", check_url, "OpenAI-compatible speech server"),
	STR("TTS_VOICE", tts_voice, "", NULL, "voice name; empty = the language's default"),
	INT("TTS_RATE", tts_rate, "175", 80, 450, "speaking rate in words per minute"),
	STR("DATABASE_URL", database_url, "sqlite:///callbot.db", check_dburl,
	    "sqlite:///path.db or postgresql://user:pass@host:port/db?sslmode=verify-full"),
	PATH("AUDIO_DIR", audio_dir, "audio_output", "recordings folder"),
	INT("DB_QUEUE_MAX", db_queue_max, "2000", 10, 1000000,
	    "call-row writes held in memory while the database is unavailable"),
	PATH("DB_SPOOL_DIR", db_spool_dir, "",
	     "where writes beyond DB_QUEUE_MAX wait; empty = the SQLite folder or AUDIO_DIR"),
	BOOL("RECORD_CALLS", record_calls, "on", "keep a recording of each call"),
	SECRET("ENCRYPTION_KEY", encryption_key, check_fernet_keys,
	       "Fernet key(s), newest first; transcripts and recordings are stored encrypted"),
	INT("RETENTION_DAYS", retention_days, "30", 0, 36500,
	    "purge recordings and transcripts older than this (0 = keep)"),
	ENUM("CONSENT_MODE", consent_mode, "announce", consent_modes, "off, announce or require"),
	STR("CONSENT_NOTICE", consent_notice,
	    "This call is answered by an automated assistant and may be recorded and transcribed.",
	    NULL, "spoken before the greeting when CONSENT_MODE is not off"),
	STR("WEB_LISTEN", web_listen, "127.0.0.1:5000", check_listen, "dashboard and API address"),
	PATH("WEB_TLS_CERT", web_tls_cert, "", "certificate for direct HTTPS"),
	PATH("WEB_TLS_KEY", web_tls_key, "", "private key for direct HTTPS"),
	SECRET("SECRET_KEY", secret_key, NULL, "signs sessions and CSRF tokens (32+ random bytes)"),
	STR("TRUSTED_PROXIES", trusted_proxies, "127.0.0.1/32,::1/128", check_cidrs,
	    "peers allowed to set X-Forwarded-For, X-Real-IP, X-Forwarded-Proto"),
	BOOL("FORCE_HTTPS", force_https, "on", "redirect proxied plain HTTP to HTTPS; HSTS"),
	STR("RATE_LIMITS", rate_limits, "200 per day, 50 per hour", check_rates,
	    "per client address for /api/*"),
	PATH("LOG_DIR", log_dir, "logs", "access.log and callbot.log"),
	ENUM("LOG_LEVEL", log_level, "info", log_levels, "debug, info, warn or error"),
	STR("ALERT_WEBHOOK", alert_webhook, "", check_url, "URL receiving JSON alert events"),
	STR("NODE_ID", node_id, "", check_node_id,
	    "this node's name, stored with each call; empty = the host name"),
};

const struct conf_key *conf_keys(size_t *n)
{
	*n = ARRAY_SIZE(keys);
	return keys;
}

const struct conf_key *conf_key_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

#define FIELD(c, k, type) ((type *)(void *)((char *)(c) + (k)->offset))

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}

static int parse_enum(const char *v, const char *const *choices, int *out)
{
	for (int i = 0; choices[i]; i++) {
		if (strcasecmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	/* Python's logging spells it WARNING. */
	if (choices == log_levels && strcasecmp(v, "warning") == 0) {
		*out = CFG_LOG_WARN;
		return 0;
	}
	return EINVAL;
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || errno)
		return EINVAL;
	if (n < lo || n > hi)
		return ERANGE;
	*out = (int)n;
	return 0;
}

/* gettext's LANGUAGE ("en_US:en", "de_DE.UTF-8") may be in the environment. */
static void normalize_language(const char *v, char *buf, size_t size)
{
	size_t i = 0;

	for (; *v && *v != ':' && *v != '.' && *v != '@' && i + 1 < size; v++)
		buf[i++] = *v == '_' ? '-' : *v;
	buf[i] = '\0';
	for (i = 0; buf[i] && buf[i] != '-'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
}

static void quote_for_error(const struct conf_key *k, const char *v, char *buf, size_t size)
{
	size_t n = 0;

	if (k->type == CONF_SECRET) {
		snprintf(buf, size, "the value");
		return;
	}
	buf[n++] = '\'';
	for (; *v && n + 6 < size; v++)
		buf[n++] = ((unsigned char)*v < 0x20) ? '?' : *v;
	if (*v && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}

static int conf_apply(struct conf *c, const struct conf_key *k, const char *value,
		      const char *where, char *err, size_t errsize)
{
	const char *why = NULL;
	char shown[64], lang[32];
	int rc = 0;

	switch (k->type) {
	case CONF_STR:
	case CONF_SECRET:
		if (k->offset == O(language)) {
			normalize_language(value, lang, sizeof(lang));
			value = lang;
		}
		if (k->check && k->check(value, &why))
			rc = EINVAL;
		if (!rc) {
			char *dup = strdup(value);
			if (!dup)
				return ENOMEM;
			free(*FIELD(c, k, char *));
			*FIELD(c, k, char *) = dup;
		}
		break;
	case CONF_INT:
		rc = parse_int(value, k->min, k->max, FIELD(c, k, int));
		if (rc == EINVAL)
			why = "is not a whole number";
		else if (rc == ERANGE)
			why = "is out of range";
		break;
	case CONF_BOOL:
		rc = parse_bool(value, FIELD(c, k, bool));
		why = "expected on or off";
		break;
	case CONF_ENUM:
		rc = parse_enum(value, k->choices, FIELD(c, k, int));
		why = "is not one of the allowed values";
		break;
	}
	if (!rc)
		return 0;

	quote_for_error(k, value, shown, sizeof(shown));
	if (k->type == CONF_INT && rc == ERANGE)
		snprintf(err, errsize, "%s: %s is out of range (%d to %d) (%s)", k->name, shown,
			 k->min, k->max, where);
	else if (k->type == CONF_ENUM) {
		char allowed[128] = "";
		for (int i = 0; k->choices[i]; i++) {
			strncat(allowed, i ? ", " : "", sizeof(allowed) - strlen(allowed) - 1);
			strncat(allowed, k->choices[i], sizeof(allowed) - strlen(allowed) - 1);
		}
		snprintf(err, errsize, "%s: %s is not one of %s (%s)", k->name, shown, allowed, where);
	} else if (k->type == CONF_INT)
		snprintf(err, errsize, "%s: %s is not a whole number (%s)", k->name, shown, where);
	else
		snprintf(err, errsize, "%s: %s: %s (%s)", k->name, shown, why, where);
	return EINVAL;
}

static int add_warning(struct conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_warning(struct conf *c, const char *fmt, ...)
{
	char buf[512], **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nw = realloc(c->warnings, (c->warnings_n + 1) * sizeof(*nw));
	if (!nw)
		return ENOMEM;
	c->warnings = nw;
	nw[c->warnings_n] = strdup(buf);
	if (!nw[c->warnings_n])
		return ENOMEM;
	c->warnings_n++;
	return 0;
}

/* Keys of the Python CallBot that mean nothing here: warned about, then ignored. */
static bool legacy_ignored(const char *key)
{
	static const char *const names[] = {
		"FLASK_ENV", "FLASK_APP", "FLASK_DEBUG", "DEBUG", "TESTING", "REDIS_URL",
		"AUDIO_CHUNK_DURATION", "AUDIO_SAMPLE_RATE", "DOMAIN", "SSL_CERT_VALIDITY_DAYS",
		"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
	};
	if (strncmp(key, "WHISPER_", 8) == 0 || strncmp(key, "COQUI_", 6) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(key, names[i]) == 0)
			return true;
	}
	return false;
}

static bool is_alias(const char *key)
{
	static const char *const names[] = { "SIP_PORT", "WEB_HOST", "WEB_PORT", "TTS_ENGINE",
					     "AUDIO_OUTPUT_DIR", "LOG_FILE" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(key, names[i]) == 0)
			return true;
	}
	return false;
}

static void unknown_key_error(const char *key, unsigned line, char *err, size_t errsize)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		unsigned d = str_distance(key, keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	if (best)
		snprintf(err, errsize, "%s: unknown key (.env line %u); did you mean %s?", key, line,
			 best);
	else
		snprintf(err, errsize, "%s: unknown key (.env line %u)", key, line);
}

/* Translates the Python CallBot's keys into ours, unless ours are set. */
static int apply_aliases(struct conf *c, const struct dotenv *env, char *err, size_t errsize)
{
	const struct dotenv_entry *e, *e2;
	char buf[512], where[64];
	int rc = 0;

	e = dotenv_find(env, "SIP_DOMAIN");
	e2 = dotenv_find(env, "SIP_PORT");
	if (!dotenv_find(env, "SIP_SERVER") && e && e->value[0] && dotenv_find(env, "SIP_USERNAME")) {
		snprintf(buf, sizeof(buf), "%s%s%s", e->value, e2 ? ":" : "", e2 ? e2->value : "");
		snprintf(where, sizeof(where), "SIP_DOMAIN/SIP_PORT, .env line %u", e->line);
		rc = conf_apply(c, conf_key_find("SIP_SERVER"), buf, where, err, errsize);
		if (rc)
			return rc;
	}
	e = dotenv_find(env, "WEB_HOST");
	e2 = dotenv_find(env, "WEB_PORT");
	if (!dotenv_find(env, "WEB_LISTEN") && (e || e2)) {
		const char *host = e ? e->value : "127.0.0.1";
		bool v6 = strchr(host, ':') != NULL;
		snprintf(buf, sizeof(buf), v6 ? "[%s]:%s" : "%s:%s", host, e2 ? e2->value : "5000");
		snprintf(where, sizeof(where), "WEB_HOST/WEB_PORT, .env line %u", (e ? e : e2)->line);
		rc = conf_apply(c, conf_key_find("WEB_LISTEN"), buf, where, err, errsize);
		if (rc)
			return rc;
	}
	e = dotenv_find(env, "TTS_ENGINE");
	if (e && !dotenv_find(env, "TTS_BACKEND")) {
		int v;
		if (strcasecmp(e->value, "espeak-ng") == 0 || strcasecmp(e->value, "espeak_ng") == 0)
			v = TTS_ESPEAK;
		else if (parse_enum(e->value, tts_backends, &v))
			v = -1;
		if (v < 0) {
			rc = add_warning(c, "TTS_ENGINE=%.40s is not available in callbot; using espeak "
					 "(set TTS_BACKEND)", e->value);
			v = TTS_ESPEAK;
		}
		c->tts_backend = v;
	}
	e = dotenv_find(env, "AUDIO_OUTPUT_DIR");
	if (e && !dotenv_find(env, "AUDIO_DIR")) {
		snprintf(where, sizeof(where), "AUDIO_OUTPUT_DIR, .env line %u", e->line);
		rc = conf_apply(c, conf_key_find("AUDIO_DIR"), e->value, where, err, errsize);
	}
	e = dotenv_find(env, "LOG_FILE");
	if (!rc && e && !dotenv_find(env, "LOG_DIR")) {
		char *dir = path_dirname(e->value);
		if (!dir)
			return ENOMEM;
		snprintf(where, sizeof(where), "LOG_FILE, .env line %u", e->line);
		rc = conf_apply(c, conf_key_find("LOG_DIR"), dir, where, err, errsize);
		free(dir);
	}
	return rc;
}

static int apply_file(struct conf *c, const struct dotenv *env, char *err, size_t errsize)
{
	char where[32];
	int rc;

	for (size_t i = 0; i < env->n; i++) {
		const struct dotenv_entry *e = &env->v[i];
		const struct conf_key *k = conf_key_find(e->key);

		if (k) {
			snprintf(where, sizeof(where), ".env line %u", e->line);
			rc = conf_apply(c, k, e->value, where, err, errsize);
		} else if (is_alias(e->key)) {
			rc = 0;
		} else if (legacy_ignored(e->key)) {
			rc = add_warning(c, "%s (.env line %u) is a Python CallBot setting that "
					 "callbot does not use; ignored", e->key, e->line);
		} else {
			unknown_key_error(e->key, e->line, err, errsize);
			rc = EINVAL;
		}
		if (rc)
			return rc;
	}
	return apply_aliases(c, env, err, errsize);
}

static int apply_environment(struct conf *c, char *err, size_t errsize)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = getenv(keys[i].name);
		int rc;

		if (!v)
			continue;
		rc = conf_apply(c, &keys[i], v, "environment", err, errsize);
		if (rc)
			return rc;
	}
	return 0;
}

static int fill_default(struct conf *c, const char *name, const char *value)
{
	char **f = FIELD(c, conf_key_find(name), char *);

	if (**f)
		return 0;
	free(*f);
	*f = strdup(value);
	return *f ? 0 : ENOMEM;
}

static int resolve_paths(struct conf *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char **f, *joined;

		if (!keys[i].path)
			continue;
		f = FIELD(c, &keys[i], char *);
		if (!**f || (*f)[0] == '/')
			continue;
		joined = path_join(c->base_dir, *f);
		if (!joined)
			return ENOMEM;
		free(*f);
		*f = joined;
	}
	return 0;
}

/* The host name as a NODE_ID (cut at the first character NODE_ID refuses). */
static const char *host_name(char *buf, size_t size)
{
	size_t i;

	if (gethostname(buf, size) != 0)
		buf[0] = '\0';
	buf[size - 1] = '\0';
	for (i = 0; buf[i] && i < 63; i++) {
		if (!isalnum((unsigned char)buf[i]) && !strchr("._-", buf[i]))
			break;
	}
	buf[i] = '\0';
	return buf[0] ? buf : "callbot";
}

/* Values that depend on other keys, and checks that span several keys. */
static int derive(struct conf *c, bool listen_set, char *err, size_t errsize)
{
	char hostname[256];
	int rc;

	if (c->sip_transport == SIP_TP_TLS && !listen_set) {
		free(c->sip_listen);
		c->sip_listen = strdup("0.0.0.0:5061");
		if (!c->sip_listen)
			return ENOMEM;
	}
	hostport_parse(c->sip_listen, &c->sip_listen_hp);
	hostport_parse(c->web_listen, &c->web_listen_hp);
	hostport_parse(c->sip_server, &c->sip_server_hp);
	if ((rc = fill_default(c, "SIP_DOMAIN", c->sip_server_hp.host)) ||
	    (rc = fill_default(c, "SIP_AUTH_USER", c->sip_username)) ||
	    (rc = fill_default(c, "NODE_ID", host_name(hostname, sizeof(hostname)))))
		return rc;
	parse_port_range(c->rtp_ports, &c->rtp_port_min, &c->rtp_port_max);
	if ((rc = cidr_list_parse(c->sip_allow_from, &c->sip_allow, &c->sip_allow_n)) ||
	    (rc = cidr_list_parse(c->trusted_proxies, &c->proxies, &c->proxies_n)))
		return rc;
	ratespec_parse(c->rate_limits, c->rates, &c->rates_n);

	if (c->stt_backend == STT_HTTP && !*c->stt_url) {
		snprintf(err, errsize, "STT_URL: required when STT_BACKEND=http");
		return EINVAL;
	}
	if (c->tts_backend == TTS_HTTP && !*c->tts_url) {
		snprintf(err, errsize, "TTS_URL: required when TTS_BACKEND=http");
		return EINVAL;
	}
	if (!*c->web_tls_cert != !*c->web_tls_key) {
		snprintf(err, errsize, "%s: required when %s is set",
			 *c->web_tls_cert ? "WEB_TLS_KEY" : "WEB_TLS_CERT",
			 *c->web_tls_cert ? "WEB_TLS_CERT" : "WEB_TLS_KEY");
		return EINVAL;
	}
	if (c->sip_password[0] && !c->sip_username[0]) {
		snprintf(err, errsize, "SIP_USERNAME: required when SIP_PASSWORD is set");
		return EINVAL;
	}
	return resolve_paths(c);
}

int conf_load(struct conf *c, const char *path, char *err, size_t errsize)
{
	struct dotenv env = { 0 };
	bool listen_set;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (sodium_init() < 0)
		return ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		rc = conf_apply(c, &keys[i], keys[i].def, "default", err, errsize);
		if (rc)
			goto out;
	}
	if (!path && access(".env", F_OK) == 0)
		path = ".env";
	if (path) {
		rc = dotenv_load(path, &env, err, errsize);
		if (rc)
			goto out;
		c->path = strdup(path);
		c->base_dir = path_dirname(path);
		if (!c->path || !c->base_dir) {
			rc = ENOMEM;
			goto out;
		}
		rc = apply_file(c, &env, err, errsize);
		if (rc)
			goto out;
	} else {
		c->base_dir = strdup(".");
	}
	rc = apply_environment(c, err, errsize);
	if (rc)
		goto out;
	listen_set = dotenv_find(&env, "SIP_LISTEN") || getenv("SIP_LISTEN");
	rc = derive(c, listen_set, err, errsize);
out:
	dotenv_free(&env);
	if (rc)
		conf_free(c);
	return rc;
}

int conf_override(struct conf *c, const char *key, const char *value, char *err,
		  size_t errsize)
{
	const struct conf_key *k = conf_key_find(key);

	if (!k) {
		snprintf(err, errsize, "%s: unknown key", key);
		return EINVAL;
	}
	return conf_apply(c, k, value, "settings", err, errsize);
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].type == CONF_STR || keys[i].type == CONF_SECRET) {
			char **f = FIELD(c, &keys[i], char *);
			if (keys[i].type == CONF_SECRET && *f)
				sodium_memzero(*f, strlen(*f));
			free(*f);
			*f = NULL;
		}
	}
	for (size_t i = 0; i < c->warnings_n; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->sip_allow);
	free(c->proxies);
	free(c->path);
	free(c->base_dir);
	memset(c, 0, sizeof(*c));
}

void conf_value(const struct conf *c, const struct conf_key *k, char *buf, size_t size)
{
	switch (k->type) {
	case CONF_STR:
	case CONF_SECRET:
		snprintf(buf, size, "%s", *FIELD(c, k, char *) ? *FIELD(c, k, char *) : "");
		break;
	case CONF_INT:
		snprintf(buf, size, "%d", *FIELD(c, k, int));
		break;
	case CONF_BOOL:
		snprintf(buf, size, "%s", *FIELD(c, k, bool) ? "on" : "off");
		break;
	case CONF_ENUM:
		snprintf(buf, size, "%s", k->choices[*FIELD(c, k, int)]);
		break;
	}
}

void conf_display(const struct conf *c, const struct conf_key *k, char *buf, size_t size)
{
	if (k->type == CONF_SECRET) {
		const char *v = *FIELD(c, k, char *);
		snprintf(buf, size, "%s", v && *v ? "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2" : "");
		return;
	}
	conf_value(c, k, buf, size);
}
