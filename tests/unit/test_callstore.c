/* test_callstore.c - tests src/call/callstore.c on a SQLite store: write order, the late
 * consent, and a database that is unavailable (a second connection holds the write lock):
 * writes wait in bounded memory, then in the spool, and are all written once it is back,
 * in order, also across a stop and a new start. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "call/callstore.h"
#include "core/log.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char db[128];
	char spool[160];
	struct store *st;
	sqlite3 *locker; /* holds the write lock: the database is "down" */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char url[160];

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/callbot-callstore-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->db, sizeof(fx->db), "%s/callbot.db", fx->dir);
	snprintf(fx->spool, sizeof(fx->spool), "%s/%s", fx->dir, CALLSTORE_SPOOL_NAME);
	snprintf(url, sizeof(url), "sqlite:///%s", fx->db);
	if (store_open(&fx->st, url, NULL) || store_migrate(fx->st))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (fx->locker)
		sqlite3_close(fx->locker);
	store_close(fx->st);
	d = opendir(fx->dir);
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", fx->dir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void db_down(struct fixture *fx)
{
	assert_int_equal(sqlite3_open(fx->db, &fx->locker), SQLITE_OK);
	assert_int_equal(sqlite3_exec(fx->locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
}

static void db_up(struct fixture *fx)
{
	assert_int_equal(sqlite3_exec(fx->locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(fx->locker);
	fx->locker = NULL;
}

static struct store_call call_of(const char *sip_id, const char *status)
{
	struct store_call c = { .started_at = 1700000000000 };

	snprintf(c.sip_call_id, sizeof(c.sip_call_id), "%s", sip_id);
	snprintf(c.caller, sizeof(c.caller), "alice");
	snprintf(c.callee, sizeof(c.callee), "bot");
	snprintf(c.status, sizeof(c.status), "%s", status);
	if (!strcmp(status, "completed")) {
		c.answered_at = c.started_at + 1000;
		c.ended_at = c.started_at + 9000;
		snprintf(c.end_reason, sizeof(c.end_reason), "caller_bye");
	}
	return c;
}

static void add_turn(struct callstore *cw, struct callrow *row, int seq)
{
	char text[32];
	struct store_turn t = { .seq = seq, .text = text, .started_at = 1700000001000 + seq,
				.stt_ms = -1, .llm_ms = -1, .tts_ms = -1, .response_ms = -1 };

	snprintf(t.role, sizeof(t.role), "%s", seq % 2 ? "caller" : "bot");
	snprintf(text, sizeof(text), "turn %d", seq);
	callstore_turn(cw, row, &t);
}

/* One call: insert, n turns (with the pipeline's hold/release), final update. */
static void one_call(struct callstore *cw, const char *sip_id, int n, const char *consent,
		     bool consent_late)
{
	struct store_call c = call_of(sip_id, "in_progress");
	struct callrow *row = callstore_insert(cw, &c);

	assert_non_null(row);
	callstore_row_hold(row);
	for (int i = 0; i < n; i++)
		add_turn(cw, row, i);
	if (consent && !consent_late)
		callstore_row_consent(row, consent);
	c = call_of(sip_id, "completed");
	callstore_update(cw, row, &c, true);
	if (consent && consent_late) {
		/* the race: the call's final update may already be written */
		usleep(200 * 1000);
		callstore_row_consent(row, consent);
	}
	callstore_row_release(cw, row);
}

struct seen {
	int n, next_seq;
	bool in_order;
};

static int count_turn(struct store_turn *t, void *arg)
{
	struct seen *s = arg;
	char want[32];

	snprintf(want, sizeof(want), "turn %d", s->next_seq);
	if (t->seq != s->next_seq++ || !t->text || strcmp(t->text, want) != 0)
		s->in_order = false;
	s->n++;
	store_turn_clear(t);
	return 0;
}

static int find_call(const struct store_call *c, void *arg)
{
	struct store_call *out = arg;

	if (!strcmp(c->sip_call_id, out->sip_call_id))
		*out = *c;
	return 0;
}

/* The stored row of sip_id (id 0 if none) and its turns. */
static struct store_call stored(struct fixture *fx, const char *sip_id, struct seen *s)
{
	struct store_call c = { 0 };
	int64_t total = 0;

	snprintf(c.sip_call_id, sizeof(c.sip_call_id), "%s", sip_id);
	assert_int_equal(store_call_list(fx->st, NULL, find_call, &c, &total), 0);
	*s = (struct seen){ .in_order = true };
	if (c.id)
		assert_int_equal(store_turn_list(fx->st, c.id, count_turn, s), 0);
	return c;
}

static void assert_complete(struct fixture *fx, const char *sip_id, int turns)
{
	struct seen s;
	struct store_call c = stored(fx, sip_id, &s);

	assert_true(c.id > 0);
	assert_string_equal(c.status, "completed");
	assert_string_equal(c.end_reason, "caller_bye");
	assert_int_equal(s.n, turns);
	assert_true(s.in_order);
}

static void test_order(void **state)
{
	struct fixture *fx = *state;
	struct callstore *cw;

	assert_int_equal(callstore_start(&cw, fx->st), 0);
	one_call(cw, "order@test", 5, NULL, false);
	callstore_stop(cw);
	assert_complete(fx, "order@test", 5);
	assert_int_equal(access(fx->spool, F_OK), -1);
}

/* The consent arrives after the call's final update: it must still reach the row. */
static void test_late_consent(void **state)
{
	struct fixture *fx = *state;
	struct callstore *cw;
	struct store_call c;
	struct seen s;

	assert_int_equal(callstore_start(&cw, fx->st), 0);
	one_call(cw, "given@test", 1, "given", true);
	one_call(cw, "refused@test", 1, "refused", true);
	one_call(cw, "early@test", 1, "given", false);
	callstore_stop(cw);
	c = stored(fx, "given@test", &s);
	assert_string_equal(c.consent, "given");
	assert_string_equal(c.caller, "alice");
	c = stored(fx, "refused@test", &s);
	assert_string_equal(c.consent, "refused");
	assert_string_equal(c.caller, ""); /* forgotten */
	c = stored(fx, "early@test", &s);
	assert_string_equal(c.consent, "given");
}

static void wait_for(bool (*cond)(void), int seconds)
{
	for (int i = 0; i < seconds * 10 && !cond(); i++)
		usleep(100 * 1000);
	assert_true(cond());
}

static bool in_outage(void)
{
	struct callstore_metrics m;

	callstore_metrics(&m);
	return m.outage;
}

static bool drained(void)
{
	struct callstore_metrics m;

	callstore_metrics(&m);
	return m.queue_depth == 0 && !m.outage;
}

/* Down: 3 writes fit in memory, the other 19 go to the spool; back: all 22 written. */
static void test_outage_spool(void **state)
{
	struct fixture *fx = *state;
	struct callstore_metrics before, m;
	struct callstore *cw;
	struct seen s;

	callstore_metrics(&before);
	assert_int_equal(callstore_start(&cw, fx->st), 0);
	callstore_set_queue_max(cw, 3);
	db_down(fx);
	one_call(cw, "a@test", 8, NULL, false); /* insert, 8 turns, update, release: 11 */
	one_call(cw, "b@test", 8, NULL, false);
	callstore_metrics(&m);
	assert_true(m.queue_depth >= 21); /* at most the first insert got through */
	assert_int_equal(m.spool_depth, 19);
	assert_int_equal(m.spooled - before.spooled, 19);
	assert_int_equal(access(fx->spool, F_OK), 0);
	wait_for(in_outage, 5); /* a write has waited more than 2 s */
	for (int i = 0; i < 200; i++) { /* SQLite's busy wait (5 s) runs out: EBUSY */
		callstore_metrics(&m);
		if (m.write_failures > before.write_failures)
			break;
		usleep(100 * 1000);
	}
	assert_true(m.write_failures > before.write_failures);
	assert_true(m.outage);
	assert_null(stored(fx, "b@test", &s).id ? "b written while down" : NULL);
	db_up(fx);
	wait_for(drained, 30);
	assert_complete(fx, "a@test", 8);
	assert_complete(fx, "b@test", 8);
	assert_int_equal(access(fx->spool, F_OK), -1); /* replayed, removed */
	callstore_stop(cw);
	callstore_metrics(&m);
	assert_int_equal(m.dropped, before.dropped);
}

/* Stopped while down: what waited in memory and in the spool is in the spool file, in
 * order, and the next start writes it. */
static void test_spool_across_restart(void **state)
{
	struct fixture *fx = *state;
	struct callstore_metrics m;
	struct callstore *cw;
	struct seen s;

	assert_int_equal(callstore_start(&cw, fx->st), 0);
	callstore_set_queue_max(cw, 4);
	db_down(fx);
	one_call(cw, "r@test", 6, "given", false);
	callstore_stop(cw); /* the current attempt fails, then everything is spooled */
	callstore_metrics(&m);
	assert_int_equal(m.queue_depth, 0);
	assert_int_equal(access(fx->spool, F_OK), 0);
	db_up(fx);
	assert_int_equal(stored(fx, "r@test", &s).id, 0);

	assert_int_equal(callstore_start(&cw, fx->st), 0);
	one_call(cw, "after@test", 2, NULL, false); /* queued behind the replay */
	callstore_stop(cw);
	assert_complete(fx, "r@test", 6);
	assert_string_equal(stored(fx, "r@test", &s).consent, "given");
	assert_complete(fx, "after@test", 2);
	assert_int_equal(access(fx->spool, F_OK), -1);
}

static bool idle(void)
{
	struct callstore_metrics m;

	callstore_metrics(&m);
	return m.queue_depth == 0;
}

/* The process dies (no stop) during an outage, after its call's row was written: the
 * answer and the turns are lost (only in memory) or spooled. The next start replays the
 * spool and closes the call as a crash, as start-up recovery would have. */
static void test_crash_during_outage(void **state)
{
	struct fixture *fx = *state;
	struct callstore *cw;
	struct store_call c;
	struct seen s;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st;
		char url[160];
		sqlite3 *locker;
		struct callrow *row;

		snprintf(url, sizeof(url), "sqlite:///%s", fx->db);
		if (store_open(&st, url, NULL) || callstore_start(&cw, st))
			_exit(2);
		callstore_set_queue_max(cw, 1);
		c = call_of("crash@test", "in_progress");
		row = callstore_insert(cw, &c);
		for (int i = 0; i < 50 && !idle(); i++)
			usleep(100 * 1000);
		if (!idle() || sqlite3_open(fx->db, &locker) ||
		    sqlite3_exec(locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL))
			_exit(3);
		c.answered_at = c.started_at + 1000; /* waits in memory: lost */
		callstore_update(cw, row, &c, false);
		add_turn(cw, row, 0); /* spooled */
		add_turn(cw, row, 1);
		_exit(access(fx->spool, F_OK) == 0 ? 0 : 4); /* like kill -9 */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	c = stored(fx, "crash@test", &s);
	assert_string_equal(c.status, "in_progress");
	assert_int_equal(s.n, 0);

	assert_int_equal(callstore_start(&cw, fx->st), 0);
	callstore_stop(cw);
	c = stored(fx, "crash@test", &s);
	assert_int_equal(s.n, 2);
	assert_true(s.in_order);
	assert_string_equal(c.status, "failed"); /* its answer was lost with the process */
	assert_string_equal(c.end_reason, "crash");
	assert_int_equal(c.ended_at, 1700000001001); /* the last turn's start */
	assert_int_equal(access(fx->spool, F_OK), -1);
}

/* No usable spool: writes beyond the bound are dropped and counted, but the row's
 * references still go after its earlier writes (ASan would see a use after free). */
static void test_no_spool_drops(void **state)
{
	struct fixture *fx = *state;
	struct callstore_metrics before, m;
	struct callstore *cw;
	struct store_call c;
	struct seen s;

	callstore_metrics(&before);
	assert_int_equal(callstore_start_in(&cw, fx->st, "/nonexistent/callbot"), 0);
	callstore_set_queue_max(cw, 2);
	db_down(fx);
	one_call(cw, "drop@test", 6, NULL, false); /* insert and turn 0 fit */
	callstore_metrics(&m);
	assert_int_equal(m.dropped - before.dropped, 7); /* turns 1-5, final update, release */
	assert_int_equal(m.spooled, before.spooled);
	usleep(300 * 1000);
	db_up(fx);
	wait_for(drained, 30);
	callstore_stop(cw);
	c = stored(fx, "drop@test", &s);
	assert_string_equal(c.status, "in_progress");
	assert_int_equal(s.n, 1);
}

/* A spool from another build (or garbage) is set aside, not misread. */
static void test_foreign_spool(void **state)
{
	struct fixture *fx = *state;
	struct callstore *cw;
	char bad[200];
	FILE *f = fopen(fx->spool, "w");

	assert_non_null(f);
	fputs("not a spool\n", f);
	fclose(f);
	assert_int_equal(callstore_start(&cw, fx->st), 0);
	one_call(cw, "x@test", 1, NULL, false);
	callstore_stop(cw);
	assert_complete(fx, "x@test", 1);
	snprintf(bad, sizeof(bad), "%s.bad", fx->spool);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_equal(access(fx->spool, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_consent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_spool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_during_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_spool_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_spool, setup, teardown),
	};

	log_set_level(LOGL_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
