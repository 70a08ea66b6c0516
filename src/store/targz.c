/* targz.c - a minimal .tar.gz writer: ustar headers, gzip of stored deflate blocks. */
#include "store/targz.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 512
#define STORED_MAX 65535

struct targz {
	int fd;
	targz_write_h *wr;
	void *arg;
	int err;
	uint32_t crc;
	uint32_t isize;		/* uncompressed size mod 2^32 */
	size_t n;		/* bytes pending in buf */
	uint8_t buf[STORED_MAX];
};

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static int write_fd(void *arg, const void *data, size_t len)
{
	return fd_write_all(*(int *)arg, data, len);
}

/* One non-final stored block with what is pending. */
static int flush_block(struct targz *tz, int final)
{
	uint8_t hdr[5];
	uint16_t len = (uint16_t)tz->n;

	hdr[0] = final ? 1 : 0;	/* BFINAL, BTYPE=00 */
	hdr[1] = (uint8_t)len;
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)~len;
	hdr[4] = (uint8_t)(~len >> 8);
	if (!tz->err)
		tz->err = tz->wr(tz->arg, hdr, sizeof(hdr));
	if (!tz->err && tz->n)
		tz->err = tz->wr(tz->arg, tz->buf, tz->n);
	tz->n = 0;
	return tz->err;
}

static int put(struct targz *tz, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len && !tz->err) {
		size_t take = STORED_MAX - tz->n;

		if (take > len)
			take = len;
		for (size_t i = 0; i < take; i++)
			tz->crc = crc_table[(tz->crc ^ p[i]) & 0xff] ^ (tz->crc >> 8);
		memcpy(tz->buf + tz->n, p, take);
		tz->n += take;
		tz->isize += (uint32_t)take;
		p += take;
		len -= take;
		if (tz->n == STORED_MAX)
			flush_block(tz, 0);
	}
	return tz->err;
}

static int targz_new(struct targz **out, int fd, targz_write_h *wr, void *arg)
{
	static const uint8_t gz_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct targz *tz;
	int err;

	pthread_once(&once, crc_init);
	tz = calloc(1, sizeof(*tz));
	if (!tz)
		return ENOMEM;
	tz->fd = fd;
	tz->wr = wr;
	tz->arg = arg ? arg : &tz->fd;
	tz->crc = 0xffffffffu;
	err = tz->wr(tz->arg, gz_header, sizeof(gz_header));
	if (err) {
		free(tz);
		return err;
	}
	*out = tz;
	return 0;
}

int targz_open(struct targz **out, int fd)
{
	if (!out || fd < 0)
		return EINVAL;
	return targz_new(out, fd, write_fd, NULL);
}

int targz_open_cb(struct targz **out, targz_write_h *wr, void *arg)
{
	if (!out || !wr)
		return EINVAL;
	return targz_new(out, -1, wr, arg);
}

int targz_add(struct targz *tz, const char *name, const void *data, size_t len)
{
	static const uint8_t zeros[BLOCK];
	uint8_t h[BLOCK];
	unsigned sum = 0;

	if (!tz || !name || strlen(name) >= 100 || (!data && len))
		return EINVAL;
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", 0600);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)time(NULL));
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "callbot", 7);
	memcpy(h + 297, "callbot", 7);
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	put(tz, h, sizeof(h));
	put(tz, data, len);
	if (len % BLOCK)
		put(tz, zeros, BLOCK - len % BLOCK);
	return tz->err;
}

int targz_close(struct targz *tz)
{
	static const uint8_t zeros[2 * BLOCK];
	uint8_t trailer[8];
	uint32_t crc;
	int err;

	if (!tz)
		return EINVAL;
	put(tz, zeros, sizeof(zeros));
	flush_block(tz, 1);
	crc = tz->crc ^ 0xffffffffu;
	for (int i = 0; i < 4; i++) {
		trailer[i] = (uint8_t)(crc >> (8 * i));
		trailer[4 + i] = (uint8_t)(tz->isize >> (8 * i));
	}
	if (!tz->err)
		tz->err = tz->wr(tz->arg, trailer, sizeof(trailer));
	err = tz->err;
	free(tz);
	return err;
}

/* Reading */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int targz_read(const unsigned char *buf, size_t len, targz_entry_h *h, void *arg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	unsigned char *tar = NULL;
	size_t pos = 10, n = 0, cap;
	uint32_t crc = 0xffffffffu;
	int err = 0, final = 0;

	pthread_once(&once, crc_init);
	if (!buf || !h)
		return EINVAL;
	if (len < 18 || buf[0] != 0x1f || buf[1] != 0x8b || buf[2] != 8)
		return EBADMSG;
	if (buf[3] != 0)	/* we write no optional fields */
		return ENOTSUP;
	cap = len;		/* stored blocks never expand */
	tar = malloc(cap + 1);
	if (!tar)
		return ENOMEM;
	while (!final) {
		size_t blen;

		if (pos + 5 > len - 8) {
			err = EBADMSG;
			goto out;
		}
		if (buf[pos] & 0x06) {	/* BTYPE != stored */
			err = ENOTSUP;
			goto out;
		}
		final = buf[pos] & 1;
		blen = (size_t)buf[pos + 1] | (size_t)buf[pos + 2] << 8;
		if ((buf[pos + 3] ^ buf[pos + 1]) != 0xff || (buf[pos + 4] ^ buf[pos + 2]) != 0xff ||
		    pos + 5 + blen > len - 8 || n + blen > cap) {
			err = EBADMSG;
			goto out;
		}
		memcpy(tar + n, buf + pos + 5, blen);
		n += blen;
		pos += 5 + blen;
	}
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ tar[i]) & 0xff] ^ (crc >> 8);
	if ((crc ^ 0xffffffffu) != le32(buf + pos) || (uint32_t)n != le32(buf + pos + 4)) {
		err = EBADMSG;
		goto out;
	}
	for (size_t off = 0; off + BLOCK <= n;) {
		const unsigned char *hd = tar + off;
		char name[101], size[13];
		unsigned long long sz;
		char *end;

		if (hd[0] == 0)
			break;	/* end of archive */
		memcpy(name, hd, 100);
		name[100] = 0;
		memcpy(size, hd + 124, 12);
		size[12] = 0;
		sz = strtoull(size, &end, 8);
		if (end == size || sz > n - off - BLOCK) {
			err = EBADMSG;
			goto out;
		}
		if (hd[156] == '0' || hd[156] == 0)
			err = h(name, hd + BLOCK, (size_t)sz, arg);
		if (err)
			goto out;
		off += BLOCK + ((size_t)sz + BLOCK - 1) / BLOCK * BLOCK;
	}
out:
	free(tar);
	return err;
}
