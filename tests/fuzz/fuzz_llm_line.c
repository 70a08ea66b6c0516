/* fuzz_llm_line.c - the streamed-answer line parsers of the Ollama (NDJSON) and
 * OpenAI-compatible (SSE) backends, fed one line as the HTTP stream hands it over.
 * They are static in their files, so this harness compiles those files into itself
 * (their backend structs then come from here, not from the library). */
#include "../../src/llm/backend_ollama.c"
#include "../../src/llm/backend_openai.c"

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static bool text_h(const char *text, size_t len, void *arg)
{
	size_t *n = arg;

	if (!text && len)
		abort();
	*n += len;
	return *n < 4096;	/* a listener that stops (barge-in) */
}

static void one(int (*line)(const char *, size_t, void *), const uint8_t *data, size_t size)
{
	size_t seen = 0;
	struct chat_call cc = { .h = text_h, .arg = &seen };
	int rc;

	/* lines go in one at a time, as httpstream splits them */
	while (size) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) : size;
		/* an exact-size heap copy, not NUL-terminated: ASan sees overreads */
		char *copy = malloc(n ? n : 1);

		if (!copy)
			abort();
		memcpy(copy, data, n);
		rc = line(copy, n, &cc);
		free(copy);
		if (rc && rc != EPROTO && rc != ECANCELED && rc != ENOMEM)
			abort();
		if (rc == EPROTO && !cc.why[0])
			abort();	/* a broken answer is explained */
		if (rc)
			break;
		data += nl ? n + 1 : n;
		size -= nl ? n + 1 : n;
	}
	if (cc.len > seen)
		abort();	/* every piece kept was passed on first */
	free(cc.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	one(ollama_line, data, size);
	one(openai_line, data, size);
	return 0;
}
