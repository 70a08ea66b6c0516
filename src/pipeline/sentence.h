/* sentence.h - cuts streamed reply text into sentences, so the first one can be spoken
 * while the language model is still writing the rest. */
#ifndef CALLBOT_PIPELINE_SENTENCE_H
#define CALLBOT_PIPELINE_SENTENCE_H

#include <stddef.h>

#define SENTENCE_MAX 400 /* a longer run is cut at a comma or space to get audio out */

typedef void(sentence_h)(const char *sentence, size_t len, void *arg);

struct sentencer {
	char buf[SENTENCE_MAX + 1];
	size_t len;
	sentence_h *h;
	void *arg;
};

void sentencer_init(struct sentencer *s, sentence_h *h, void *arg);
void sentencer_feed(struct sentencer *s, const char *text, size_t len);
/* Emits what is left (the end of the reply). */
void sentencer_flush(struct sentencer *s);

#endif
