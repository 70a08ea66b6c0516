/* test_web_assets.c - the compiled-in dashboard files equal src/web/assets/ (embed.sh was run),
 * and the pages keep to CSP default-src 'self': no inline scripts, styles or handlers, no
 * external URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "web/assets.h"

static char *assets_dir(void)
{
	const char *data = getenv("CALLBOT_TEST_DATA");
	char *dir;

	assert_non_null(data);
	dir = malloc(strlen(data) + 32);
	sprintf(dir, "%s/../../src/web/assets", data);
	return dir;
}

static void test_embedded_match_sources(void **state)
{
	char *dir = assets_dir();
	size_t files = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		const struct asset *a;
		char path[4096], *buf;
		size_t len;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "embed.sh") == 0)
			continue;
		files++;
		a = asset_find(e->d_name);
		if (!a)
			fail_msg("%s is not embedded: run src/web/assets/embed.sh", e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(file_read_all(path, 1 << 20, &buf, &len), 0);
		if (len != a->len || memcmp(buf, a->body, len) != 0)
			fail_msg("%s differs from assets_data.c: run src/web/assets/embed.sh", e->d_name);
		free(buf);
	}
	closedir(d);
	assert_int_equal(files, assets_n);
	free(dir);
}

static void test_csp_clean(void **state)
{
	(void)state;
	for (size_t i = 0; i < assets_n; i++) {
		const char *b = assets[i].body;
		if (!strstr(assets[i].name, ".html"))
			continue;
		if (strstr(b, "<script>") || strstr(b, "<style") || strstr(b, " style=") ||
		    strstr(b, " onclick=") || strstr(b, " onload=") || strstr(b, "javascript:") ||
		    strstr(b, "http://") || strstr(b, "https://"))
			fail_msg("%s breaks CSP default-src 'self'", assets[i].name);
	}
	assert_null(strstr(asset_find("app.js")->body, "innerHTML"));
	assert_null(strstr(asset_find("app.js")->body, "eval("));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_match_sources),
		cmocka_unit_test(test_csp_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
