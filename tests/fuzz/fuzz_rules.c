/* fuzz_rules.c - rules_parse on any rules file; parsed rules answer a few phrases and
 * the input itself, and list their phrases. */
#include <errno.h>

#include "fuzz.h"
#include "llm/rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void phrase_h(const char *phrase, void *arg)
{
	size_t *n = arg;

	*n += strlen(phrase);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const said[] = { "hello", "what are your opening hours",
					    "goodbye", "talk to a human", "" };
	struct llm_ctx ctx = { .caller = "+4930123456", .now_ms = 1733331600000LL };
	struct rules *r = NULL;
	char err[256], *text, *norm;
	size_t n = 0;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_cstr(data, size);
	norm = rules_normalize(text);
	free(norm);
	if (rules_parse(&r, (const char *)data, size, err, sizeof(err)) == 0) {
		for (size_t i = 0; i <= sizeof(said) / sizeof(said[0]); i++) {
			char *reply = NULL;
			enum llm_action act = LLM_ACT_NONE;
			const char *s = i < sizeof(said) / sizeof(said[0]) ? said[i] : text;

			if (rules_answer(r, s, &ctx, &reply, &act) == 0 && !reply)
				abort();	/* never NULL on success */
			free(reply);
		}
		rules_phrases(r, phrase_h, &n);
		rules_free(r);
	}
	free(text);
	return 0;
}
