/* recorder.h - call recordings written by a writer thread (the loop never
 * touches the disk): stereo 8 kHz WAV, caller left, bot right, mode 0600. */
#ifndef CALLBOT_MEDIA_RECORDER_H
#define CALLBOT_MEDIA_RECORDER_H

#include <stddef.h>
#include <stdint.h>

struct recorder;
struct recording;

struct fernet_keyring;
/* kr (may be NULL, must outlive the recorder): recordings are encrypted recfiles. */
int recorder_start(struct recorder **out, const struct fernet_keyring *kr);
/* Writes what is queued, then stops the thread. */
void recorder_stop(struct recorder *r);

/* Loop side. Opens path (created 0600, never overwritten); errors are logged
 * by the writer thread. NULL on ENOMEM. */
struct recording *recording_open(struct recorder *r, const char *path);
/* One 20 ms frame of each side. Dropped (and counted) if the writer is more
 * than a few seconds behind. */
void recording_frame(struct recording *rec, const int16_t caller[160], const int16_t bot[160]);
/* Finalises and frees the recording (asynchronously). */
void recording_close(struct recording *rec);

#endif
