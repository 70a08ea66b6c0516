/* time.c - ISO-8601 UTC text <-> milliseconds, done by hand so no TZ or locale can leak in. */
#include "store/time_iso.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>

#define MS_PER_DAY 86400000LL
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define MS_MIN (-62167219200000LL)
#define MS_MAX (253402300799999LL)

/* Howard Hinnant's days_from_civil: proleptic Gregorian, any year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era;
	int doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int64_t store_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes v (0 <= v < 10^width) as exactly width digits. */
static void put(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

void store_time_iso(int64_t ms, char out[32])
{
	int64_t days, rem, y;
	int m, d, msec, sec;

	if (ms < MS_MIN)
		ms = MS_MIN;
	if (ms > MS_MAX)
		ms = MS_MAX;
	/* floor division: times before 1970 belong to the previous day */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	msec = (int)(rem % 1000);
	sec = (int)(rem / 1000);
	put(out, (int)y, 4);
	out[4] = '-';
	put(out + 5, m, 2);
	out[7] = '-';
	put(out + 8, d, 2);
	out[10] = 'T';
	put(out + 11, sec / 3600, 2);
	out[13] = ':';
	put(out + 14, sec / 60 % 60, 2);
	out[16] = ':';
	put(out + 17, sec % 60, 2);
	out[19] = '.';
	put(out + 20, msec, 3);
	out[23] = 'Z';
	out[24] = '\0';
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int store_time_parse(const char *iso, int64_t *ms)
{
	const char *p = iso;
	int y, mo, d, h = 0, mi = 0, s = 0, frac = 0, off = 0;

	if (!iso || !ms)
		return EINVAL;
	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d))
		return EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return EINVAL;

	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi))
			return EINVAL;
		if (expect(&p, ':')) {
			if (!digits(&p, 2, &s))
				return EINVAL;
			if (expect(&p, '.') || expect(&p, ',')) {
				int n = 0;

				if (*p < '0' || *p > '9')
					return EINVAL;
				/* keep milliseconds, drop the rest (Python writes micro) */
				for (; *p >= '0' && *p <= '9'; p++, n++) {
					if (n < 3)
						frac = frac * 10 + (*p - '0');
				}
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || s > 59)
			return EINVAL;

		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (!digits(&p, 2, &oh))
				return EINVAL;
			/* +HH, +HH:MM or +HHMM */
			if (expect(&p, ':') || (*p >= '0' && *p <= '9')) {
				if (!digits(&p, 2, &om))
					return EINVAL;
			}
			if (oh > 23 || om > 59)
				return EINVAL;
			off = sign * (oh * 60 + om);
		}
	}
	if (*p != '\0')
		return EINVAL;

	*ms = days_from_civil(y, mo, d) * MS_PER_DAY +
	      ((int64_t)h * 3600 + mi * 60 + s - off * 60) * 1000 + frac;
	return 0;
}
