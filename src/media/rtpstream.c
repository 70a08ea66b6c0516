/* rtpstream.c - RTP receive (SRTP decrypt, header check, symmetric latching,
 * RFC 4733 events, jitter buffer) and clocked send with comfort silence.
 *
 * Both directions run on the shared 20 ms clock: each tick sends one frame, then drains
 * the socket with recvmmsg() into stack buffers and plays one frame. The RTP sockets are not
 * in the event loop at all, so 500 calls cost 50 loop wake-ups a second instead of
 * 25,000, and no packet is allocated (libre's udp_sock allocates two blocks per packet
 * received). The jitter buffer is read at the tick anyway, so reading the packets then
 * changes no playout decision. */
#include "media/rtpstream.h"

#include "media/g711.h"
#include "media/jitbuf.h"
#include "media/mediachan.h"
#include "media/recorder.h"

#include <re.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JB_PREFILL 2
#define JB_MAXDEPTH 6
#define PLC_FRAMES 3 /* repeat the last frame (fading) this many times, then silence */
#define DTMF_TX_MAX 32   /* digits queued for sending */
#define DTMF_TX_TONE 5   /* frames per digit (100 ms) */
#define DTMF_TX_END 3    /* end packets, repeated for robustness (RFC 4733 2.5.1.4) */
#define DTMF_TX_GAP 3    /* frames of audio between digits (60 ms) */
#define RX_BATCH 8    /* datagrams per recvmmsg() */
#define RX_BATCHES 4  /* per tick at most: a flood cannot stall the clock */
#define RX_MAX 1500   /* bytes per datagram; larger ones are truncated and rejected */
#define SOCKBUF 65536

struct rtpstream {
	int fd;
	struct sa laddr, raddr;
	bool raddr_set, latched, send_on;
	int tx_pt, telev_pt;
	struct srtp *srtp_tx, *srtp_rx;
	uint32_t ssrc, ts;
	uint16_t seq;
	bool first_sent;
	struct jitbuf jb;
	int16_t last[MEDIA_FRAME];
	int16_t tx[MEDIA_FRAME]; /* this tick's frame sent, for the recording */
	unsigned plc;
	uint32_t dtmf_ts;
	bool dtmf_seen;
	/* RFC 4733 sending: queued digits, and the phase of the current one */
	char dtx[DTMF_TX_MAX + 1];
	unsigned dtx_n, dtx_frame;
	uint32_t dtx_ts;
	struct mediachan *mc;
	struct recording *rec;
	struct rtpstream_stats st;
	struct mbuf *txmb;
};

static void destructor(void *arg)
{
	struct rtpstream *rs = arg;

	if (rs->fd >= 0)
		close(rs->fd);
	mem_deref(rs->srtp_tx);
	mem_deref(rs->srtp_rx);
	mem_deref(rs->txmb);
}

static char dtmf_char(int ev)
{
	static const char map[] = "0123456789*#ABCD";

	return ev >= 0 && ev < 16 ? map[ev] : '\0';
}

static void handle_telev(struct rtpstream *rs, const struct rtp_header *hdr, struct mbuf *mb)
{
	const uint8_t *p = mbuf_buf(mb);
	struct media_event ev = { .type = MEDIA_EV_DTMF };

	if (mbuf_get_left(mb) < 4)
		return;
	/* event(8) E|R|volume(8) duration(16); report once, when it ends. */
	if (!(p[1] & 0x80))
		return;
	if (rs->dtmf_seen && hdr->ts == rs->dtmf_ts)
		return; /* the end packet is sent three times */
	rs->dtmf_seen = true;
	rs->dtmf_ts = hdr->ts;
	ev.digit = dtmf_char(p[0]);
	ev.duration_ms = (unsigned)((p[2] << 8) | p[3]) / 8;
	if (!ev.digit)
		return;
	rs->st.dtmf++;
	if (rs->mc)
		mediachan_push_event(rs->mc, &ev);
}

static void udp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct rtpstream *rs = arg;
	struct rtp_header hdr;
	size_t start = mb->pos;
	int err;

	rs->st.rx_packets++;
	rs->st.rx_bytes += mbuf_get_left(mb);
	if (mbuf_get_left(mb) < RTP_HEADER_SIZE || (mbuf_buf(mb)[0] >> 6) != RTP_VERSION) {
		rs->st.rx_bad++;
		return;
	}
	/* RTCP on the RTP port (rtcp-mux) or stray packets: payload types 64-95 with M. */
	if ((mbuf_buf(mb)[1] & 0x7f) >= 72 && (mbuf_buf(mb)[1] & 0x7f) <= 76)
		return;
	if (rs->srtp_rx) {
		err = srtp_decrypt(rs->srtp_rx, mb);
		if (err) {
			rs->st.rx_srtp_fail++;
			return;
		}
		mb->pos = start;
	}
	if (rtp_hdr_decode(&hdr, mb) || hdr.ver != RTP_VERSION) {
		rs->st.rx_bad++;
		return;
	}
	if (!rs->latched) {
		/* Symmetric RTP: answer where the caller really sends from (NAT). */
		rs->raddr = *src;
		rs->raddr_set = true;
		rs->latched = true;
	}
	if (hdr.pt == rs->telev_pt && rs->telev_pt >= 0) {
		handle_telev(rs, &hdr, mb);
		return;
	}
	if (hdr.pt != 0 && hdr.pt != 8)
		return; /* CN and anything unexpected: nothing to decode */
	if (jitbuf_put(&rs->jb, hdr.seq, hdr.pt, mbuf_buf(mb), mbuf_get_left(mb)) == EMSGSIZE)
		rs->st.rx_bad++;
}

/* Everything queued on the socket since the last tick (bounded). */
static void rx_drain(struct rtpstream *rs)
{
	uint8_t buf[RX_BATCH][RX_MAX];
	struct sockaddr_storage from[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct mmsghdr msg[RX_BATCH];

	for (int b = 0; b < RX_BATCHES; b++) {
		int n;

		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = RX_MAX;
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(rs->fd, msg, RX_BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			/* A stack mbuf: the receive path parses and decrypts in place, never grows it. */
			struct mbuf mb = { .buf = buf[i], .size = RX_MAX, .end = msg[i].msg_len };
			struct sa src;

			if (msg[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    msg[i].msg_hdr.msg_namelen > sizeof(src.u)) {
				rs->st.rx_bad++;
				continue;
			}
			memset(&src, 0, sizeof(src));
			memcpy(&src.u, &from[i], msg[i].msg_hdr.msg_namelen);
			src.len = msg[i].msg_hdr.msg_namelen;
			udp_recv(&src, &mb, rs);
		}
		if (n < RX_BATCH)
			break;
	}
}

/* A non-blocking UDP socket bound to laddr (not in the event loop: see the top). */
static int sock_bind(struct rtpstream *rs)
{
	int fd, size = SOCKBUF, err;

	fd = socket(sa_af(&rs->laddr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return errno;
	if (bind(fd, &rs->laddr.u.sa, rs->laddr.len) != 0) {
		err = errno;
		close(fd);
		return err;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	rs->fd = fd;
	return 0;
}

int rtpstream_alloc(struct rtpstream **out, const struct sa *ip, uint16_t pmin, uint16_t pmax,
		    uint16_t *cursor)
{
	struct rtpstream *rs;
	unsigned span, tries;
	int err = EADDRINUSE;

	if (!out || !ip || pmin > pmax)
		return EINVAL;
	rs = mem_zalloc(sizeof(*rs), destructor);
	if (!rs)
		return ENOMEM;
	rs->fd = -1;
	rs->txmb = mbuf_alloc(RTP_HEADER_SIZE + MEDIA_FRAME + 64);
	if (!rs->txmb) {
		err = ENOMEM;
		goto out;
	}
	pmin = (uint16_t)((pmin + 1) & ~1u);
	span = pmax >= pmin ? (unsigned)(pmax - pmin) / 2 + 1 : 0;
	for (tries = 0; tries < span; tries++) {
		uint16_t port;

		if (*cursor < pmin || *cursor > pmax)
			*cursor = pmin;
		port = (uint16_t)(*cursor & ~1u);
		*cursor = (uint16_t)(port + 2);
		if (port < pmin)
			continue;
		rs->laddr = *ip;
		sa_set_port(&rs->laddr, port);
		err = sock_bind(rs);
		if (!err)
			break;
		if (err != EADDRINUSE && err != EACCES)
			goto out;
	}
	if (err)
		goto out;
	rs->ssrc = rand_u32();
	rs->seq = rand_u16();
	rs->ts = rand_u32();
	rs->tx_pt = 0;
	rs->telev_pt = -1;
	rs->send_on = true;
	jitbuf_init(&rs->jb, JB_PREFILL, JB_MAXDEPTH);
out:
	if (err)
		mem_deref(rs);
	else
		*out = rs;
	return err;
}

uint16_t rtpstream_lport(const struct rtpstream *rs)
{
	return sa_port(&rs->laddr);
}

void rtpstream_set_remote(struct rtpstream *rs, const struct sa *raddr, int tx_pt, int telev_pt)
{
	/* A re-INVITE moving the media elsewhere restarts latching. */
	if (!rs->raddr_set || !rs->latched || !sa_cmp(&rs->raddr, raddr, SA_ALL)) {
		rs->raddr = *raddr;
		rs->raddr_set = sa_isset(raddr, SA_ALL);
		rs->latched = false;
	}
	rs->tx_pt = tx_pt;
	rs->telev_pt = telev_pt;
}

void rtpstream_set_send(struct rtpstream *rs, bool on)
{
	rs->send_on = on;
}

int rtpstream_set_srtp(struct rtpstream *rs, const uint8_t tx_key[30], const uint8_t rx_key[30])
{
	struct srtp *tx = NULL, *rx = NULL;
	int err;

	err = srtp_alloc(&tx, SRTP_AES_CM_128_HMAC_SHA1_80, tx_key, 30, 0);
	if (!err)
		err = srtp_alloc(&rx, SRTP_AES_CM_128_HMAC_SHA1_80, rx_key, 30, 0);
	if (err) {
		mem_deref(tx);
		mem_deref(rx);
		return err;
	}
	mem_deref(rs->srtp_tx);
	mem_deref(rs->srtp_rx);
	rs->srtp_tx = tx;
	rs->srtp_rx = rx;
	return 0;
}

void rtpstream_attach(struct rtpstream *rs, struct mediachan *mc, struct recording *rec)
{
	rs->mc = mc;
	rs->rec = rec;
}

/* The caller's next 20 ms: a jitter-buffer frame, a concealed loss, or silence. */
static void rx_frame(struct rtpstream *rs, int16_t pcm[MEDIA_FRAME])
{
	const struct jitbuf_slot *s;
	int err = jitbuf_get(&rs->jb, &s);

	if (!err) {
		size_t n = s->len < MEDIA_FRAME ? s->len : MEDIA_FRAME;

		g711_decode(s->pt, s->data, pcm, n);
		if (n < MEDIA_FRAME)
			memset(pcm + n, 0, (MEDIA_FRAME - n) * sizeof(*pcm));
		memcpy(rs->last, pcm, sizeof(rs->last));
		rs->plc = 0;
		return;
	}
	if (err == ENOENT && rs->plc < PLC_FRAMES) {
		/* Packet loss concealment: repeat the last frame, fading out. */
		rs->plc++;
		for (int i = 0; i < MEDIA_FRAME; i++)
			rs->last[i] = (int16_t)(rs->last[i] / 2);
		memcpy(pcm, rs->last, sizeof(rs->last));
		return;
	}
	memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
}

/* Encrypts (SRTP) and sends the packet in mb (from its start to mb->end). */
static void send_packet(struct rtpstream *rs, struct mbuf *mb)
{
	mb->pos = 0;
	if (rs->srtp_tx && srtp_encrypt(rs->srtp_tx, mb))
		return;
	mb->pos = 0;
	/* A full socket buffer (EAGAIN) drops this packet: the next tick sends the next one. */
	if (sendto(rs->fd, mb->buf, mb->end, 0, &rs->raddr.u.sa, rs->raddr.len) >= 0) {
		rs->st.tx_packets++;
		rs->first_sent = true;
	}
}

static void tx_frame(struct rtpstream *rs, const int16_t pcm[MEDIA_FRAME])
{
	struct rtp_header hdr;
	struct mbuf *mb = rs->txmb;
	uint8_t *payload;

	memset(&hdr, 0, sizeof(hdr));
	hdr.ver = RTP_VERSION;
	hdr.m = !rs->first_sent;
	hdr.pt = (uint8_t)rs->tx_pt;
	hdr.seq = rs->seq++;
	hdr.ts = rs->ts;
	hdr.ssrc = rs->ssrc;
	mbuf_rewind(mb);
	if (rtp_hdr_encode(mb, &hdr))
		return;
	/* Grown once (SRTP adds its tag): mbuf_resize() reallocates even to the same size. */
	if (mb->size < mb->pos + MEDIA_FRAME + 16 && mbuf_resize(mb, mb->pos + MEDIA_FRAME + 16))
		return;
	payload = mb->buf + mb->pos;
	g711_encode(rs->tx_pt, pcm, payload, MEDIA_FRAME);
	mb->pos += MEDIA_FRAME;
	mb->end = mb->pos;
	send_packet(rs, mb);
}

bool rtpstream_can_send_events(const struct rtpstream *rs)
{
	return rs->telev_pt >= 0;
}

static int dtmf_code(char d)
{
	static const char map[] = "0123456789*#ABCD";
	const char *p;

	if (d >= 'a' && d <= 'd')
		d = (char)(d - 'a' + 'A');
	p = d ? strchr(map, d) : NULL;
	return p ? (int)(p - map) : -1;
}

int rtpstream_send_dtmf(struct rtpstream *rs, const char *digits)
{
	if (rs->telev_pt < 0)
		return ENOTSUP;
	for (; *digits; digits++)
		if (dtmf_code(*digits) >= 0 && rs->dtx_n < DTMF_TX_MAX)
			rs->dtx[rs->dtx_n++] = *digits;
	return 0;
}

/* One telephone-event packet (RFC 4733 2.3): all packets of a digit share its start
 * timestamp; the duration grows, the last packets carry the E bit. */
static void tx_event(struct rtpstream *rs, int code, bool end, uint16_t duration)
{
	struct rtp_header hdr;
	struct mbuf *mb = rs->txmb;

	memset(&hdr, 0, sizeof(hdr));
	hdr.ver = RTP_VERSION;
	hdr.m = rs->dtx_frame == 0;
	hdr.pt = (uint8_t)rs->telev_pt;
	hdr.seq = rs->seq++;
	hdr.ts = rs->dtx_ts;
	hdr.ssrc = rs->ssrc;
	mbuf_rewind(mb);
	if (rtp_hdr_encode(mb, &hdr) || mbuf_write_u8(mb, (uint8_t)code) ||
	    mbuf_write_u8(mb, (uint8_t)((end ? 0x80 : 0) | 10)) ||
	    mbuf_write_u16(mb, htons(duration)))
		return;
	send_packet(rs, mb);
}

/* Sends this tick's part of the current digit instead of audio; false when none is due
 * (no digit queued, or the gap after one). */
static bool tx_dtmf_tick(struct rtpstream *rs)
{
	unsigned f = rs->dtx_frame;
	int code;

	if (!rs->dtx_n || rs->telev_pt < 0)
		return false;
	code = dtmf_code(rs->dtx[0]);
	if (f == 0)
		rs->dtx_ts = rs->ts;
	if (f < DTMF_TX_TONE) {
		tx_event(rs, code, false, (uint16_t)((f + 1) * MEDIA_FRAME));
	} else if (f == DTMF_TX_TONE) {
		for (int i = 0; i < DTMF_TX_END; i++)
			tx_event(rs, code, true, DTMF_TX_TONE * MEDIA_FRAME);
	}
	if (++rs->dtx_frame < DTMF_TX_TONE + 1 + DTMF_TX_GAP)
		return f <= DTMF_TX_TONE;
	memmove(rs->dtx, rs->dtx + 1, --rs->dtx_n);
	rs->dtx_frame = 0;
	return false;
}

void rtpstream_tick_send(struct rtpstream *rs)
{
	if (rs->mc)
		mediachan_pull(rs->mc, rs->tx);
	else
		memset(rs->tx, 0, sizeof(rs->tx));
	/* Nothing to say: comfort silence keeps the stream (and NAT bindings) alive. */
	if (rs->send_on && rs->raddr_set && !tx_dtmf_tick(rs))
		tx_frame(rs, rs->tx);
	rs->ts += MEDIA_FRAME;
}

void rtpstream_tick_recv(struct rtpstream *rs)
{
	int16_t rx[MEDIA_FRAME];

	rx_drain(rs);
	rx_frame(rs, rx);
	if (rs->mc)
		mediachan_push_audio(rs->mc, rx);
	if (rs->rec)
		recording_frame(rs->rec, rx, rs->tx);
}

void rtpstream_tick(struct rtpstream *rs)
{
	rtpstream_tick_send(rs);
	rtpstream_tick_recv(rs);
}

void rtpstream_stats(const struct rtpstream *rs, struct rtpstream_stats *st)
{
	*st = rs->st;
	st->lost = rs->jb.st.lost;
	st->late = rs->jb.st.late;
	st->underrun = rs->jb.st.underrun;
}
