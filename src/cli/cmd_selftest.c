/* cmd_selftest.c - selftest: live checks of the SIP account, the LLM and the speech engines, for monitoring. */
#include "call/callsvc.h"
#include "call/diag.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/llm.h"
#include "store/store.h"
#include "stt/stt.h"
#include "tts/tts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Longest wait for the registrar; the check then FAILs with the last state. */
#define SIP_WAIT_MS 10000
static void report(bool ok, const char *check, int64_t ms, const char *msg)
{
	printf("%s %-7s %s (%lld ms)\n", ok ? "PASS" : "FAIL", check, msg, (long long)ms);
	fflush(stdout);
}

static int check_sip(struct cli *cli)
{
	const struct conf *c = &cli->conf;
	/* never the port of a running serve, and no call should reach us */
	struct callsvc_opts o = { .ephemeral_port = true };
	struct callsvc *cs = NULL;
	struct store *st = NULL;
	const char *state = "disabled";
	int64_t t0 = time_mono_ms(), ms;
	char msg[400], answer[96];
	bool ok;

	if (!c->sip_server || !*c->sip_server) {
		report(true, "sip", 0, "registration disabled (SIP_SERVER is empty): direct calls only");
		return 0;
	}
	int rc = cli_open_store(cli, &st); /* calls reaching the test endpoint are stored */

	if (rc)
		return rc;
	if (callsvc_start_opts(&cs, c, st, &o)) {
		report(false, "sip", time_mono_ms() - t0, "cannot start the SIP endpoint (see above)");
		store_close(st);
		return EXIT_FAIL;
	}
	while (time_mono_ms() - t0 < SIP_WAIT_MS) {
		state = callsvc_sip_state(cs);
		if (strcmp(state, "registered") == 0 || strcmp(state, "failed") == 0)
			break;
		usleep(20000);
	}
	ms = time_mono_ms() - t0;
	ok = strcmp(state, "registered") == 0;
	callsvc_sip_answer(cs, answer, sizeof(answer));
	if (ok)
		snprintf(msg, sizeof(msg), "registered to %s as %s (registrar: %s)", c->sip_server,
			 c->sip_username && *c->sip_username ? c->sip_username : "(no user)",
			 answer);
	else if (strcmp(state, "failed") == 0)
		snprintf(msg, sizeof(msg), "registrar %s refused or failed the REGISTER of %s: %s",
			 c->sip_server, c->sip_username ? c->sip_username : "", answer);
	else
		snprintf(msg, sizeof(msg), "no registration after %d s with %s (state: %s)",
			 SIP_WAIT_MS / 1000, c->sip_server, state);
	report(ok, "sip", ms, msg);
	callsvc_stop(cs); /* removes the test binding (un-REGISTER) */
	store_close(st);
	return ok ? 0 : EXIT_FAIL;
}

static bool discard(const char *text, size_t len, void *arg)
{
	(void)text;
	(void)len;
	(void)arg;
	return true;
}

/* One line of at most 100 bytes, control characters as spaces. */
static void one_line(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 4 < cap && o < 100; s++)
		dst[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	dst[o] = '\0';
	if (s && *s)
		strcat(dst, "...");
}

static int check_llm(struct cli *cli)
{
	const struct conf *c = &cli->conf;
	struct llm_msg msgs[] = {
		{ LLM_SYSTEM, c->system_prompt },
		{ LLM_USER, "This is a connection test. Please answer with one short sentence." },
	};
	struct llm *llm = NULL;
	struct llm_reply r = { 0 };
	int64_t t0 = time_mono_ms();
	char err[256] = "", msg[400], line[128];
	int rc;

	rc = llm_alloc(&llm, c, err, sizeof(err));
	if (rc) {
		report(false, "llm", time_mono_ms() - t0, err[0] ? err : strerror(rc));
		return EXIT_FAIL;
	}
	rc = llm_chat(llm, msgs, ARRAY_SIZE(msgs), NULL, discard, NULL, &r);
	if (!rc && (!r.text || !*str_trim(r.text))) {
		rc = EPROTO;
		str_copy(r.why, sizeof(r.why), "empty answer");
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "%s: %s%s%s", llm_name(llm), strerror(rc),
			 r.why[0] ? ": " : "", r.why);
	} else {
		one_line(line, sizeof(line), r.text);
		snprintf(msg, sizeof(msg), "%s answered \"%s\"", llm_name(llm), line);
	}
	report(!rc, "llm", time_mono_ms() - t0, msg);
	llm_reply_clear(&r);
	llm_free(llm);
	return rc ? EXIT_FAIL : 0;
}

/* Synthesises a sentence and recognises it back (call/diag.c, shared with the dashboard). */
static int check_roundtrip(const struct conf *c)
{
	struct diag_result r;

	diag_speech(c, &r);
	report(r.ok, "speech", r.ms, r.msg);
	return r.ok ? 0 : EXIT_FAIL;
}

static int check_speech(struct cli *cli)
{
	char msg[400];
	int64_t t0;
	int rc, fails = 0;

	t0 = time_mono_ms();
	rc = tts_selftest(&cli->conf, msg, sizeof(msg));
	report(!rc, "tts", time_mono_ms() - t0, msg);
	fails += rc != 0;
	t0 = time_mono_ms();
	rc = stt_selftest(&cli->conf, msg, sizeof(msg));
	report(!rc, "stt", time_mono_ms() - t0, msg);
	fails += rc != 0;
	if (!fails)
		fails += check_roundtrip(&cli->conf) != 0;
	return fails ? EXIT_FAIL : 0;
}

int cmd_selftest(struct cli *cli, int argc, char **argv)
{
	const char *what = "all";
	int rc, fails = 0;
	bool all;

	if (argc > 2) {
		cli_usage_error("selftest", "unexpected argument '%s'", argv[2]);
		return EXIT_USAGE;
	}
	if (argc == 2)
		what = argv[1];
	all = strcmp(what, "all") == 0;
	if (!all && strcmp(what, "sip") && strcmp(what, "llm") && strcmp(what, "speech")) {
		cli_usage_error("selftest", "unknown check '%s' (sip, llm, speech or all)", what);
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli);
	if (rc)
		return rc;
	/* engines and the SIP stack log to stderr: keep the report readable */
	log_set_level(cli->conf.log_level == CFG_LOG_DEBUG ? LOGL_DEBUG : LOGL_WARN);
	if (all || strcmp(what, "sip") == 0)
		fails += check_sip(cli) != 0;
	if (all || strcmp(what, "llm") == 0)
		fails += check_llm(cli) != 0;
	if (all || strcmp(what, "speech") == 0)
		fails += check_speech(cli) != 0;
	return fails ? EXIT_FAIL : EXIT_OK;
}
