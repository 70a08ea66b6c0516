/* access_log.c - LOG_DIR/access.log in the combined log format (for fail2ban). */
#include "web/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct access_log {
	int fd;
	char path[4096];
};

int access_log_open(struct access_log **out, const char *dir)
{
	struct access_log *al;
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/access.log", dir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	al = calloc(1, sizeof(*al));
	if (!al)
		return ENOMEM;
	memcpy(al->path, path, sizeof(path));
	al->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (al->fd < 0) {
		int err = errno;
		free(al);
		return err;
	}
	*out = al;
	return 0;
}

int access_log_reopen(struct access_log *al)
{
	int fd = open(al->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return errno;
	/* dup3 swaps the file under the same number: writers never see a closed fd. */
	if (dup3(fd, al->fd, O_CLOEXEC) < 0) {
		int err = errno;
		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

void access_log_close(struct access_log *al)
{
	if (!al)
		return;
	close(al->fd);
	free(al);
}

/* Quotes and backslashes in a request line must not break the log format. */
static void sanitize(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 5 < cap; src++) {
		unsigned char ch = (unsigned char)*src;
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
		else
			dst[n++] = (char)ch;
	}
	dst[n] = '\0';
}

void access_log_write(struct access_log *al, const struct http_req *req, const char *referer,
		      const char *agent, const char *version)
{
	char line[4096], url[1024], ref[512], ua[512], ts[64], method[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (!al)
		return;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%d/%b/%Y:%H:%M:%S %z", &tm);
	sanitize(method, sizeof(method), req->method);
	sanitize(url, sizeof(url), req->url);
	sanitize(ref, sizeof(ref), referer ? referer : "-");
	sanitize(ua, sizeof(ua), agent ? agent : "-");
	n = snprintf(line, sizeof(line), "%s - - [%s] \"%s %s %s\" %u %zu \"%s\" \"%s\"\n",
		     req->client, ts, method, url, version ? version : "HTTP/1.1", req->status,
		     req->bytes, ref, ua);
	if (n > 0) {
		ssize_t w = write(al->fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)w;
	}
}
