/* cmd_import.c - import-callbot: calls, transcripts, recordings and settings of a Python CallBot database. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "core/util.h"
#include "crypto/recfile.h"
#include "store/store.h"
#include "store/time_iso.h"
#include "web/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

/*
 * Idempotence: every imported call carries sip_call_id "callbot-import:<id>"
 * (<id> = the Python row id). A call is first written as
 * "callbot-import-pending:<id>", its turns added, then renamed: a run cut
 * short leaves only pending rows, which the next run deletes and redoes.
 * Rows older than RETENTION_DAYS are not imported (retention would purge
 * them within the hour, and a purged row loses its mark).
 */
#define MARK "callbot-import:"
#define MARK_PENDING "callbot-import-pending:"
#define IMPORT_ACTOR "import-callbot"

struct idset {
	int64_t *v;
	size_t n, cap;
};

struct import {
	struct cli *cli;
	struct store *st;
	sqlite3 *src;
	const char *src_path;
	char *audio_src;	/* the Python CallBot's AUDIO_OUTPUT_DIR */
	struct idset done;	/* Python ids already imported */
	struct idset pending;	/* our call ids of interrupted imports */
	int64_t cutoff_ms;	/* rows started before it are skipped; 0 = none */
	struct progress *progress; /* NULL when stderr is not a terminal */
	int64_t total, calls, turns, recordings, skipped_done, skipped_old, warnings;
	int settings_set, settings_kept, settings_unknown;
};

/* A warning; ends a progress line first so the two do not mix. */
__attribute__((format(printf, 2, 3))) static void note(struct import *im, const char *fmt, ...)
{
	va_list ap;

	progress_clear(im->progress);
	fputs("callbot import-callbot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int idset_add(struct idset *s, int64_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		int64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static bool idset_has(const struct idset *s, int64_t id)
{
	return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_i64) != NULL;
}

static bool parse_id(const char *s, int64_t *id)
{
	char *end;

	errno = 0;
	*id = strtoll(s, &end, 10);
	return !errno && end != s && !*end;
}

static int collect_marked(const struct store_call *c, void *arg)
{
	struct import *im = arg;
	int64_t id;

	if (strncmp(c->sip_call_id, MARK, strlen(MARK)) == 0 &&
	    parse_id(c->sip_call_id + strlen(MARK), &id))
		return idset_add(&im->done, id);
	if (strncmp(c->sip_call_id, MARK_PENDING, strlen(MARK_PENDING)) == 0)
		return idset_add(&im->pending, c->id);
	return 0;
}

/* Text from another program: invalid UTF-8 bytes become '?', NULs end it. */
static char *clean_text(const unsigned char *s, int len)
{
	char *out;
	int i = 0, o = 0;

	if (!s)
		return NULL;
	out = malloc((size_t)len + 1);
	if (!out)
		return NULL;
	while (i < len && s[i]) {
		int n = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3
			: (s[i] & 0xf8) == 0xf0 ? 4 : 0;

		if (n && i + n <= len && utf8_valid((const char *)s + i, (size_t)n)) {
			memcpy(out + o, s + i, (size_t)n);
			o += n;
			i += n;
		} else {
			out[o++] = '?';
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

static char *col_text(sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		return NULL;
	return clean_text(sqlite3_column_text(q, col), sqlite3_column_bytes(q, col));
}

/* The Python CallBot's column may hold ISO text (SQLAlchemy) or epoch seconds. */
static int col_time(sqlite3_stmt *q, int col, int64_t *ms)
{
	int t = sqlite3_column_type(q, col);

	if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
		*ms = (int64_t)(sqlite3_column_double(q, col) * 1000.0);
		return 0;
	}
	if (t == SQLITE_TEXT)
		return store_time_parse((const char *)sqlite3_column_text(q, col), ms);
	return EINVAL;
}

/* Python CallBot statuses onto ours (docs/install.md has the table). */
static const char *map_status(const char *s, bool *answered)
{
	static const struct {
		const char *from, *to;
		bool answered;
	} map[] = {
		{ "completed", "completed", true }, { "complete", "completed", true },
		{ "answered", "completed", true },  { "success", "completed", true },
		{ "ended", "completed", true },     { "finished", "completed", true },
		{ "missed", "missed", false },      { "no_answer", "missed", false },
		{ "noanswer", "missed", false },    { "busy", "missed", false },
		{ "failed", "failed", false },      { "error", "failed", false },
	};

	for (size_t i = 0; s && i < ARRAY_SIZE(map); i++) {
		if (strcasecmp(s, map[i].from) == 0) {
			*answered = map[i].answered;
			return map[i].to;
		}
	}
	/* in_progress/active/ringing/unknown: the call is long over and its end
	 * was never recorded */
	*answered = false;
	return "failed";
}

static int copy_plain(const char *from, const char *to)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		err = errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			err = errno ? errno : EIO;
			break;
		}
	}
	if (n < 0)
		err = errno;
	if (!err && fsync(out) != 0)
		err = errno;
	if (close(out) != 0 && !err)
		err = errno;
	close(in);
	if (err)
		unlink(to);
	return err;
}

/* Copies the recording of Python row id into AUDIO_DIR (encrypted when a key
 * is set); *dst_out is the stored path (malloc'd), NULL when there is none. */
static int import_audio(struct import *im, int64_t id, const char *name, char **dst_out)
{
	const char *base = strrchr(name, '/');
	char *src = NULL, *dst = NULL, fname[200];
	struct stat sb;
	int err, o = 0;

	*dst_out = NULL;
	base = base ? base + 1 : name;
	if (name[0] == '/' && stat(name, &sb) == 0)
		src = strdup(name);
	if (!src) {
		src = path_join(im->audio_src, name);
		if (src && stat(src, &sb) != 0) {
			free(src);
			src = path_join(im->audio_src, base);
			if (src && stat(src, &sb) != 0) {
				note(im, "call %" PRId64
					": recording %s not found in %s\n", id, base, im->audio_src);
				im->warnings++;
				free(src);
				return 0;
			}
		}
	}
	if (!src)
		return ENOMEM;
	if (!S_ISREG(sb.st_mode)) {
		note(im, "call %" PRId64 ": %s is not a file\n",
			id, base);
		im->warnings++;
		free(src);
		return 0;
	}
	/* our own name: no path tricks or odd bytes from the old database */
	o = snprintf(fname, sizeof(fname), "import-callbot-%" PRId64 "-", id);
	for (const char *p = base; *p && o < (int)sizeof(fname) - 1; p++)
		fname[o++] = (strchr("-_.", *p) || (*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) ? *p : '_';
	fname[o] = '\0';
	dst = path_join(im->cli->conf.audio_dir, fname);
	if (!dst) {
		free(src);
		return ENOMEM;
	}
	unlink(dst); /* left by an interrupted run: the name is ours */
	if (store_keyring(im->st))
		err = recfile_encrypt_file(src, dst, store_keyring(im->st));
	else
		err = copy_plain(src, dst);
	if (err) {
		note(im, "call %" PRId64 ": cannot copy %s to %s: %s\n",
			id, src, dst, strerror(err));
		free(src);
		free(dst);
		return err;
	}
	free(src);
	*dst_out = dst;
	im->recordings++;
	return 0;
}

static int add_turn(struct import *im, int64_t call_id, int seq, const char *role, char *text,
		    int64_t at)
{
	struct store_turn t = {
		.call_id = call_id, .seq = seq, .text = text, .started_at = at,
		.stt_ms = -1, .llm_ms = -1, .tts_ms = -1, .response_ms = -1,
	};
	int err;

	str_copy(t.role, sizeof(t.role), role);
	err = store_turn_insert(im->st, &t, NULL);
	if (!err)
		im->turns++;
	return err;
}

static int import_row(struct import *im, sqlite3_stmt *q)
{
	struct store_call c = { 0 };
	int64_t id = sqlite3_column_int64(q, 0), call_id = 0, started;
	char *caller = NULL, *transcript = NULL, *reply = NULL, *audio = NULL, *status = NULL;
	char *rec = NULL;
	bool answered;
	int err = 0, seq = 0;

	if (idset_has(&im->done, id)) {
		im->skipped_done++;
		return 0;
	}
	if (col_time(q, 1, &started)) {
		note(im, "call %" PRId64
			": unreadable timestamp, skipped\n", id);
		im->warnings++;
		return 0;
	}
	if (im->cutoff_ms && started < im->cutoff_ms) {
		im->skipped_old++;
		return 0;
	}
	caller = col_text(q, 2);
	transcript = col_text(q, 3);
	reply = col_text(q, 4);
	audio = col_text(q, 5);
	status = col_text(q, 7);

	snprintf(c.sip_call_id, sizeof(c.sip_call_id), MARK_PENDING "%" PRId64, id);
	if (caller && str_copy(c.caller, sizeof(c.caller), caller)) {
		note(im, "call %" PRId64
			": caller id cut to %zu bytes\n", id, sizeof(c.caller) - 1);
		im->warnings++;
	}
	/* a number, shown in tables and terminals: no control characters */
	for (char *p = c.caller; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	c.started_at = started;
	c.ended_at = started;
	if (sqlite3_column_type(q, 6) != SQLITE_NULL) {
		double d = sqlite3_column_double(q, 6);

		if (d > 0 && d < 86400.0 * 365)
			c.ended_at = started + (int64_t)(d * 1000.0);
	}
	str_copy(c.status, sizeof(c.status), map_status(status, &answered));
	if (answered)
		c.answered_at = started;
	str_copy(c.end_reason, sizeof(c.end_reason), "imported");
	if (audio && audio[0]) {
		err = import_audio(im, id, audio, &rec);
		if (err)
			goto out;
		if (rec)
			str_copy(c.recording_path, sizeof(c.recording_path), rec);
	}
	err = store_call_insert(im->st, &c, &call_id);
	if (err)
		goto out;
	if (transcript && transcript[0])
		err = add_turn(im, call_id, seq++, "caller", transcript, started);
	if (!err && reply && reply[0])
		err = add_turn(im, call_id, seq++, "bot", reply, c.ended_at);
	if (!err) {
		c.id = call_id;
		snprintf(c.sip_call_id, sizeof(c.sip_call_id), MARK "%" PRId64, id);
		err = store_call_update(im->st, &c);
	}
	if (!err)
		im->calls++;
out:
	if (err) {
		note(im, "call %" PRId64 ": %s\n", id, strerror(err));
		if (call_id)
			store_call_delete(im->st, call_id);
		if (rec)
			unlink(rec);
	}
	free(caller);
	free(transcript);
	free(reply);
	free(audio);
	free(status);
	free(rec);
	return err;
}

static bool src_has_table(sqlite3 *db, const char *table)
{
	sqlite3_stmt *q;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

static int import_calls(struct import *im)
{
	sqlite3_stmt *q = NULL;
	int64_t seen = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(im->src, "SELECT COUNT(*) FROM calls", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		im->total = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(im->src,
			       "SELECT id, timestamp, caller_id, transcript, ai_response,"
			       " audio_filename, duration, status FROM calls ORDER BY id",
			       -1, &q, NULL) != SQLITE_OK) {
		note(im, "%s: not a Python CallBot calls table: %s\n",
			im->src_path, sqlite3_errmsg(im->src));
		return EINVAL;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = import_row(im, q);
		if (err)
			break;
		progress_set(im->progress, ++seen, im->total);
	}
	if (!err && rc != SQLITE_DONE) {
		note(im, "%s: %s\n", im->src_path,
			sqlite3_errmsg(im->src));
		err = EIO;
	}
	sqlite3_finalize(q);
	return err;
}

/* Python CallBot setting names that mean the same as one of our keys. */
static const char *map_setting(const char *name)
{
	static const struct {
		const char *from, *to;
	} map[] = {
		{ "greeting", "GREETING" },
		{ "greeting_message", "GREETING" },
		{ "welcome_message", "GREETING" },
		{ "system_prompt", "SYSTEM_PROMPT" },
		{ "ai_system_prompt", "SYSTEM_PROMPT" },
		{ "ai_prompt", "SYSTEM_PROMPT" },
		{ "prompt", "SYSTEM_PROMPT" },
		{ "ollama_model", "OLLAMA_MODEL" },
		{ "llm_model", "OLLAMA_MODEL" },
		{ "model", "OLLAMA_MODEL" },
		{ "ollama_url", "OLLAMA_URL" },
		{ "tts_voice", "TTS_VOICE" },
		{ "voice", "TTS_VOICE" },
		{ "language", "LANGUAGE" },
		{ "max_call_duration", "MAX_CALL_SECONDS" },
		{ "vad_silence_ms", "VAD_SILENCE_MS" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (strcasecmp(name, map[i].from) == 0)
			return map[i].to;
	}
	/* already one of our dashboard keys (any case) */
	{
		const struct conf_key *k;
		char up[64];
		size_t n = strlen(name);

		if (n >= sizeof(up))
			return NULL;
		for (size_t i = 0; i <= n; i++)
			up[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
		k = conf_key_find(up);
		return k && setting_editable(k->name) ? k->name : NULL;
	}
}

static void import_setting(struct import *im, const char *name, const char *value)
{
	char norm[SETTING_VALUE_MAX + 1], *cur = NULL, *details;
	const struct conf_key *k;
	const char *key = map_setting(name), *why = NULL;
	json_t *d;

	if (!key || !(k = conf_key_find(key))) {
		im->settings_unknown++;
		return;
	}
	if (setting_normalize(k, value, norm, sizeof(norm), &why)) {
		note(im, "setting %s (%s): not imported: %s\n", name,
			key, why ? why : "invalid value");
		im->warnings++;
		return;
	}
	/* never replace what the operator already chose (and a second run adds nothing) */
	if (store_setting_get(im->st, key, &cur) == 0) {
		free(cur);
		im->settings_kept++;
		return;
	}
	if (store_setting_set(im->st, key, norm, IMPORT_ACTOR)) {
		note(im, "setting %s: cannot store it\n", key);
		im->warnings++;
		return;
	}
	d = json_pack("{s:s,s:n,s:s,s:s}", "key", key, "old", "new", norm, "source",
		      "import-callbot");
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	store_audit(im->st, 0, "settings_change", details, "local");
	free(details);
	json_decref(d);
	im->settings_set++;
}

/* settings(key, value) - the column names vary between versions: name/key/setting. */
static int import_settings(struct import *im)
{
	static const char *const keycols[] = { "key", "name", "setting", "setting_key" };
	static const char *const valcols[] = { "value", "setting_value", "val" };
	const char *kc = NULL, *vc = NULL;
	sqlite3_stmt *q;
	char sql[160];
	int rc;

	if (!src_has_table(im->src, "settings"))
		return 0;
	if (sqlite3_prepare_v2(im->src, "SELECT name FROM pragma_table_info('settings')", -1, &q,
			       NULL) != SQLITE_OK)
		return EIO;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(q, 0);

		for (size_t i = 0; col && !kc && i < ARRAY_SIZE(keycols); i++)
			if (strcasecmp(col, keycols[i]) == 0)
				kc = keycols[i];
		for (size_t i = 0; col && !vc && i < ARRAY_SIZE(valcols); i++)
			if (strcasecmp(col, valcols[i]) == 0)
				vc = valcols[i];
	}
	sqlite3_finalize(q);
	if (!kc || !vc) {
		note(im, "settings table without key/value columns,"
			" skipped\n");
		im->warnings++;
		return 0;
	}
	snprintf(sql, sizeof(sql), "SELECT \"%s\", \"%s\" FROM settings ORDER BY rowid", kc, vc);
	if (sqlite3_prepare_v2(im->src, sql, -1, &q, NULL) != SQLITE_OK)
		return EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *name = col_text(q, 0), *value = col_text(q, 1);

		if (name && value)
			import_setting(im, name, value);
		free(name);
		free(value);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : EIO;
}

static int make_audio_dir(const char *dir)
{
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "callbot import-callbot: cannot create AUDIO_DIR %s: %s\n", dir,
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_import_callbot(struct cli *cli, int argc, char **argv)
{
	struct import im = { .cli = cli };
	const char *path = NULL, *audio_dir = NULL;
	char details[600];
	int rc, err = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--audio-dir") == 0 && i + 1 < argc) {
			audio_dir = argv[++i];
		} else if (argv[i][0] == '-' || path) {
			cli_usage_error("import-callbot", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path || !path[0]) {
		cli_usage_error("import-callbot", "needs the PATH of the Python CallBot database");
		return EXIT_USAGE;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "callbot import-callbot: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (sqlite3_open_v2(path, &im.src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    !src_has_table(im.src, "calls")) {
		fprintf(stderr, "callbot import-callbot: %s: not a Python CallBot database"
			" (no calls table)\n", path);
		sqlite3_close(im.src);
		return EXIT_FAIL;
	}
	im.src_path = path;
	if (audio_dir) {
		im.audio_src = strdup(audio_dir);
	} else {
		char *dir = path_dirname(path);

		im.audio_src = dir ? path_join(dir, "audio_output") : NULL;
		free(dir);
	}
	rc = im.audio_src ? cli_open_store(cli, &im.st) : EXIT_FAIL;
	if (rc)
		goto out;
	rc = make_audio_dir(cli->conf.audio_dir);
	if (rc)
		goto out;
	if (cli->conf.retention_days > 0)
		im.cutoff_ms = time_now_ms() - (int64_t)cli->conf.retention_days * 86400000;
	im.progress = progress_start("import-callbot", "calls");

	err = store_call_list(im.st, NULL, collect_marked, &im, NULL);
	if (!err && im.done.n)
		qsort(im.done.v, im.done.n, sizeof(*im.done.v), cmp_i64);
	for (size_t i = 0; !err && i < im.pending.n; i++)
		err = store_call_delete(im.st, im.pending.v[i]);
	if (err) {
		fprintf(stderr, "callbot import-callbot: reading our calls: %s\n", strerror(err));
		rc = EXIT_FAIL;
		goto out;
	}
	err = import_calls(&im);
	if (!err)
		err = import_settings(&im);
	snprintf(details, sizeof(details),
		 "source=%s calls=%" PRId64 " turns=%" PRId64 " recordings=%" PRId64
		 " already=%" PRId64 " too_old=%" PRId64 " settings=%d%s%s",
		 path, im.calls, im.turns, im.recordings, im.skipped_done, im.skipped_old,
		 im.settings_set, err ? " error=" : "", err ? strerror(err) : "");
	store_audit(im.st, 0, "import_callbot", details, "local");
	progress_end(im.progress);
	im.progress = NULL;
	printf("imported %" PRId64 " calls (%" PRId64 " turns, %" PRId64 " recordings) of %"
	       PRId64 "; skipped %" PRId64 " already imported, %" PRId64
	       " older than RETENTION_DAYS; settings: %d imported, %d kept, %d not applicable;"
	       " %" PRId64 " warnings\n",
	       im.calls, im.turns, im.recordings, im.total, im.skipped_done, im.skipped_old,
	       im.settings_set, im.settings_kept, im.settings_unknown, im.warnings);
	rc = err ? EXIT_FAIL : EXIT_OK;
out:
	progress_end(im.progress);
	if (im.st)
		store_close(im.st);
	sqlite3_close(im.src);
	free(im.audio_src);
	free(im.done.v);
	free(im.pending.v);
	return rc;
}
