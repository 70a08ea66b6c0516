/* serve_ai.c - builds the AI stack for `serve` and answers the LLM self-test. */
#include "cli/serve_ai.h"
#include "call/callsvc.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/llm.h"
#include "pipeline/pipeline.h"
#include "stt/stt.h"
#include "tools/tools.h"
#include "tts/tts.h"
#include "web/web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void observe(void *arg, int ms)
{
	struct serve_ai *ai = arg;
	struct web *w = __atomic_load_n(&ai->web, __ATOMIC_ACQUIRE);

	if (w)
		web_observe_response_ms(w, ms);
}

static int fail(struct serve_ai *ai, const char *what, const char *err)
{
	log_error("serve: %s: %s", what, err);
	fprintf(stderr, "callbot: %s: %s\n", what, err);
	serve_ai_stop(ai);
	return EINVAL;
}

struct tool_check {
	const struct tools *tools;
	char missing[64];
};

static void check_tool(const char *tool, void *arg)
{
	struct tool_check *tc = arg;

	if (!tc->missing[0] && !tools_has(tc->tools, tool))
		str_copy(tc->missing, sizeof(tc->missing), tool);
}

int serve_ai_start(struct serve_ai *ai, const struct conf *c, struct callsvc *cs,
		   struct store *st)
{
	struct pipeline_deps d = { 0 };
	struct tool_check tc = { 0 };
	struct media_handler h;
	char err[512] = "";
	int rc;

	memset(ai, 0, sizeof(*ai));
	ai->conf = c;
	if ((rc = stt_engine_alloc(&ai->stt, c, err, sizeof(err))))
		return fail(ai, "speech recognition (STT_BACKEND)", err[0] ? err : strerror(rc));
	if ((rc = llm_alloc(&ai->llm, c, err, sizeof(err))))
		return fail(ai, "dialogue (LLM_BACKEND)", err[0] ? err : strerror(rc));
	if ((rc = tts_engine_alloc(&ai->tts, c, err, sizeof(err))))
		return fail(ai, "speech synthesis (TTS_BACKEND)", err[0] ? err : strerror(rc));
	if ((rc = tools_load(&ai->tools, c->tools_file, err, sizeof(err))))
		return fail(ai, "tools (TOOLS_FILE)", err[0] ? err : strerror(rc));
	tools_set_store(ai->tools, st);
	tc.tools = ai->tools;
	llm_tool_names(ai->llm, check_tool, &tc);
	if (tc.missing[0]) {
		snprintf(err, sizeof(err), "a rule calls tool \"%s\", which TOOLS_FILE does not "
			 "declare", tc.missing);
		return fail(ai, "dialogue (RULES_FILE)", err);
	}
	d.conf = c;
	d.st = st;
	d.stt = ai->stt;
	d.llm = ai->llm;
	d.tts = ai->tts;
	d.tools = ai->tools;
	d.save_turn = callsvc_turn;
	d.save_consent = callsvc_consent;
	d.save_arg = cs;
	d.observe_response = observe;
	d.observe_arg = ai;
	if ((rc = pipeline_alloc(&ai->pipe, &d)))
		return fail(ai, "conversation pipeline", strerror(rc));
	pipeline_handler(ai->pipe, &h);
	callsvc_set_handler(cs, &h);
	log_info("serve: AI pipeline ready (stt %s, llm %s, tts %s, %zu webhook tools)",
		 stt_engine_name(ai->stt), llm_name(ai->llm), tts_engine_name(ai->tts),
		 tools_count(ai->tools));
	return 0;
}

void serve_ai_stop(struct serve_ai *ai)
{
	pipeline_free(ai->pipe);
	stt_engine_free(ai->stt);
	llm_free(ai->llm);
	tts_engine_free(ai->tts);
	tools_free(ai->tools);
	memset(ai, 0, sizeof(*ai));
}

static bool discard(const char *text, size_t len, void *arg)
{
	(void)text; (void)len; (void)arg;
	return true;
}

int serve_ai_test_llm(struct serve_ai *ai, const char *backend, char **answer, int *latency_ms)
{
	struct llm_msg msgs[] = {
		{ LLM_SYSTEM, ai->conf->system_prompt },
		{ LLM_USER, "This is a connection test. Please answer with one short sentence." },
	};
	struct llm *llm = ai->llm, *own = NULL;
	struct llm_reply r;
	int64_t t0;
	int rc;

	if (backend && *backend && (!llm || strcasecmp(backend, llm_name(llm)) != 0)) {
		struct conf tmp = *ai->conf;
		char err[256];
		tmp.llm_backend = strcasecmp(backend, "ollama") == 0 ? LLM_OLLAMA :
				  strcasecmp(backend, "openai") == 0 ? LLM_OPENAI :
				  strcasecmp(backend, "rules") == 0 ? LLM_RULES : -1;
		if (tmp.llm_backend < 0)
			return EINVAL;
		if ((rc = llm_alloc(&own, &tmp, err, sizeof(err))))
			return rc;
		llm = own;
	} else if (!llm) {
		char err[256];
		if ((rc = llm_alloc(&own, ai->conf, err, sizeof(err))))
			return rc;
		llm = own;
	}
	t0 = time_mono_ms();
	rc = llm_chat(llm, msgs, 2, NULL, discard, NULL, &r);
	*latency_ms = (int)(time_mono_ms() - t0);
	if (!rc) {
		*answer = r.text;
		r.text = NULL;
	}
	llm_reply_clear(&r);
	llm_free(own);
	return rc;
}
