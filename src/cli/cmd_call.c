/* cmd_call.c - `callbot call URI`: one outbound call with the configured AI stack,
 * stored like any call; exits with the outcome. */
#include "call/callsvc.h"
#include "cli/cli.h"
#include "cli/serve_ai.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct outcome {
	atomic_bool done;
	unsigned scode;
	char status[32], reason[64];
	uint64_t id;
};

static void on_done(void *arg, uint64_t call_id, unsigned scode, const char *status,
		    const char *reason)
{
	struct outcome *o = arg;

	o->id = call_id;
	o->scode = scode;
	str_copy(o->status, sizeof(o->status), status);
	str_copy(o->reason, sizeof(o->reason), reason);
	atomic_store(&o->done, true);
}

int cmd_call(struct cli *cli, int argc, char **argv)
{
	const char *to = NULL, *purpose = NULL;
	struct callsvc_dial_params dp = {0};
	struct outcome oc = {0};
	struct serve_ai ai = {0};
	struct callsvc *cs = NULL;
	struct store *st = NULL;
	bool ai_on = false;
	sigset_t set;
	int rc, err;
	int64_t deadline;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--purpose") && i + 1 < argc) {
			purpose = argv[++i];
		} else if (!strcmp(argv[i], "--ring-timeout") && i + 1 < argc) {
			int s = atoi(argv[++i]);

			if (s < 1 || s > 300) {
				cli_usage_error("call", "--ring-timeout: 1 to 300 seconds");
				return EXIT_USAGE;
			}
			dp.ring_s = (unsigned)s;
		} else if (argv[i][0] == '-' || to) {
			cli_usage_error("call", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		} else {
			to = argv[i];
		}
	}
	if (!to) {
		cli_usage_error("call", "which number or sip: URI?");
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli);
	if (rc)
		return rc;
	log_set_level((enum log_level)cli->conf.log_level);
	if (log_open(cli->conf.log_dir)) {
		fprintf(stderr, "callbot: cannot write logs to %s (LOG_DIR)\n", cli->conf.log_dir);
		return EXIT_FAIL;
	}
	log_set_stderr(true);
	if (!callsvc_outbound_allowed(cli->conf.outbound_allow, to)) {
		log_security("outbound_refused", "call to %s is not allowed by OUTBOUND_ALLOW", to);
		fprintf(stderr, "callbot call: %s is not allowed by OUTBOUND_ALLOW\n", to);
		log_close();
		return EXIT_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	rc = cli_open_store(cli, &st);
	if (rc)
		goto out;
	rc = EXIT_FAIL;
	if (callsvc_start_opts(
		&cs, &cli->conf, st,
		&(struct callsvc_opts){.ephemeral_port = true, .no_registration = true})) {
		fprintf(stderr, "callbot call: cannot start SIP (see %s/callbot.log)\n",
			cli->conf.log_dir);
		goto out;
	}
	if (cli->conf.bot_mode == BOT_AI) {
		if (serve_ai_start(&ai, &cli->conf, cs, st)) {
			rc = EXIT_USAGE;
			goto out;
		}
		ai_on = true;
	}
	dp.to = to;
	dp.purpose = purpose;
	dp.done = on_done;
	dp.arg = &oc;
	err = callsvc_dial(cs, &dp, &oc.id);
	if (err) {
		fprintf(stderr, "callbot call: cannot call %s: %s\n", to,
			err == EPERM	? "not allowed by OUTBOUND_ALLOW"
			: err == EINVAL ? "not a number (with SIP_SERVER) or a sip: URI with an IP"
					: strerror(err));
		goto out;
	}
	/* Bounded: ringing (60 s) plus MAX_CALL_SECONDS plus slack. */
	deadline = time_mono_ms() + 70000 + (int64_t)cli->conf.max_call_seconds * 1000;
	while (!atomic_load(&oc.done) && time_mono_ms() < deadline) {
		struct timespec ts = {0, 200 * 1000 * 1000};

		if (sigtimedwait(&set, NULL, &ts) > 0) {
			log_info("call: interrupted, hanging up");
			break;
		}
	}
	callsvc_stop(cs); /* hangs up if still running, flushes the row and turns */
	cs = NULL;
	printf("call %llu to %s: %s (%s%s%u)\n", (unsigned long long)oc.id, to,
	       oc.status[0] ? oc.status : "ended", oc.reason[0] ? oc.reason : "shutdown",
	       oc.scode ? ", SIP " : ", SIP ", oc.scode);
	rc = oc.scode == 200 ? EXIT_OK : EXIT_FAIL;
out:
	callsvc_stop(cs);
	if (ai_on)
		serve_ai_stop(&ai);
	store_close(st);
	log_close();
	return rc;
}
