/* dtmftone.c - in-band DTMF tone generator. */
#include "media/dtmftone.h"

#include <math.h>
#include <string.h>

static const char keys[4][4] = { { '1', '2', '3', 'A' },
				 { '4', '5', '6', 'B' },
				 { '7', '8', '9', 'C' },
				 { '*', '0', '#', 'D' } };
static const double row_hz[4] = { 697, 770, 852, 941 };
static const double col_hz[4] = { 1209, 1336, 1477, 1633 };

static int find_key(char d, int *row, int *col)
{
	if (d >= 'a' && d <= 'd')
		d = (char)(d - 'a' + 'A');
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			if (keys[r][c] == d) {
				*row = r;
				*col = c;
				return 0;
			}
	return -1;
}

size_t dtmftone_render(const char *digits, int16_t *out, size_t cap)
{
	const size_t tone = DTMFTONE_TONE_MS * 8, gap = DTMFTONE_GAP_MS * 8;
	size_t n = 0;

	for (; digits && *digits; digits++) {
		int r, c;

		if (find_key(*digits, &r, &c) || n + tone + gap > cap)
			continue;
		for (size_t i = 0; i < tone; i++) {
			double t = (double)i / 8000.0;
			/* each tone at about -9 dBFS: the pair stays clear of clipping */
			double v = 0.35 * sin(2 * M_PI * row_hz[r] * t) +
				   0.35 * sin(2 * M_PI * col_hz[c] * t);
			out[n++] = (int16_t)lrint(v * 32767.0);
		}
		memset(out + n, 0, gap * sizeof(*out));
		n += gap;
	}
	return n;
}
