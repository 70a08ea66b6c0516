/* fuzz_time.c - store_time_parse (every timestamp read from a database or a ?from= query):
 * whatever it accepts must print and parse back to the same instant. */
#include "fuzz.h"
#include "store/time_iso.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, iso[32];
	int64_t ms = 0, back = 0;

	if (size > 4096)
		return 0;
	s = fuzz_cstr(data, size);
	if (store_time_parse(s, &ms) == 0 && ms >= 0 && ms <= 253402300799999LL) {
		store_time_iso(ms, iso);
		if (store_time_parse(iso, &back) != 0 || back != ms)
			abort();
	}
	free(s);
	return 0;
}
