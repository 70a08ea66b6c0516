/* util.h - small string, file and time helpers shared by every subsystem. */
#ifndef CALLBOT_CORE_UTIL_H
#define CALLBOT_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifndef ARRAY_SIZE /* libre's re_types.h defines the same */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

bool utf8_valid(const char *s, size_t len);
/* Copies at most cap-1 bytes and always terminates (NULL src copies ""); returns
 * ENAMETOOLONG if cut. */
int str_copy(char *dst, size_t cap, const char *src);
/* strdup that accepts NULL. (Not "str_dup": libre exports str_dup(), and ours
 * would interpose on it at run time, breaking every libre allocation.) */
char *str_clone(const char *s);
/* n bytes of a buffer that need not be NUL-terminated, as a new C string (malloc'd).
 * Unlike strndup it never looks past p + n. */
char *mem_to_str(const void *p, size_t n);
/* Trims ASCII white space in place; returns s. */
char *str_trim(char *s);
/* Levenshtein distance, capped at 16 (for "did you mean" hints). */
unsigned str_distance(const char *a, const char *b);
/* Joins dir and name unless name is absolute; malloc'd. */
char *path_join(const char *dir, const char *name);
/* Directory part of path ("." if none); malloc'd. */
char *path_dirname(const char *path);
/* Reads a whole file of at most max bytes; EFBIG if larger. Buffer is NUL-terminated. */
int file_read_all(const char *path, size_t max, char **buf_out, size_t *len_out);
/* Writes all of data, retrying on EINTR and short writes; 0 or errno. */
int fd_write_all(int fd, const void *data, size_t len);
/* The URL for log lines, without credentials (user:password@); malloc'd. */
char *url_redact(const char *url);
/* base (trailing slashes dropped) + path, unless base already ends with path: operators
 * give either a server's base URL or the full endpoint. malloc'd. */
char *url_endpoint(const char *base, const char *path);
/* Milliseconds since the epoch (wall clock) and a monotonic clock. */
int64_t time_now_ms(void);
int64_t time_mono_ms(void);
/* The wall-clock time ms from now, for pthread_cond_timedwait(). */
struct timespec time_deadline_ms(int64_t ms);

#endif
