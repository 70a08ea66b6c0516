/* recording.h - a call recording as a plain WAV byte stream (private to src/web).
 * The one place that turns a calls.recording_path into bytes; recordings encrypted at
 * rest (crypto/recfile.h) are decrypted here, so routes only ever see plain WAV. */
#ifndef CALLBOT_WEB_RECORDING_H
#define CALLBOT_WEB_RECORDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct web_recording;
struct fernet_keyring;

/* Resolves path (absolute, else relative to audio_dir, else to base_dir: the first that
 * exists) and checks that it lies inside audio_dir once symlinks are resolved. out gets
 * the real path. EACCES when outside, ENOENT when missing. */
int web_recording_resolve(const char *audio_dir, const char *base_dir, const char *path,
		      char *out, size_t cap);
/* Opens a regular file inside audio_dir; kr (may be NULL) decrypts encrypted ones.
 * EACCES, ENOENT, EISDIR, EBADMSG (cannot decrypt), ... */
int web_recording_open(const char *audio_dir, const char *base_dir, const char *path,
		   const struct fernet_keyring *kr, struct web_recording **out);
/* Size of the plain WAV stream. */
uint64_t web_recording_size(const struct web_recording *r);
/* Reads up to n bytes of the plain stream at off; bytes read, 0 at the end, -1 on error. */
ssize_t web_recording_read(struct web_recording *r, uint64_t off, void *buf, size_t n);
void web_recording_close(struct web_recording *r);

#endif
