/* callstore.c - FIFO of call-row writes served by one thread.
 *
 * The loop and the pipeline only queue; the writer runs the jobs in order. A job the
 * database refuses as invalid is logged and dropped. One it cannot take now (down,
 * busy, disk full) stays at the head and is retried with backoff, so nothing queued is
 * lost or reordered. Memory holds at most queue_max jobs; later ones are appended to a
 * spool file, replayed in order once memory is drained, and kept across a restart.
 */
#include "call/callstore.h"

#include "core/log.h"
#include "core/util.h"
#include "crypto/fernet.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 5000
/* EIO this often while the database answers reads: the job itself is the problem. */
#define POISON_TRIES 5
/* A write waiting this long for the database counts as an outage (PostgreSQL's
 * reconnect holds one attempt for up to 30 s). */
#define STALL_MS 2000
#define SPOOL_MAGIC "CBSPOOL1"
#define REC_MAGIC 0x31524243u /* "CBR1" */
#define REC_MAX_LEN (16u << 20)

/* Process-wide, for /metrics. */
static atomic_uint_fast64_t m_depth, m_spool_depth, m_failures, m_spooled, m_dropped;
static atomic_int m_outages;
static _Atomic int64_t m_attempt_since; /* monotonic ms; 0: no attempt running */

struct callrow {
	_Atomic int64_t id; /* 0 until the insert succeeded */
	uint64_t key;       /* names the row in the spool */
	atomic_int refs;    /* the loop's until its last update, the pipeline's, the spool's */
	pthread_mutex_t lock;
	char consent[16];   /* set by the pipeline, merged into every update */
	struct store_call *final; /* writer only: the final update, for a late consent */
	bool in_spool;      /* under the callstore's lock: on spool_rows, holding a ref */
	struct callrow *spool_next;
};

/* JOB_UNREF: only the reference of a dropped job, never spooled. */
enum job_kind { JOB_INSERT, JOB_UPDATE, JOB_TURN, JOB_RELEASE, JOB_UNREF };

struct job {
	struct job *next;
	enum job_kind kind;
	bool last;
	bool from_spool; /* the row is the spool's (or a stand-in): no reference to drop */
	int tries;
	struct callrow *row;
	struct store_call c;
	struct store_turn t; /* JOB_TURN; t.text owned by the job */
};

/* A spooled row of an earlier run: its key, the id its replayed insert got, and what is
 * needed to close it if that run died before the call's final update. */
struct keymap {
	uint64_t key;
	int64_t id;
	bool ended;
	int64_t alive_at;     /* the last moment the call is known to have been alive */
	struct store_call *c; /* the latest row written */
};

struct callstore {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t queued, queue_max;
	bool stop;
	struct store *st;
	uint64_t next_key;

	char *spool_path;   /* NULL: no spool */
	FILE *spool_w;      /* appends (under lock) */
	FILE *spool_r;      /* replay (writer only) */
	long spool_rpos;    /* next record to replay */
	size_t spool_n;     /* records not yet replayed (under lock) */
	struct callrow *spool_rows;
	struct keymap *map; /* writer only */
	size_t map_n, map_cap;
	int replay_tries;

	int64_t attempt_since; /* under lock: the running attempt's start, or 0 */
	int64_t attempt_began; /* under lock: the latest attempt's start */
	bool outage;        /* under lock, as the rest */
	int64_t outage_since;
	uint64_t outage_done, outage_via_spool;
	bool drop_logged;
};

struct rec_head {
	uint32_t magic;
	uint8_t kind, last, has_text, encrypted;
	uint32_t len; /* bytes after this header */
	uint64_t key;
	int64_t id;   /* 0: resolve key */
};

static void row_unref(struct callrow *row)
{
	if (atomic_fetch_sub(&row->refs, 1) == 1) {
		pthread_mutex_destroy(&row->lock);
		free(row->final);
		free(row);
	}
}

static void job_free(struct job *j)
{
	if (j->kind == JOB_TURN)
		free(j->t.text);
	free(j);
}

/* Drops the references a job carried: the release's, or the loop's with its last update. */
static void job_finish(struct job *j)
{
	if (!j->from_spool && (j->kind == JOB_RELEASE || j->kind == JOB_UNREF || j->last))
		row_unref(j->row);
	job_free(j);
}

static bool transient(int err)
{
	return err && err != EINVAL && err != EEXIST && err != ENOENT;
}

void callstore_row_consent(struct callrow *row, const char *state)
{
	if (!row)
		return;
	pthread_mutex_lock(&row->lock);
	snprintf(row->consent, sizeof(row->consent), "%s", state);
	pthread_mutex_unlock(&row->lock);
}

/* The pipeline's consent decides what of the row is kept. */
static void merge_consent(struct callrow *row, struct store_call *c, bool last)
{
	pthread_mutex_lock(&row->lock);
	if (row->consent[0])
		snprintf(c->consent, sizeof(c->consent), "%s", row->consent);
	pthread_mutex_unlock(&row->lock);
	if (strcmp(c->consent, "refused") != 0)
		return;
	if (last && c->recording_path[0] && unlink(c->recording_path) != 0 && errno != ENOENT)
		log_error("calls: cannot delete the recording of a call without consent: %s",
			  strerror(errno));
	c->caller[0] = c->callee[0] = c->recording_path[0] = '\0';
}

/* The pipeline set the consent after the call's final update was written: write it. */
static int late_consent(struct callstore *cw, struct callrow *row)
{
	struct store_call c;
	bool changed;
	int err;

	if (!row->final || !row->id)
		return 0;
	pthread_mutex_lock(&row->lock);
	changed = row->consent[0] && strcmp(row->consent, row->final->consent) != 0;
	pthread_mutex_unlock(&row->lock);
	if (!changed)
		return 0;
	c = *row->final;
	merge_consent(row, &c, true);
	err = store_call_update(cw->st, &c);
	if (!err)
		*row->final = c;
	return err;
}

static void keep_final(struct callrow *row, const struct store_call *c)
{
	if (!row->final)
		row->final = malloc(sizeof(*row->final));
	if (row->final)
		*row->final = *c;
}

/* A read works: the database is there, so a write failing with EIO is bad in itself. */
static bool store_readable(struct callstore *cw)
{
	struct store_call_stats s;

	return store_call_stats(cw->st, time_now_ms(), &s) == 0;
}

/* One attempt. 0 when done (or refused for good: logged and counted); else an error
 * worth retrying. */
static int run_job(struct callstore *cw, struct job *j)
{
	struct callrow *row = j->row;
	int64_t id = 0;
	int err = 0;

	switch (j->kind) {
	case JOB_INSERT:
		err = store_call_insert(cw->st, &j->c, &id);
		if (!err)
			row->id = id;
		break;
	case JOB_TURN:
		j->t.call_id = row->id;
		err = row->id ? store_turn_insert(cw->st, &j->t, NULL) : ENOENT;
		if (err == EEXIST && j->tries) /* the lost answer of an earlier try */
			err = 0;
		break;
	case JOB_UPDATE:
		if (!row->id) /* its insert was refused (logged) */
			return 0;
		j->c.id = row->id;
		merge_consent(row, &j->c, j->last);
		err = store_call_update(cw->st, &j->c);
		if (!err && j->last)
			keep_final(row, &j->c);
		break;
	case JOB_RELEASE:
		err = late_consent(cw, row);
		break;
	case JOB_UNREF:
		return 0;
	}
	if (!err)
		return 0;
	atomic_fetch_add(&m_failures, 1);
	j->tries++;
	if (transient(err) && !(err == EIO && j->tries > POISON_TRIES && store_readable(cw)))
		return err;
	if (j->kind == JOB_TURN)
		log_error("calls: cannot store turn %d of call row %lld: %s", j->t.seq,
			  (long long)row->id, strerror(err));
	else
		log_error("calls: cannot store call %s: %s", j->c.sip_call_id, strerror(err));
	atomic_fetch_add(&m_dropped, 1);
	return 0;
}

/* The spool: a header (magic, sizes of the structs written raw, so a spool from another
 * build is set aside instead of misread), then records: rec_head and the payload. */

struct spool_header {
	char magic[8];
	uint32_t call_size, turn_size;
};

static const struct spool_header spool_hdr = { SPOOL_MAGIC, sizeof(struct store_call),
					       sizeof(struct store_turn) };

static FILE *spool_open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "ab") : NULL;
	struct stat sb;

	if (fd >= 0 && !f)
		close(fd);
	if (f && fstat(fileno(f), &sb) == 0 && sb.st_size == 0 &&
	    (fwrite(&spool_hdr, sizeof(spool_hdr), 1, f) != 1 || fflush(f) != 0)) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* Turn text is encrypted in the spool as in the database when a key is set. */
static int rec_write(struct callstore *cw, FILE *f, const struct job *j)
{
	const struct fernet_keyring *kr = store_keyring(cw->st);
	struct rec_head h = { .magic = REC_MAGIC, .kind = (uint8_t)j->kind, .last = j->last,
			      .key = j->row->key, .id = j->row->id };
	char *token = NULL;
	const char *text = NULL;
	size_t plen = 0, tlen = 0;
	int err = 0;

	if (j->kind == JOB_TURN) {
		struct store_turn t = j->t;

		t.text = NULL;
		plen = sizeof(t);
		if (j->t.text) {
			h.has_text = 1;
			text = j->t.text;
			tlen = strlen(text);
			if (kr) {
				err = fernet_encrypt(kr, text, tlen, &token);
				if (err)
					return err;
				text = token;
				tlen = strlen(token);
				h.encrypted = 1;
			}
		}
		h.len = (uint32_t)(plen + tlen);
		if (fwrite(&h, sizeof(h), 1, f) != 1 || fwrite(&t, sizeof(t), 1, f) != 1 ||
		    (tlen && fwrite(text, tlen, 1, f) != 1))
			err = errno ? errno : EIO;
	} else {
		struct store_call c = j->c;

		if (j->kind == JOB_RELEASE || j->kind == JOB_UPDATE)
			merge_consent(j->row, &c, false); /* kept for a replay by another run */
		plen = sizeof(c);
		h.len = (uint32_t)plen;
		if (fwrite(&h, sizeof(h), 1, f) != 1 || fwrite(&c, plen, 1, f) != 1)
			err = errno ? errno : EIO;
	}
	free(token);
	if (!err && fflush(f) != 0)
		err = errno ? errno : EIO;
	return err;
}

/* Reads the record at *pos into a new job (row not set). ENODATA at a clean end, EBADMSG
 * for a torn or foreign record. */
static int rec_read(struct callstore *cw, FILE *f, long *pos, struct job **out,
		    struct rec_head *h)
{
	struct job *j;
	size_t tlen;

	if (fseek(f, *pos, SEEK_SET) != 0)
		return errno;
	if (fread(h, sizeof(*h), 1, f) != 1)
		return feof(f) && ftell(f) == *pos ? ENODATA : EBADMSG;
	if (h->magic != REC_MAGIC || h->kind > JOB_RELEASE || h->len > REC_MAX_LEN)
		return EBADMSG;
	j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	j->kind = h->kind;
	j->last = h->last;
	j->from_spool = true;
	if (h->kind != JOB_TURN) {
		if (h->len != sizeof(j->c) || fread(&j->c, sizeof(j->c), 1, f) != 1)
			goto bad;
	} else {
		if (h->len < sizeof(j->t) || fread(&j->t, sizeof(j->t), 1, f) != 1)
			goto bad;
		j->t.text = NULL;
		tlen = h->len - sizeof(j->t);
		if (h->has_text) {
			char *text = malloc(tlen + 1);

			if (!text || (tlen && fread(text, tlen, 1, f) != 1)) {
				free(text);
				goto bad;
			}
			text[tlen] = '\0';
			if (h->encrypted) {
				uint8_t *plain = NULL;
				size_t n;
				int err = fernet_decrypt(store_keyring(cw->st), text, tlen, 0,
							 &plain, &n);
				free(text);
				if (err) {
					log_error("calls: a spooled turn cannot be decrypted with "
						  "the current keys: %s", strerror(err));
					goto bad;
				}
				text = (char *)plain;
			}
			j->t.text = text;
		}
	}
	*pos = ftell(f);
	*out = j;
	return 0;
bad:
	job_free(j);
	return EBADMSG;
}

/* Under lock: the row stays alive (and findable by key) until the spool is replayed. */
static void spool_keep_row(struct callstore *cw, struct callrow *row)
{
	if (row->in_spool)
		return;
	row->in_spool = true;
	atomic_fetch_add(&row->refs, 1);
	row->spool_next = cw->spool_rows;
	cw->spool_rows = row;
}

/* Under lock, once every record is replayed (or set aside). */
static void spool_reset(struct callstore *cw)
{
	if (cw->spool_w)
		fclose(cw->spool_w);
	if (cw->spool_r)
		fclose(cw->spool_r);
	cw->spool_w = cw->spool_r = NULL;
	if (cw->spool_path)
		unlink(cw->spool_path);
	cw->spool_rpos = sizeof(spool_hdr);
	atomic_fetch_sub(&m_depth, cw->spool_n);
	atomic_fetch_sub(&m_spool_depth, cw->spool_n);
	cw->spool_n = 0;
	while (cw->spool_rows) {
		struct callrow *row = cw->spool_rows;

		cw->spool_rows = row->spool_next;
		row->in_spool = false;
		row_unref(row);
	}
	for (size_t i = 0; i < cw->map_n; i++)
		free(cw->map[i].c);
	cw->map_n = 0;
}

/* Under lock: appends to the memory queue. */
static void enqueue(struct callstore *cw, struct job *j)
{
	j->next = NULL;
	if (cw->tail)
		cw->tail->next = j;
	else
		cw->head = j;
	cw->tail = j;
	cw->queued++;
	atomic_fetch_add(&m_depth, 1);
}

/* Under lock: j goes to the spool, or is dropped when there is none or it fails. */
static void spill(struct callstore *cw, struct job *j)
{
	int err = ENOENT;

	if (cw->spool_path && !cw->spool_w)
		cw->spool_w = spool_open_append(cw->spool_path);
	if (cw->spool_w)
		err = rec_write(cw, cw->spool_w, j);
	if (err) {
		if (!cw->drop_logged)
			log_error("calls: %zu writes wait for the database and %s: further call-row "
				  "writes are dropped until it is back", cw->queued,
				  cw->spool_path ? "the spool cannot be written" : "there is no spool");
		cw->drop_logged = true;
		atomic_fetch_add(&m_dropped, 1);
		if (j->kind == JOB_RELEASE || j->last) {
			/* Earlier writes of the row may still wait in memory: its reference is
			 * dropped after them, by a marker beyond the bound (a few bytes). */
			j->kind = JOB_UNREF;
			j->last = false;
			enqueue(cw, j);
			return;
		}
		job_finish(j);
		return;
	}
	if (cw->spool_n++ == 0)
		log_warn("calls: %zu writes wait in memory for the database; further ones go to %s",
			 cw->queued, cw->spool_path);
	atomic_fetch_add(&m_depth, 1);
	atomic_fetch_add(&m_spool_depth, 1);
	atomic_fetch_add(&m_spooled, 1);
	spool_keep_row(cw, j->row);
	job_finish(j);
}

static struct callrow *spool_row(struct callstore *cw, uint64_t key)
{
	struct callrow *row;

	pthread_mutex_lock(&cw->lock);
	for (row = cw->spool_rows; row && row->key != key; row = row->spool_next)
		;
	pthread_mutex_unlock(&cw->lock);
	return row;
}

/* The entry of an earlier run's row, added if new; NULL on ENOMEM (its later writes then
 * find no row: logged as such). */
static struct keymap *map_entry(struct callstore *cw, uint64_t key)
{
	for (size_t i = 0; i < cw->map_n; i++)
		if (cw->map[i].key == key)
			return &cw->map[i];
	if (cw->map_n == cw->map_cap) {
		size_t cap = cw->map_cap ? cw->map_cap * 2 : 64;
		struct keymap *m = realloc(cw->map, cap * sizeof(*m));

		if (!m)
			return NULL;
		cw->map = m;
		cw->map_cap = cap;
	}
	cw->map[cw->map_n] = (struct keymap){ .key = key };
	return &cw->map[cw->map_n++];
}

static void map_note(struct keymap *e, const struct job *j, int64_t id)
{
	int64_t t = j->kind == JOB_TURN ? j->t.started_at : 0;

	e->id = id;
	if (j->kind == JOB_INSERT || j->kind == JOB_UPDATE) {
		if (!e->c)
			e->c = malloc(sizeof(*e->c));
		if (e->c) {
			*e->c = j->c;
			e->c->id = id;
		}
		t = j->c.answered_at > j->c.started_at ? j->c.answered_at : j->c.started_at;
	}
	if (t > e->alive_at)
		e->alive_at = t;
	if (j->last)
		e->ended = true;
}

/* The earlier run died before these calls' final update: close them as start-up recovery
 * does (store_close_crashed_calls, docs/reliability.md), which ran before the replay. */
static void close_unfinished(struct callstore *cw)
{
	size_t n = 0;

	for (size_t i = 0; i < cw->map_n; i++) {
		struct keymap *e = &cw->map[i];
		struct store_call c;
		int err;

		if (e->ended || !e->id)
			continue;
		if (e->c) {
			c = *e->c;
		} else if (store_call_get(cw->st, e->id, &c) != 0 || c.ended_at) {
			continue; /* only turns spooled: the row is as recovery left it */
		}
		c.ended_at = e->alive_at ? e->alive_at : c.started_at;
		str_copy(c.status, sizeof(c.status), c.answered_at ? "completed" : "failed");
		str_copy(c.end_reason, sizeof(c.end_reason), "crash");
		err = store_call_update(cw->st, &c);
		if (err)
			log_error("calls: cannot close call %s of the spool: %s", c.sip_call_id,
				  strerror(err));
		else
			n++;
		e->ended = true;
	}
	if (n)
		log_warn("calls: closed %zu call(s) of the spool left open by a crash", n);
}

/* Sets the spool aside as <path>.bad (kept for a person to look at), under lock. */
static void spool_set_aside(struct callstore *cw, const char *why)
{
	char bad[4200];

	snprintf(bad, sizeof(bad), "%s.bad", cw->spool_path);
	log_error("calls: the spool %s is unreadable (%s) after %ld bytes; %zu writes in it are "
		  "not replayed, kept as %s", cw->spool_path, why, cw->spool_rpos, cw->spool_n, bad);
	atomic_fetch_add(&m_dropped, cw->spool_n);
	if (rename(cw->spool_path, bad) != 0)
		log_error("calls: cannot rename the spool: %s", strerror(errno));
	spool_reset(cw);
}

/* Replays the next spooled write. 0 when done with it; else an error worth retrying. */
static int replay_one(struct callstore *cw)
{
	struct callrow stand_in = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct rec_head h;
	struct job *j = NULL;
	struct keymap *e = NULL;
	long pos = cw->spool_rpos;
	bool done;
	int err;

	if (!cw->spool_r)
		cw->spool_r = fopen(cw->spool_path, "rb");
	err = cw->spool_r ? rec_read(cw, cw->spool_r, &pos, &j, &h) : errno;
	if (err) {
		pthread_mutex_lock(&cw->lock);
		spool_set_aside(cw, strerror(err));
		pthread_mutex_unlock(&cw->lock);
		return 0;
	}
	j->row = spool_row(cw, h.key);
	if (!j->row) { /* a row of an earlier run */
		e = map_entry(cw, h.key);
		stand_in.key = h.key;
		stand_in.id = h.id ? h.id : e ? e->id : 0;
		j->row = &stand_in;
	} else if (!j->row->id && h.id) {
		j->row->id = h.id;
	}
	j->tries = cw->replay_tries;
	err = run_job(cw, j);
	cw->replay_tries = j->tries;
	if (!err && e)
		map_note(e, j, stand_in.id);
	free(stand_in.final);
	job_free(j);
	if (err)
		return err;
	cw->replay_tries = 0;
	pthread_mutex_lock(&cw->lock);
	cw->spool_rpos = pos;
	atomic_fetch_sub(&m_depth, 1);
	atomic_fetch_sub(&m_spool_depth, 1);
	done = --cw->spool_n == 0;
	cw->outage_via_spool++;
	pthread_mutex_unlock(&cw->lock);
	if (!done)
		return 0;
	close_unfinished(cw);
	pthread_mutex_lock(&cw->lock);
	if (!cw->spool_n) /* else more was spooled meanwhile: replay on */
		spool_reset(cw);
	pthread_mutex_unlock(&cw->lock);
	return 0;
}

/* At start: a spool left by an earlier run is replayed before anything new. */
static void spool_load(struct callstore *cw)
{
	struct spool_header h;
	struct rec_head rh;
	struct job *j;
	long pos = sizeof(h), good = sizeof(h);
	FILE *f = fopen(cw->spool_path, "rb");
	int err = 0;

	cw->spool_rpos = sizeof(h);
	if (!f)
		return;
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(&h, &spool_hdr, sizeof(h)) != 0) {
		fclose(f);
		cw->spool_n = 0;
		spool_set_aside(cw, "written by another version, or not a spool");
		return;
	}
	while ((err = rec_read(cw, f, &pos, &j, &rh)) == 0) {
		job_free(j);
		cw->spool_n++;
		good = pos;
	}
	fclose(f);
	if (err != ENODATA) { /* a crash while a record was appended: that write was lost */
		log_warn("calls: the spool %s ends in a torn write; truncated", cw->spool_path);
		if (truncate(cw->spool_path, good) != 0)
			log_error("calls: cannot truncate the spool: %s", strerror(errno));
	}
	if (!cw->spool_n) {
		unlink(cw->spool_path);
		return;
	}
	atomic_fetch_add(&m_depth, cw->spool_n);
	atomic_fetch_add(&m_spool_depth, cw->spool_n);
	log_warn("calls: replaying %zu call-row writes left in %s by an earlier run",
		 cw->spool_n, cw->spool_path);
}

/* Stopping while the database is unavailable: the writes still in memory go to the
 * spool ahead of those already there, through a new file renamed over the old one. */
static void spool_at_stop(struct callstore *cw)
{
	char tmp[4200];
	FILE *f = NULL, *old = NULL;
	size_t n = 0;
	int err = ENOENT;

	pthread_mutex_lock(&cw->lock);
	if (cw->spool_path) {
		snprintf(tmp, sizeof(tmp), "%s.new", cw->spool_path);
		unlink(tmp);
		f = spool_open_append(tmp);
		err = f ? 0 : errno;
	}
	for (struct job *j = cw->head; f && !err && j; j = j->next) {
		if (j->kind == JOB_UNREF)
			continue;
		err = rec_write(cw, f, j);
		n++;
	}
	if (f && !err && cw->spool_n) {
		char buf[65536];
		size_t got;

		old = fopen(cw->spool_path, "rb");
		if (!old || fseek(old, cw->spool_rpos, SEEK_SET) != 0)
			err = errno ? errno : EIO;
		while (!err && old && (got = fread(buf, 1, sizeof(buf), old)) > 0)
			if (fwrite(buf, 1, got, f) != got)
				err = errno ? errno : EIO;
		if (old)
			fclose(old);
	}
	if (f && !err && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		err = errno;
	if (f)
		fclose(f);
	if (f && !err && rename(tmp, cw->spool_path) != 0)
		err = errno;
	if (err) {
		log_error("calls: the database is unavailable at shutdown and the spool cannot be "
			  "written (%s): %zu call-row writes are lost", strerror(err),
			  cw->queued + cw->spool_n);
		atomic_fetch_add(&m_dropped, cw->queued + cw->spool_n);
		if (f)
			unlink(tmp);
	} else {
		log_warn("calls: the database is unavailable at shutdown: %zu call-row writes kept "
			 "in %s for the next start", n + cw->spool_n, cw->spool_path);
	}
	while (cw->head) {
		struct job *j = cw->head;

		cw->head = j->next;
		job_finish(j);
	}
	cw->tail = NULL;
	atomic_fetch_sub(&m_depth, cw->queued);
	cw->queued = 0;
	if (cw->spool_w)
		fclose(cw->spool_w);
	if (cw->spool_r)
		fclose(cw->spool_r);
	cw->spool_w = cw->spool_r = NULL;
	atomic_fetch_sub(&m_depth, cw->spool_n);
	atomic_fetch_sub(&m_spool_depth, cw->spool_n);
	cw->spool_n = 0;
	free(cw->spool_path); /* the file stays: spool_reset must not unlink it */
	cw->spool_path = NULL;
	spool_reset(cw);
	pthread_mutex_unlock(&cw->lock);
}

/* The writer */

/* Under lock: the first failed (or too long) attempt starts an outage; one log line. */
static void outage_begin(struct callstore *cw, const char *why)
{
	if (cw->outage)
		return;
	cw->outage = true;
	cw->outage_since = cw->attempt_began ? cw->attempt_began : time_mono_ms();
	cw->outage_done = cw->outage_via_spool = 0;
	atomic_fetch_add(&m_outages, 1);
	log_warn("calls: the database is unavailable (%s): call-row writes wait in memory (%zu "
		 "now, at most %zu), then in %s", why, cw->queued, cw->queue_max,
		 cw->spool_path ? cw->spool_path : "nothing (no spool: further ones are dropped)");
}

static bool stalled(const struct callstore *cw, int64_t now)
{
	return cw->attempt_since && now - cw->attempt_since > STALL_MS;
}

/* Around each attempt of the writer. An attempt that took longer than STALL_MS was an
 * outage even when nothing else was submitted meanwhile to notice it (the store waited for
 * the database inside the attempt): it is logged now, and its end right after. */
static void attempt_mark(struct callstore *cw, bool running)
{
	int64_t now = running ? time_mono_ms() : 0;

	pthread_mutex_lock(&cw->lock);
	if (!running && stalled(cw, time_mono_ms())) {
		char why[64];

		snprintf(why, sizeof(why), "no answer for %.1f s",
			 (double)(time_mono_ms() - cw->attempt_since) / 1000.0);
		outage_begin(cw, why);
	}
	cw->attempt_since = now;
	if (running)
		cw->attempt_began = now;
	pthread_mutex_unlock(&cw->lock);
	atomic_store(&m_attempt_since, now);
}

/* Called after each write done; logs once everything that waited is written. */
static void outage_check_end(struct callstore *cw)
{
	pthread_mutex_lock(&cw->lock);
	if (cw->outage && ++cw->outage_done && !cw->head && !cw->spool_n) {
		log_info("calls: the database is back: %llu call-row writes that waited are "
			 "written, in order (%llu through the spool), %.1f s after the outage began",
			 (unsigned long long)cw->outage_done,
			 (unsigned long long)cw->outage_via_spool,
			 (double)(time_mono_ms() - cw->outage_since) / 1000.0);
		cw->outage = false;
		cw->drop_logged = false;
		atomic_fetch_sub(&m_outages, 1);
	}
	pthread_mutex_unlock(&cw->lock);
}

/* Waits before the next try; false when stopping (the rest then goes to the spool). */
static bool retry_wait(struct callstore *cw, int err, int tries)
{
	int64_t ms = RETRY_FIRST_MS;
	struct timespec until;
	bool stop;

	for (int i = 1; i < tries && ms < RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > RETRY_MAX_MS)
		ms = RETRY_MAX_MS;
	until = time_deadline_ms(ms);
	pthread_mutex_lock(&cw->lock);
	outage_begin(cw, strerror(err));
	if (!cw->stop)
		pthread_cond_timedwait(&cw->cond, &cw->lock, &until);
	stop = cw->stop;
	pthread_mutex_unlock(&cw->lock);
	return !stop;
}

static void *writer_main(void *arg)
{
	struct callstore *cw = arg;

	for (;;) {
		struct job *j;
		bool replay;
		int err;

		pthread_mutex_lock(&cw->lock);
		while (!cw->head && !cw->spool_n && !cw->stop)
			pthread_cond_wait(&cw->cond, &cw->lock);
		j = cw->head; /* only this thread pops: j stays the head */
		replay = !j && cw->spool_n;
		pthread_mutex_unlock(&cw->lock);
		if (!j && !replay)
			break; /* stopping, nothing left */
		attempt_mark(cw, true);
		err = j ? run_job(cw, j) : replay_one(cw);
		attempt_mark(cw, false);
		if (err) {
			if (!retry_wait(cw, err, j ? j->tries : cw->replay_tries)) {
				spool_at_stop(cw);
				break;
			}
			continue;
		}
		if (j) {
			pthread_mutex_lock(&cw->lock);
			cw->head = j->next;
			if (!cw->head)
				cw->tail = NULL;
			cw->queued--;
			atomic_fetch_sub(&m_depth, 1);
			pthread_mutex_unlock(&cw->lock);
			job_finish(j);
		}
		outage_check_end(cw);
	}
	if (cw->outage)
		atomic_fetch_sub(&m_outages, 1);
	return NULL;
}

int callstore_start_in(struct callstore **out, struct store *st, const char *spool_dir)
{
	struct callstore *cw = calloc(1, sizeof(*cw));
	char *dir = NULL;
	int err;

	if (!cw)
		return ENOMEM;
	cw->st = st;
	cw->queue_max = CALLSTORE_QUEUE_MAX;
	cw->next_key = (uint64_t)time_now_ms() << 20; /* unlike an earlier run's keys */
	cw->spool_rpos = sizeof(spool_hdr);
	if (!spool_dir && st && store_path(st))
		spool_dir = dir = path_dirname(store_path(st));
	if (st && spool_dir && asprintf(&cw->spool_path, "%s/%s", spool_dir,
					CALLSTORE_SPOOL_NAME) < 0)
		cw->spool_path = NULL;
	free(dir);
	pthread_mutex_init(&cw->lock, NULL);
	pthread_cond_init(&cw->cond, NULL);
	if (cw->spool_path)
		spool_load(cw);
	err = pthread_create(&cw->thread, NULL, writer_main, cw);
	if (err) {
		pthread_mutex_destroy(&cw->lock);
		pthread_cond_destroy(&cw->cond);
		free(cw->spool_path);
		free(cw);
		return err;
	}
	pthread_setname_np(cw->thread, "call-rows");
	*out = cw;
	return 0;
}

int callstore_start(struct callstore **out, struct store *st)
{
	return callstore_start_in(out, st, NULL);
}

void callstore_set_queue_max(struct callstore *cw, size_t max)
{
	pthread_mutex_lock(&cw->lock);
	cw->queue_max = max ? max : 1;
	pthread_mutex_unlock(&cw->lock);
}

void callstore_stop(struct callstore *cw)
{
	if (!cw)
		return;
	pthread_mutex_lock(&cw->lock);
	cw->stop = true;
	pthread_cond_signal(&cw->cond);
	pthread_mutex_unlock(&cw->lock);
	pthread_join(cw->thread, NULL);
	pthread_mutex_destroy(&cw->lock);
	pthread_cond_destroy(&cw->cond);
	free(cw->map);
	free(cw->spool_path);
	free(cw);
}

/* Memory first; once it is full (or the spool already holds writes, which must stay
 * ahead of new ones) the spool. */
static void submit(struct callstore *cw, struct job *j)
{
	pthread_mutex_lock(&cw->lock);
	if (stalled(cw, time_mono_ms()))
		outage_begin(cw, "no answer for 2 s");
	if (cw->spool_n || cw->queued >= cw->queue_max)
		spill(cw, j);
	else
		enqueue(cw, j);
	pthread_cond_signal(&cw->cond);
	pthread_mutex_unlock(&cw->lock);
}

struct callrow *callstore_insert(struct callstore *cw, const struct store_call *c)
{
	struct callrow *row = calloc(1, sizeof(*row));
	struct job *j = calloc(1, sizeof(*j));

	if (!row || !j || !cw || !cw->st) {
		free(row);
		free(j);
		return NULL;
	}
	atomic_init(&row->refs, 1);
	pthread_mutex_init(&row->lock, NULL);
	pthread_mutex_lock(&cw->lock);
	row->key = ++cw->next_key;
	pthread_mutex_unlock(&cw->lock);
	j->kind = JOB_INSERT;
	j->row = row;
	j->c = *c;
	submit(cw, j);
	return row;
}

void callstore_row_hold(struct callrow *row)
{
	if (row)
		atomic_fetch_add(&row->refs, 1);
}

void callstore_turn(struct callstore *cw, struct callrow *row, const struct store_turn *t)
{
	struct job *j;
	char *text;

	if (!row)
		return;
	j = calloc(1, sizeof(*j));
	if (!j || (t->text && !(j->t.text = strdup(t->text)))) {
		log_error("calls: out of memory, turn %d not stored", t->seq);
		free(j);
		return;
	}
	text = j->t.text;
	j->kind = JOB_TURN;
	j->row = row;
	j->t = *t;
	j->t.text = text;
	submit(cw, j);
}

void callstore_row_release(struct callstore *cw, struct callrow *row)
{
	struct job *j;

	if (!row)
		return;
	/* Freed on the writer, after the turns queued before. */
	while (!(j = calloc(1, sizeof(*j))))
		;
	j->kind = JOB_RELEASE;
	j->row = row;
	submit(cw, j);
}

void callstore_update(struct callstore *cw, struct callrow *row, const struct store_call *c,
		      bool last)
{
	struct job *j;

	if (!row)
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		log_error("calls: out of memory, call %s not updated", c->sip_call_id);
		if (!last)
			return;
		/* Hand the row to the writer anyway so it is freed there. */
		while (!(j = calloc(1, sizeof(*j))))
			;
	}
	j->kind = JOB_UPDATE;
	j->last = last;
	j->row = row;
	j->c = *c;
	submit(cw, j);
}

void callstore_metrics(struct callstore_metrics *out)
{
	int64_t since = atomic_load(&m_attempt_since);

	out->queue_depth = atomic_load(&m_depth);
	out->spool_depth = atomic_load(&m_spool_depth);
	out->write_failures = atomic_load(&m_failures);
	out->spooled = atomic_load(&m_spooled);
	out->dropped = atomic_load(&m_dropped);
	out->outage = atomic_load(&m_outages) > 0 ||
		      (since && time_mono_ms() - since > STALL_MS);
}
