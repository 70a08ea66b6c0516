/* test_config_docs.c - docs/configuration.md documents exactly the keys the program accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

static void test_every_key_documented(void **state)
{
	char path[1024], *doc, *p;
	size_t n, len, rows = 0;
	const struct conf_key *keys = conf_keys(&n);

	(void)state;
	snprintf(path, sizeof(path), "%s/../../docs/configuration.md", getenv("CALLBOT_TEST_DATA"));
	assert_int_equal(file_read_all(path, 1 << 20, &doc, &len), 0);
	for (size_t i = 0; i < n; i++) {
		char row[96];
		snprintf(row, sizeof(row), "\n| `%s` |", keys[i].name);
		if (!strstr(doc, row))
			fail_msg("%s is not documented in docs/configuration.md", keys[i].name);
	}
	/* And every row of the key table is a real key. */
	for (p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		char name[64];
		if (sscanf(p, "\n| `%63[A-Z0-9_]` |", name) != 1)
			continue;
		if (!conf_key_find(name) && !strstr(p, "becomes") && strncmp(name, "SIP_DOMAIN", 10) &&
		    strcmp(name, "WEB_HOST") && strcmp(name, "TTS_ENGINE") &&
		    strcmp(name, "AUDIO_OUTPUT_DIR") && strcmp(name, "LOG_FILE"))
			fail_msg("docs/configuration.md documents unknown key %s", name);
		rows++;
	}
	assert_true(rows >= n);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_every_key_documented) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
