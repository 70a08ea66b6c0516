/* route_export.c - GET /api/export?caller=NUM (admin): everything stored about one number
 * (calls, consent, decrypted turns, decrypted recordings) as the same .tar.gz as
 * `callbot export`. Audited by data_export with the number hashed. */
#include "web/query.h"

#include "store/data.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum MHD_Result route_export(struct http_req *req)
{
	const struct web_conf *wc = web_conf(req->web);
	const char *caller = NULL;
	struct data_ctx dc = {
		.st = web_store(req->web), .base_dir = wc->base_dir, .audio_dir = wc->audio_dir,
		.hash_key = wc->secret_key, .user_id = req->user.id, .ip = req->client,
	};
	struct MHD_Response *r;
	struct stat st;
	int fd, err;

	if (!query_text(req, "caller", 127, &caller) || !caller || !*caller)
		return http_error(req, 400, "caller is required");
	/* Decrypted recordings never touch the disk: the archive is built in memory. */
	fd = memfd_create("callbot-export", MFD_CLOEXEC);
	if (fd < 0)
		return http_error(req, 500, "internal error");
	err = data_export(&dc, caller, fd, NULL);
	if (err || fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return http_error(req, err == ENOMEM ? 503 : 500, "the export could not be made");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* takes the fd */
	if (!r) {
		close(fd);
		return http_error(req, 500, "internal error");
	}
	MHD_add_response_header(r, "Content-Type", "application/gzip");
	MHD_add_response_header(r, "Content-Disposition",
				"attachment; filename=\"callbot-export.tar.gz\"");
	req->bytes = (size_t)st.st_size;
	return http_queue(req, 200, r);
}
