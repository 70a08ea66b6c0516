/* fuzz_dotenv.c - dotenv_parse on any bytes, then the whole configuration validation
 * (conf_load) of the same text as a .env file. */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "core/dotenv.h"
#include "fuzz.h"

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	/* the process environment must not feed conf_load */
	clearenv();
	memfd = memfd_create("fuzz-env", 0);
	if (memfd < 0)
		abort();
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dotenv env = { 0 };
	struct conf c;
	char err[256];
	int rc;

	if (size > DOTENV_MAX_LINE)
		return 0;
	rc = dotenv_parse((const char *)data, size, &env, err, sizeof(err));
	if (rc == 0) {
		for (size_t i = 0; i < env.n; i++) {
			if (!env.v[i].key || !env.v[i].value || !env.v[i].key[0])
				abort();	/* the contract: every entry has both */
			if (dotenv_find(&env, env.v[i].key) != &env.v[i])
				abort();	/* duplicates are refused */
		}
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort();	/* an error always says why */
	}
	dotenv_free(&env);

	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (conf_load(&c, memfd_path, err, sizeof(err)) == 0)
		conf_free(&c);
	return 0;
}
