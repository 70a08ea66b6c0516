/* fuzz_sipval.c - a datagram as libre decodes it, then callbot's request sanity checks
 * (sipval_request) and, for an accepted request with a body, the SDP checks. */
#include <re.h>

#include "fuzz.h"
#include "sip/sdpchk.h"
#include "sip/sipval.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipval_result r;
	struct sip_msg *msg = NULL;
	struct mbuf *mb;

	if (size > 65535)
		return 0;
	mb = mbuf_alloc(size ? size : 1);
	if (!mb)
		abort();
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;
	if (sip_msg_decode(&msg, mb) == 0 && msg->req) {
		memset(&r, 0, sizeof(r));
		sipval_request(msg, &r);
		if (r.scode == 0 && !r.drop) {
			struct sdpchk_info info;
			const char *why = NULL;
			size_t left = mbuf_get_left(msg->mb);

			if (r.body_len > left)
				abort();	/* the body to use must be inside the message */
			if (r.body_len)
				(void)sdpchk_parse((const char *)mbuf_buf(msg->mb), r.body_len,
						   &info, &why);
		} else if (r.scode && (r.scode < 300 || r.scode > 699 || !r.reason)) {
			abort();	/* a refusal is an error response with a reason */
		}
	}
	mem_deref(msg);
	mem_deref(mb);
	return 0;
}
