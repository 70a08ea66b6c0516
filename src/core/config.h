/* config.h - callbot's configuration: one table of keys (SPEC §1) drives parsing,
 * validation, defaults, masking and documentation. */
#ifndef CALLBOT_CORE_CONFIG_H
#define CALLBOT_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/netaddr.h"
#include "core/ratespec.h"

enum sip_transport { SIP_TP_UDP, SIP_TP_TCP, SIP_TP_TLS };
enum srtp_mode { SRTP_OFF, SRTP_OPTIONAL, SRTP_REQUIRED };
enum bot_mode { BOT_AI, BOT_ECHO, BOT_PROMPT };
enum stt_backend { STT_POCKETSPHINX, STT_HTTP };
enum llm_backend { LLM_RULES, LLM_OLLAMA, LLM_OPENAI };
enum tts_backend { TTS_ESPEAK, TTS_FLITE, TTS_HTTP };
enum consent_mode { CONSENT_OFF, CONSENT_ANNOUNCE, CONSENT_REQUIRE };
enum log_level_cfg { CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_WARN, CFG_LOG_ERROR };

struct conf {
	/* SIP */
	char *sip_server, *sip_username, *sip_password, *sip_domain, *sip_auth_user;
	int sip_transport;
	char *sip_tls_ca, *sip_listen;
	int sip_register_expires;
	int sip_keepalive_interval;
	char *sip_allow_from;
	int srtp;
	char *rtp_ports;
	int max_calls, max_call_seconds, rtp_timeout;
	/* Dialogue */
	int bot_mode;
	char *greeting, *system_prompt, *language;
	int vad_silence_ms;
	bool barge_in;
	int barge_in_min_ms;
	bool aec;
	char *transfer_target, *outbound_allow, *tools_file;
	/* Backends */
	int stt_backend;
	char *stt_url, *stt_api_key, *stt_model;
	int llm_backend;
	char *rules_file, *ollama_url, *ollama_model, *openai_base_url, *openai_api_key,
		*openai_model;
	int llm_timeout_ms;
	int tts_backend;
	char *tts_url, *tts_voice;
	int tts_rate;
	/* Data */
	char *database_url, *audio_dir, *db_spool_dir;
	int db_queue_max;
	bool record_calls;
	char *encryption_key;
	int retention_days;
	int consent_mode;
	char *consent_notice;
	/* Web and security */
	char *web_listen, *web_tls_cert, *web_tls_key, *secret_key, *trusted_proxies;
	bool force_https;
	char *rate_limits;
	char *log_dir;
	int log_level;
	char *alert_webhook;
	char *node_id;   /* NODE_ID; empty in the file = the host name */

	/* Derived at load time. */
	struct hostport sip_server_hp, sip_listen_hp, web_listen_hp;
	int rtp_port_min, rtp_port_max;
	struct cidr *sip_allow, *proxies;
	size_t sip_allow_n, proxies_n;
	struct rate_limit rates[RATESPEC_MAX];
	size_t rates_n;
	char *path;     /* the .env file read, or NULL when none */
	char *base_dir; /* relative paths in the file resolve against its folder */
	char **warnings;
	size_t warnings_n;
};

enum conf_type { CONF_STR, CONF_SECRET, CONF_INT, CONF_BOOL, CONF_ENUM };

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *def;
	size_t offset;
	const char *const *choices; /* CONF_ENUM: NULL-terminated names, index = value */
	int min, max;               /* CONF_INT */
	int (*check)(const char *value, const char **why); /* extra syntax check */
	bool path;                  /* relative values resolve against base_dir */
	const char *help;
};

/* Loads defaults, then the .env at path (NULL: "./.env" if it exists), then the
 * process environment for the table's keys. On error returns EINVAL (or the
 * errno of reading the file) and writes one line naming the key into err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errsize);
void conf_free(struct conf *c);
/* Applies one value from another source (the dashboard's settings table) with the same
 * validation as the .env; derived values are not recomputed, so use it for plain keys. */
int conf_override(struct conf *c, const char *key, const char *value, char *err,
		  size_t errsize);

const struct conf_key *conf_keys(size_t *n);
const struct conf_key *conf_key_find(const char *name);
/* The value as an operator may see it: secrets are masked as "••••" when set. */
void conf_display(const struct conf *c, const struct conf_key *k, char *buf, size_t size);
/* Raw string form of any key's current value. */
void conf_value(const struct conf *c, const struct conf_key *k, char *buf, size_t size);

#endif
