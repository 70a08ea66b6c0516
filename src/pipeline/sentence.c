/* sentence.c - cuts streamed reply text into sentences for early speech synthesis. */
#include "pipeline/sentence.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

void sentencer_init(struct sentencer *s, sentence_h *h, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->h = h;
	s->arg = arg;
}

/* "Dr. Smith" and "e.g. this" do not end a sentence. */
static bool is_abbreviation(const char *buf, size_t dot)
{
	static const char *const abbr[] = { "mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g",
					    "i.e", "no", "approx", "prof", "jr", "sr" };
	size_t start = dot;

	while (start > 0 && !isspace((unsigned char)buf[start - 1]))
		start--;
	for (size_t i = 0; i < sizeof(abbr) / sizeof(abbr[0]); i++) {
		if (dot - start == strlen(abbr[i]) && strncasecmp(buf + start, abbr[i], dot - start) == 0)
			return true;
	}
	return false;
}

static void emit(struct sentencer *s, size_t n)
{
	size_t start = 0, end = n;

	while (start < end && isspace((unsigned char)s->buf[start]))
		start++;
	while (end > start && isspace((unsigned char)s->buf[end - 1]))
		end--;
	if (end > start)
		s->h(s->buf + start, end - start, s->arg);
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

/* Index just past a sentence end followed by white space, or 0. */
static size_t find_end(const struct sentencer *s)
{
	for (size_t i = 0; i + 1 < s->len; i++) {
		char c = s->buf[i];
		if ((c == '.' || c == '!' || c == '?' || c == ';') && isspace((unsigned char)s->buf[i + 1]) &&
		    !(c == '.' && is_abbreviation(s->buf, i)))
			return i + 1;
		if (c == '\n')
			return i + 1;
	}
	return 0;
}

static size_t find_cut(const struct sentencer *s)
{
	for (size_t i = s->len; i-- > SENTENCE_MAX / 2;) {
		if (s->buf[i] == ',')
			return i + 1;
	}
	for (size_t i = s->len; i-- > 0;) {
		if (s->buf[i] == ' ')
			return i + 1;
	}
	return s->len;
}

void sentencer_feed(struct sentencer *s, const char *text, size_t len)
{
	while (len) {
		size_t room = SENTENCE_MAX - s->len, take = len < room ? len : room, end;

		memcpy(s->buf + s->len, text, take);
		s->len += take;
		s->buf[s->len] = '\0';
		text += take;
		len -= take;
		while ((end = find_end(s)) != 0)
			emit(s, end);
		if (s->len == SENTENCE_MAX)
			emit(s, find_cut(s));
	}
}

void sentencer_flush(struct sentencer *s)
{
	if (s->len)
		emit(s, s->len);
}
