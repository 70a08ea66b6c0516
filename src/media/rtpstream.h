/* rtpstream.h - one call's RTP/SRTP audio stream on the libre loop: receive into
 * a jitter buffer, send on the shared 20 ms clock (never from the receive path). */
#ifndef CALLBOT_MEDIA_RTPSTREAM_H
#define CALLBOT_MEDIA_RTPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

struct sa;
struct mediachan;
struct recording;
struct rtpstream;

struct rtpstream_stats {
	uint64_t rx_packets, rx_bytes, rx_bad, rx_srtp_fail, tx_packets;
	uint64_t lost, late, underrun, dtmf;
};

/* Binds a UDP socket on ip with an even port in [pmin, pmax], starting the
 * search at *cursor (advanced, shared between calls). EADDRINUSE when full. */
int rtpstream_alloc(struct rtpstream **out, const struct sa *ip, uint16_t pmin, uint16_t pmax,
		    uint16_t *cursor);
uint16_t rtpstream_lport(const struct rtpstream *rs);
/* Where to send and how: tx_pt 0 (PCMU) or 8 (PCMA); telev_pt -1 if none.
 * The remote address is replaced by the source of the first packet received
 * afterwards (symmetric RTP, for callers behind NAT). */
void rtpstream_set_remote(struct rtpstream *rs, const struct sa *raddr, int tx_pt, int telev_pt);
/* Hold: sending paused (but the clock and recording continue). */
void rtpstream_set_send(struct rtpstream *rs, bool on);
/* SDES-SRTP AES_CM_128_HMAC_SHA1_80 with 30-byte master key+salt each way. */
int rtpstream_set_srtp(struct rtpstream *rs, const uint8_t tx_key[30], const uint8_t rx_key[30]);
/* Starts delivering audio to mc and recording (rec may be NULL). */
void rtpstream_attach(struct rtpstream *rs, struct mediachan *mc, struct recording *rec);
/* One 20 ms period, in two halves. The clock runs the send half of every call, then the
 * receive half of every call: the sends form one short burst right after the tick, so
 * each stream's packet leaves at nearly the same offset every period (send jitter), and
 * no call's receive work delays another call's send. */
void rtpstream_tick_send(struct rtpstream *rs);
void rtpstream_tick_recv(struct rtpstream *rs);
/* Both halves of one period for this stream alone. */
void rtpstream_tick(struct rtpstream *rs);
/* Queues DTMF digits (0-9 * # A-D) to send as RFC 4733 telephone-events, one every
 * 180 ms in place of audio; ENOTSUP when the peer did not negotiate telephone-event. */
int rtpstream_send_dtmf(struct rtpstream *rs, const char *digits);
bool rtpstream_can_send_events(const struct rtpstream *rs);
void rtpstream_stats(const struct rtpstream *rs, struct rtpstream_stats *st);

#endif
