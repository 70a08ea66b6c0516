/* fuzz.h - what every libFuzzer harness shares: the entry point's prototype and quiet logs. */
#ifndef CALLBOT_FUZZ_FUZZ_H
#define CALLBOT_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Parsers log what they refuse; a fuzzer must not drown in it. */
static inline void fuzz_quiet(void)
{
	log_set_level(LOGL_ERROR);
	log_set_stderr(false);
}

/* A NUL-terminated malloc'd copy of the input (parsers that take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
