/* cmd_serve.c - serve: run the daemon until SIGTERM/SIGINT; SIGHUP reloads settings. */
#include "cli/cli.h"
#include "core/log.h"
#include "crypto/token.h"
#include "store/store.h"
#include "web/web.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

int cmd_serve(struct cli *cli, int argc, char **argv)
{
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

	rc = cli_open_store(cli, &st);
	if (rc)
		goto out;
	if (web_start(&web, &cli->conf, st, &status)) {
		rc = EXIT_FAIL;
		goto out;
	}
	log_info("serve: callbot %s started (SIP calls are not handled by this build yet; "
		 "web dashboard/API only)", CALLBOT_VERSION);
	rc = wait_for_signals(cli, web);
out:
	web_stop(web);
	store_close(st);
	log_info("serve: stopped");
	log_close();
	return rc;
}
