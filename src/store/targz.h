/* targz.h - a minimal .tar.gz writer (ustar entries, gzip with stored deflate blocks) for exports. */
#ifndef CALLBOT_STORE_TARGZ_H
#define CALLBOT_STORE_TARGZ_H

#include <stddef.h>

/*
 * Exports are written straight to a file descriptor (a file or an HTTP
 * response pipe), never to temporary plain files. Deflate's "stored" blocks
 * keep this dependency-free: WAV and JSON do not shrink much anyway, and
 * every tar/gzip reads the result.
 */
struct targz;

int targz_open(struct targz **out, int fd);
/* Same, writing through wr (returns 0 or an errno value). */
typedef int (targz_write_h)(void *arg, const void *data, size_t len);
int targz_open_cb(struct targz **out, targz_write_h *wr, void *arg);
/* One regular file, mode 0600, mtime now. name < 100 bytes. */
int targz_add(struct targz *tz, const char *name, const void *data, size_t len);
/* Writes the end-of-archive blocks and the gzip trailer; frees tz. Does not
 * close fd. Returns the first error of the archive's life. */
int targz_close(struct targz *tz);

/* Reads an archive this writer made (in memory): checks the gzip CRC and
 * calls h for each regular file. Archives recompressed by another tool
 * (real deflate) give ENOTSUP; damaged ones EBADMSG. */
typedef int (targz_entry_h)(const char *name, const unsigned char *data, size_t len,
			    void *arg);
int targz_read(const unsigned char *buf, size_t len, targz_entry_h *h, void *arg);

#endif
