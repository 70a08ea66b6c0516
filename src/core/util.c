/* util.c - small string, file and time helpers shared by every subsystem. */
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1; cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2; cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3; cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

int str_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (!src)
		src = "";
	n = strlen(src);

	if (cap == 0)
		return ENAMETOOLONG;
	if (n >= cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

char *str_clone(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *mem_to_str(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *str_trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	if (start)
		memmove(s, s + start, n - start + 1);
	return s;
}

unsigned str_distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return 16;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0], tmp;
		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb] > 16 ? 16 : row[lb];
}

char *path_join(const char *dir, const char *name)
{
	size_t ld, ln;
	char *p;

	if (!name)
		return NULL;
	if (name[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
		return strdup(name);
	ld = strlen(dir);
	ln = strlen(name);
	p = malloc(ld + ln + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, ld);
	p[ld] = '/';
	memcpy(p + ld + 1, name, ln + 1);
	return p;
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int file_read_all(const char *path, size_t max, char **buf_out, size_t *len_out)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EISDIR;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	while (len <= (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > (size_t)st.st_size) { /* grew while reading */
		err = EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*buf_out = buf;
	if (len_out)
		*len_out = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

char *url_redact(const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL, *at;
	char *s;

	if (!p)
		return str_clone(url);
	p += 3;
	at = memchr(p, '@', strcspn(p, "/?#"));
	if (!at)
		return str_clone(url);
	if (asprintf(&s, "%.*s%s", (int)(p - url), url, at + 1) < 0)
		return NULL;
	return s;
}

char *url_endpoint(const char *base, const char *path)
{
	size_t blen = strlen(base), plen = strlen(path);
	char *url;

	while (blen && base[blen - 1] == '/')
		blen--;
	if (blen >= plen && strncmp(base + blen - plen, path, plen) == 0)
		plen = 0;
	if (asprintf(&url, "%.*s%.*s", (int)blen, base, (int)plen, path) < 0)
		return NULL;
	return url;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec time_deadline_ms(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
