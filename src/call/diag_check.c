/* diag_check.c - the first-run checklist (admin password, SIP account, backends, HTTPS):
 * the facts behind `callbot check`'s matching lines and the dashboard's checklist. */
#include "call/diag.h"
#include "core/config.h"
#include "core/dotenv.h"
#include "core/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const backend_keys[] = {"STT_BACKEND", "LLM_BACKEND", "TTS_BACKEND"};

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

/* Audit actions that change a password: `user passwd` and the dashboard's user update. */
struct pw_scan {
	struct store *st;
	bool changed;
	char who[64];
};

static bool is_admin(struct store *st, const char *name)
{
	struct store_user u;

	return name[0] && !store_user_get(st, name, &u) && strcmp(u.role, "admin") == 0;
}

static int scan_audit(struct store_audit_row *r, void *arg)
{
	struct pw_scan *s = arg;
	char name[64] = "";

	if (strcmp(r->action, "user_passwd") == 0 && r->details)
		sscanf(r->details, "user passwd %63s", name);
	else if (strcmp(r->action, "user_update") == 0 && r->details &&
		 strstr(r->details, "\"password\"")) {
		const char *p = strstr(r->details, "\"username\":\"");

		if (p)
			sscanf(p + 12, "%63[^\"]", name);
	}
	if (is_admin(s->st, name)) {
		s->changed = true;
		str_copy(s->who, sizeof(s->who), name);
		return 1; /* found: stop */
	}
	return 0;
}

static void item_admin_password(struct store *st, struct diag_check *it)
{
	struct pw_scan s = {.st = st};
	int64_t total = 0;

	if (!st) {
		str_copy(it->detail, sizeof(it->detail), "the database is not available");
		return;
	}
	/* newest first, bounded: a busy audit log is not read whole on every page load */
	store_audit_list(st, 0, 5000, scan_audit, &s, &total);
	it->done = s.changed;
	if (s.changed)
		snprintf(it->detail, sizeof(it->detail), "the password of admin '%s' was changed",
			 s.who);
	else
		str_copy(it->detail, sizeof(it->detail),
			 "still the password printed by callbot init; fix: change it under Users "
			 "or with callbot user passwd admin");
}

static void item_sip(const struct conf *c, struct diag_check *it)
{
	it->done = c->sip_server[0] && c->sip_username[0];
	if (it->done)
		snprintf(it->detail, sizeof(it->detail), "registering %s at %s", c->sip_username,
			 c->sip_server);
	else if (c->sip_server[0])
		str_copy(it->detail, sizeof(it->detail),
			 "SIP_SERVER is set but SIP_USERNAME is empty; fix: set "
			 "SIP_USERNAME (and SIP_PASSWORD)");
	else
		str_copy(it->detail, sizeof(it->detail),
			 "no SIP_SERVER: only direct calls are answered; fix: set SIP_SERVER, "
			 "SIP_USERNAME and SIP_PASSWORD of the PBX or trunk account");
}

/* Chosen: a backend key set in the .env file or in the dashboard's settings. */
static bool backend_chosen(const struct conf *c, struct store *st)
{
	struct dotenv env = {0};
	char err[160];
	bool found = false;

	if (c->path && !dotenv_load(c->path, &env, err, sizeof(err))) {
		for (size_t i = 0; i < ARRAY_SIZE(backend_keys) && !found; i++)
			found = dotenv_find(&env, backend_keys[i]) != NULL;
		dotenv_free(&env);
	}
	for (size_t i = 0; i < ARRAY_SIZE(backend_keys) && !found && st; i++) {
		char *v = NULL;

		found = !store_setting_get(st, backend_keys[i], &v) && v;
		free(v);
	}
	return found;
}

static void item_backends(const struct conf *c, struct store *st, struct diag_check *it)
{
	static const char *const stt[] = {"pocketsphinx", "http"};
	static const char *const llm[] = {"rules", "ollama", "openai"};
	static const char *const tts[] = {"espeak", "flite", "http"};

	it->done = c->llm_backend != LLM_RULES || backend_chosen(c, st);
	snprintf(it->detail, sizeof(it->detail), "STT %s, LLM %s, TTS %s%s",
		 stt[c->stt_backend % 2], llm[c->llm_backend % 3], tts[c->tts_backend % 3],
		 it->done
		     ? ""
		     : " (the defaults: the built-in rules answer, no language model); fix: "
		       "choose LLM_BACKEND (and STT_BACKEND, TTS_BACKEND) in Settings or the .env");
}

static void item_https(const struct conf *c, bool via_https, struct diag_check *it)
{
	if (c->web_tls_cert[0]) {
		it->done = true;
		str_copy(it->detail, sizeof(it->detail), "served directly with WEB_TLS_CERT");
	} else if (via_https) {
		it->done = true;
		str_copy(it->detail, sizeof(it->detail),
			 "this dashboard is reached over HTTPS through a proxy");
	} else if (is_loopback(c->web_listen_hp.host)) {
		snprintf(
		    it->detail, sizeof(it->detail),
		    "dashboard on loopback only (%s); for remote access put nginx with HTTPS in "
		    "front (contrib/nginx) and set FORCE_HTTPS=on",
		    c->web_listen);
	} else {
		snprintf(it->detail, sizeof(it->detail),
			 "plain HTTP on %s; fix: WEB_TLS_CERT/WEB_TLS_KEY, or "
			 "WEB_LISTEN=127.0.0.1:5000 behind nginx with HTTPS",
			 c->web_listen);
	}
}

void diag_checklist(const struct conf *c, struct store *st, bool via_https,
		    struct diag_check *items)
{
	static const char *const ids[DIAG_ITEMS] = {"admin_password", "sip_account", "backends",
						    "https"};
	static const char *const titles[DIAG_ITEMS] = {"Change the admin password",
						       "Set the SIP account", "Choose the backends",
						       "Enable HTTPS"};

	for (int i = 0; i < DIAG_ITEMS; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].id = ids[i];
		items[i].title = titles[i];
	}
	item_admin_password(st, &items[DIAG_ADMIN_PASSWORD]);
	item_sip(c, &items[DIAG_SIP_ACCOUNT]);
	item_backends(c, st, &items[DIAG_BACKENDS]);
	item_https(c, via_https, &items[DIAG_HTTPS]);
}
