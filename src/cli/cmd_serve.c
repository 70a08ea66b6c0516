/* cmd_serve.c - serve: run the daemon until SIGTERM/SIGINT; SIGHUP reloads settings. */
#include "call/callsvc.h"
#include "cli/cli.h"
#include "cli/serve_ai.h"
#include "core/alert.h"
#include "core/log.h"
#include "core/util.h"
#include "crypto/token.h"
#include "store/data.h"
#include "store/store.h"
#include "web/settings.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Settings that may change without a restart: for now the log level. */
static void reload(struct cli *cli, struct web *web)
{
	struct conf fresh;
	char err[512];

	if (conf_load(&fresh, cli->config_path, err, sizeof(err))) {
		log_error("reload: configuration not applied: %s", err);
		return;
	}
	log_set_level((enum log_level)fresh.log_level);
	conf_free(&fresh);
	if (web_reopen_logs(web))
		log_warn("reload: cannot reopen access.log");
	if (log_open(cli->conf.log_dir))
		log_warn("reload: cannot reopen callbot.log");
	log_info("reload: settings reloaded, log files reopened");
}

static int refuse_weak_secret(const struct conf *c)
{
	const char *why = NULL;

	if (secret_is_strong(c->secret_key, &why))
		return 0;
	log_security("weak_config", "SECRET_KEY %s; refusing to start", why ? why : "is weak");
	fprintf(stderr, "callbot: config: SECRET_KEY: %s; set SECRET_KEY=$(callbot gen-secret) "
			"(or run 'callbot init')\n", why ? why : "weak");
	return EXIT_USAGE;
}

static int wait_for_signals(struct cli *cli, struct web *web)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			return EXIT_FAIL;
		if (sig == SIGHUP) {
			reload(cli, web);
			continue;
		}
		log_info("serve: %s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return EXIT_OK;
	}
}

/* Dashboard settings override the .env for their keys (docs/web.md). */
static int apply_one_setting(struct store_setting *s, void *arg)
{
	struct conf *c = arg;
	char err[256];

	if (!setting_editable(s->key))
		return 0;
	if (conf_override(c, s->key, s->value ? s->value : "", err, sizeof(err)))
		log_warn("serve: dashboard setting ignored: %s", err);
	return 0;
}

/* Where people reach this instance, printed once at start (no traffic: interface list). */
static void print_how_to_call(const struct conf *c)
{
	struct ifaddrs *ifs = NULL;
	char addr[INET_ADDRSTRLEN];
	bool any = strcmp(c->sip_listen_hp.host, "0.0.0.0") == 0;

	printf("callbot is running. Dashboard: http%s://%s/\n", c->web_tls_cert[0] ? "s" : "",
	       c->web_listen);
	if (!any || getifaddrs(&ifs) != 0) {
		printf("Call it: sip:callbot@%s:%u\n", c->sip_listen_hp.host, c->sip_listen_hp.port);
		fflush(stdout);
		return;
	}
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, addr,
			  sizeof(addr));
		printf("Call it: sip:callbot@%s:%u%s\n", addr, c->sip_listen_hp.port,
		       strncmp(addr, "127.", 4) == 0 ? " (from this machine)" : "");
	}
	freeifaddrs(ifs);
	fflush(stdout);
}

struct serve {
	struct callsvc *calls;
	struct serve_ai ai;
	bool ai_on;
};

static const char *sip_state(void *arg)
{
	return callsvc_sip_state(((struct serve *)arg)->calls);
}

/* POST /api/calls: OUTBOUND_ALLOW (EPERM, 403), MAX_CALLS (EBUSY, 503) are checked by
 * callsvc_dial; the web route audits. The call's row id is not known yet: 0. */
static int originate(void *arg, const char *to, const char *purpose, int64_t *call_id)
{
	struct callsvc_dial_params p = { .to = to, .purpose = purpose };

	*call_id = 0;
	return callsvc_dial(((struct serve *)arg)->calls, &p, NULL);
}

static int test_llm(void *arg, const char *backend, char **answer, int *latency_ms)
{
	return serve_ai_test_llm(&((struct serve *)arg)->ai, backend, answer, latency_ms);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve sv = { 0 };
	struct retention *retention = NULL;
	struct web_status status = { 0 };
	struct store *st = NULL;
	struct web *web = NULL;
	sigset_t set;
	int rc;

	(void)argv;
	if (argc > 1) {
		cli_usage_error("serve", "takes no arguments");
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli);
	if (rc)
		return rc;
	log_set_level((enum log_level)cli->conf.log_level);
	rc = log_open(cli->conf.log_dir);
	if (rc) {
		fprintf(stderr, "callbot: cannot write logs to %s (LOG_DIR): %s\n", cli->conf.log_dir,
			strerror(rc));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < cli->conf.warnings_n; i++)
		log_warn("config: %s", cli->conf.warnings[i]);
	rc = refuse_weak_secret(&cli->conf);
	if (rc)
		goto out;

	/* Block the signals before any thread starts, so only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	alert_start(&cli->conf); /* before other threads: it initialises libcurl */

	rc = cli_open_store(cli, &st);
	if (rc)
		goto out;
	/* Before SIP starts, or it would close brand-new calls. */
	if (store_close_crashed_calls(st, NULL, NULL))
		log_warn("serve: cannot close the calls left open by a crash");
	alert_watch_disk(cli->conf.audio_dir);
	alert_watch_disk(cli->conf.log_dir);
	if (store_path(st)) {
		char *dir = path_dirname(store_path(st));
		if (dir)
			alert_watch_disk(dir);
		free(dir);
	}
	store_setting_list(st, apply_one_setting, &cli->conf);
	if (callsvc_start(&sv.calls, &cli->conf, st)) {
		fprintf(stderr, "callbot: cannot start SIP (see %s/callbot.log)\n",
			cli->conf.log_dir);
		rc = EXIT_FAIL;
		goto out;
	}
	sv.ai.conf = &cli->conf;
	if (cli->conf.bot_mode == BOT_AI) {
		if (serve_ai_start(&sv.ai, &cli->conf, sv.calls, st)) {
			rc = EXIT_USAGE;
			goto out;
		}
		sv.ai_on = true;
	}
	if (retention_start(&retention, &cli->conf, st))
		log_warn("serve: automatic retention is not running (RETENTION_DAYS)");
	status.sip_state = sip_state;
	status.test_llm = test_llm;
	status.originate = originate;
	/* status.active_calls stays NULL: the web lists the calls rows that are in
	 * progress, which carry the ids its links need and work across nodes. */
	status.arg = &sv;
	if (web_start(&web, &cli->conf, st, &status)) {
		rc = EXIT_FAIL;
		goto out;
	}
	__atomic_store_n(&sv.ai.web, web, __ATOMIC_RELEASE);
	log_info("serve: callbot %s started", CALLBOT_VERSION);
	print_how_to_call(&cli->conf);
	alert_emit("serve_started", "{\"version\":\"" CALLBOT_VERSION "\"}");
	rc = wait_for_signals(cli, web);
	alert_emit("serve_stopping", NULL);
out:
	__atomic_store_n(&sv.ai.web, NULL, __ATOMIC_RELEASE);
	web_stop(web);          /* first: the web reads the call service's state */
	callsvc_stop(sv.calls); /* BYE active calls, drain the pipeline, flush rows */
	if (sv.ai_on)
		serve_ai_stop(&sv.ai);
	retention_stop(retention);
	alert_stop();
	store_close(st);
	log_info("serve: stopped");
	log_close();
	return rc;
}
