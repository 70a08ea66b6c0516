/* cmd_calls.c - calls: list stored calls, newest first, as a table or JSON. */
#include "cli/cli.h"
#include "store/store.h"
#include "store/time_iso.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct listing {
	bool json;
	json_t *arr;
};

static int print_call(const struct store_call *c, void *arg)
{
	struct listing *l = arg;
	char started[32] = "-", ended[32] = "-";

	if (c->started_at)
		store_time_iso(c->started_at, started);
	if (c->ended_at)
		store_time_iso(c->ended_at, ended);
	if (l->json) {
		json_t *o = json_pack("{sI ss ss ss ss ss ss ss ss}", "id", (json_int_t)c->id,
				      "caller", c->caller, "callee", c->callee, "started_at", started,
				      "ended_at", c->ended_at ? ended : "", "status", c->status,
				      "end_reason", c->end_reason, "consent", c->consent,
				      "sip_call_id", c->sip_call_id);
		return o ? json_array_append_new(l->arr, o) : ENOMEM;
	}
	/* Caller ids come from the network: never let them steer the terminal. */
	char caller[40];
	size_t n = 0;
	for (const char *p = c->caller; *p && n + 1 < sizeof(caller); p++)
		caller[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
	caller[n] = '\0';
	printf("%-6lld %-24.24s %-24s %-10s %s\n", (long long)c->id, caller, started, c->status,
	       c->end_reason);
	return 0;
}

int cmd_calls(struct cli *cli, int argc, char **argv)
{
	struct store_call_filter f = { .limit = 100 };
	struct listing l = { false, NULL };
	struct store *st = NULL;
	int64_t total = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--search") == 0 && i + 1 < argc) {
			f.q = argv[++i];
		} else if (strcmp(argv[i], "--caller") == 0 && i + 1 < argc) {
			f.caller = argv[++i];
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (store_time_parse(argv[++i], &f.from_ms)) {
				cli_usage_error("calls", "--since takes a date like 2026-12-01");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			f.limit = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--json") == 0) {
			l.json = true;
		} else {
			cli_usage_error("calls", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	if (l.json)
		l.arr = json_array();
	else
		printf("%-6s %-24s %-24s %-10s %s\n", "ID", "CALLER", "STARTED (UTC)", "STATUS", "END");
	rc = store_call_list(st, &f, print_call, &l, &total);
	store_close(st);
	if (rc) {
		fprintf(stderr, "callbot calls: cannot read calls: %s\n", strerror(rc));
		json_decref(l.arr);
		return EXIT_FAIL;
	}
	if (l.json) {
		json_t *root = json_pack("{sO sI}", "calls", l.arr, "total", (json_int_t)total);
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(root);
		json_decref(l.arr);
	} else {
		printf("%lld call(s)%s\n", (long long)total,
		       total > f.limit && f.limit > 0 ? " (newest shown; use --limit)" : "");
	}
	return EXIT_OK;
}
