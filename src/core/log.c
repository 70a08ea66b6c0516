/* log.c - thread-safe line logger; each line is one write() on an O_APPEND fd. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static struct {
	pthread_mutex_t lock;
	int fd;
	enum log_level level;
	bool to_stderr;
} logger = { PTHREAD_MUTEX_INITIALIZER, -1, LOGL_INFO, true };

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

int log_open(const char *dir)
{
	char path[4096];
	int fd;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return errno;
	if (snprintf(path, sizeof(path), "%s/callbot.log", dir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno;

	pthread_mutex_lock(&logger.lock);
	if (logger.fd >= 0)
		close(logger.fd);
	logger.fd = fd;
	pthread_mutex_unlock(&logger.lock);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&logger.lock);
	if (logger.fd >= 0)
		close(logger.fd);
	logger.fd = -1;
	pthread_mutex_unlock(&logger.lock);
}

void log_set_level(enum log_level level) { logger.level = level; }
void log_set_stderr(bool on) { logger.to_stderr = on; }
bool log_enabled(enum log_level level) { return level >= logger.level; }

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct { const char *name; enum log_level level; } names[] = {
		{ "debug", LOGL_DEBUG }, { "info", LOGL_INFO }, { "warn", LOGL_WARN },
		{ "warning", LOGL_WARN }, { "error", LOGL_ERROR },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return EINVAL;
}

void log_timestamp(char *buf, unsigned long size)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* Control characters would let a caller id or user name forge log lines. */
static size_t escape_controls(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *src && n + 5 < cap; src++) {
		unsigned char ch = (unsigned char)*src;
		if (ch < 0x20 || ch == 0x7f) {
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[ch >> 4];
			dst[n++] = hex[ch & 15];
		} else {
			dst[n++] = (char)ch;
		}
	}
	dst[n] = '\0';
	return n;
}

static void emit(const char *line, size_t len)
{
	pthread_mutex_lock(&logger.lock);
	if (logger.fd >= 0) {
		/* A failed log write has nowhere better to be reported. */
		ssize_t w = write(logger.fd, line, len);
		(void)w;
	}
	if (logger.to_stderr || logger.fd < 0) {
		ssize_t w = write(STDERR_FILENO, line, len);
		(void)w;
	}
	pthread_mutex_unlock(&logger.lock);
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 64], ts[32];
	int n;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_timestamp(ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "%s %s ", ts, level_names[level]);
	n += (int)escape_controls(line + n, sizeof(line) - (size_t)n - 1, msg);
	line[n++] = '\n';
	emit(line, (size_t)n);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

void log_security(const char *event, const char *fmt, ...)
{
	char details[LOG_LINE_MAX / 2], ts[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	log_timestamp(ts, sizeof(ts));
	log_write(LOGL_WARN, "SECURITY: %s - %s - %s", event, details, ts);
}
