/* fuzz_sdpchk.c - sdpchk_parse on any SDP body, with invariants on what it reports. */
#include "fuzz.h"
#include "sip/sdpchk.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdpchk_info info;
	const char *why = NULL;
	int rc;

	memset(&info, 0xa5, sizeof(info));	/* the parser must fill what it reports */
	rc = sdpchk_parse((const char *)data, size, &info, &why);
	if (rc == 0) {
		if (info.fmt_n > SDPCHK_MAX_FMTS)
			abort();
		if (!memchr(info.addr, '\0', sizeof(info.addr)))
			abort();
		if (info.has_audio && info.port == 0)
			abort();
	} else if (!why) {
		abort();	/* a refusal says why (it becomes the 400 reason) */
	}
	return 0;
}
