/* recorder.c - the recording writer thread: a FIFO of open/frame/close jobs.
 * Frames are dropped when the queue is too long; open and close never are.
 * With ENCRYPTION_KEY set, the WAV stream goes into an encrypted recfile. */
#include "media/recorder.h"

#include "core/log.h"
#include "crypto/recfile.h"
#include "media/wav.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUED_FRAMES 20000 /* 400 s of one call, or 0.8 s of 500 calls */

enum job_kind { JOB_OPEN, JOB_FRAME, JOB_CLOSE };

struct recording {
	struct recorder *r;
	struct wav_writer w;   /* plain */
	struct recfile *rf;    /* encrypted */
	bool failed;
	uint64_t dropped;
	char path[];
};

struct job {
	struct job *next;
	enum job_kind kind;
	struct recording *rec;
	int16_t frame[320];
};

struct recorder {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t frames;
	bool stop;
	const struct fernet_keyring *kr;
};

/* A stereo 8 kHz 16-bit WAV header whose sizes are left open (0xFFFFFFFF): an encrypted
 * stream cannot seek back; readers complete them (recfile_read_all). */
static void open_wav_header(uint8_t h[44])
{
	static const uint8_t tmpl[44] = {
		'R', 'I', 'F', 'F', 0xff, 0xff, 0xff, 0xff, 'W', 'A', 'V', 'E',
		'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 2, 0,  /* PCM, 2 channels */
		0x40, 0x1f, 0, 0,                             /* 8000 Hz */
		0x00, 0x7d, 0, 0,                             /* 32000 bytes/s */
		4, 0, 16, 0,                                  /* block 4, 16 bits */
		'd', 'a', 't', 'a', 0xff, 0xff, 0xff, 0xff,
	};
	memcpy(h, tmpl, sizeof(tmpl));
}

static int rec_open(struct recording *rec, const struct fernet_keyring *kr)
{
	uint8_t hdr[44];
	int err;

	if (!kr)
		return wav_open(&rec->w, rec->path, 2, 8000);
	err = recfile_create(&rec->rf, rec->path, kr);
	if (err)
		return err;
	open_wav_header(hdr);
	return recfile_write(rec->rf, hdr, sizeof(hdr));
}

static int rec_write(struct recording *rec, const int16_t *frame, size_t n)
{
	/* Samples are written little-endian, as WAV wants: callbot runs on LE hosts. */
	return rec->rf ? recfile_write(rec->rf, frame, n * 2 * sizeof(int16_t))
		       : wav_write(&rec->w, frame, n);
}

static int rec_close(struct recording *rec)
{
	if (rec->rf)
		return recfile_close(rec->rf);
	return rec->w.f ? wav_close(&rec->w) : 0;
}

static void run(struct recorder *r, struct job *j)
{
	struct recording *rec = j->rec;
	int err;

	switch (j->kind) {
	case JOB_OPEN:
		err = rec_open(rec, r->kr);
		if (err) {
			rec->failed = true;
			log_error("recording: cannot create %s: %s", rec->path, strerror(err));
		}
		break;
	case JOB_FRAME:
		if (rec->failed)
			break;
		err = rec_write(rec, j->frame, 160);
		if (err) {
			rec->failed = true;
			log_error("recording: write to %s failed: %s", rec->path, strerror(err));
		}
		break;
	case JOB_CLOSE:
		err = rec_close(rec);
		if (err && !rec->failed)
			log_error("recording: closing %s failed: %s", rec->path, strerror(err));
		if (rec->dropped)
			log_warn("recording: %s misses %llu frames (disk too slow)", rec->path,
				 (unsigned long long)rec->dropped);
		free(rec);
		break;
	}
}

static void *writer_main(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct job *j = r->head;

		if (!j) {
			if (r->stop)
				break;
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->head = j->next;
		if (!r->head)
			r->tail = NULL;
		if (j->kind == JOB_FRAME)
			r->frames--;
		pthread_mutex_unlock(&r->lock);
		run(r, j);
		free(j);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int recorder_start(struct recorder **out, const struct fernet_keyring *kr)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return ENOMEM;
	r->kr = kr;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	err = pthread_create(&r->thread, NULL, writer_main, r);
	if (err) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
		return err;
	}
	pthread_setname_np(r->thread, "recorder");
	*out = r;
	return 0;
}

void recorder_stop(struct recorder *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

static void submit(struct recorder *r, struct job *j)
{
	pthread_mutex_lock(&r->lock);
	if (j->kind == JOB_FRAME) {
		if (r->frames >= MAX_QUEUED_FRAMES) {
			j->rec->dropped++;
			pthread_mutex_unlock(&r->lock);
			free(j);
			return;
		}
		r->frames++;
	}
	j->next = NULL;
	if (r->tail)
		r->tail->next = j;
	else
		r->head = j;
	r->tail = j;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

struct recording *recording_open(struct recorder *r, const char *path)
{
	size_t n = strlen(path);
	struct recording *rec = calloc(1, sizeof(*rec) + n + 1);
	struct job *j = malloc(sizeof(struct job));

	if (!rec || !j) {
		free(rec);
		free(j);
		return NULL;
	}
	memcpy(rec->path, path, n + 1);
	rec->r = r;
	j->kind = JOB_OPEN;
	j->rec = rec;
	submit(r, j);
	return rec;
}

void recording_frame(struct recording *rec, const int16_t caller[160], const int16_t bot[160])
{
	struct job *j;

	if (!rec)
		return;
	j = malloc(sizeof(*j));
	if (!j) {
		rec->dropped++;
		return;
	}
	j->kind = JOB_FRAME;
	j->rec = rec;
	for (int i = 0; i < 160; i++) {
		j->frame[2 * i] = caller[i];
		j->frame[2 * i + 1] = bot[i];
	}
	submit(rec->r, j);
}

void recording_close(struct recording *rec)
{
	struct job *j;

	if (!rec)
		return;
	/* A close must not be lost: retry the allocation rather than leak the file. */
	while (!(j = malloc(sizeof(struct job))))
		;
	j->kind = JOB_CLOSE;
	j->rec = rec;
	submit(rec->r, j);
}
