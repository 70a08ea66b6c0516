/* reg.c - SIP registration client on libre's dialog/request layer (not
 * sipreg): digest auth with SHA-256 (RFC 8760) or MD5, chosen per challenge,
 * refresh at 90 % of the granted expiry, exponential backoff with jitter on
 * failure, SECURITY lines for refused credentials, state for the dashboard,
 * SIP outbound keep-alives, OPTIONS probes that notice a registrar that went
 * away between refreshes, un-REGISTER on stop. libre 1.1.0's own sip_auth
 * knows only MD5 and fails a challenge set that also offers SHA-256. */
#include "sip/reg.h"

#include "core/log.h"

#include <re.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define REG_MAX_CHALLENGES 3 /* per registration attempt (stale nonces) */
#define REG_PROBE_MISSES 2   /* unanswered OPTIONS in a row that mean "lost" */

struct reg {
	struct sip *sip;
	struct sip_dialog *dlg;
	struct sip_request *req;
	struct sip_keepalive *ka;
	struct tmr tmr;
	/* OPTIONS probes while registered */
	struct sip_request *probe;
	struct tmr probe_tmr;
	uint32_t probe_ms;
	unsigned probe_misses;
	uint32_t probe_cseq;
	char *probe_callid;
	struct sa laddr;
	enum sip_transp tp;
	char *reg_uri, *aor, *user, *auth_user, *password, *server, *instance;
	uint32_t expires;
	unsigned failc;
	/* the challenge being answered */
	bool have_chal, proxy, qop, sha256, sent_auth;
	unsigned challenges;
	char realm[128], nonce[256], opaque[256];
	uint32_t nc;
	enum reg_state state;
	char answer[96];	/* see reg_state_h */
	bool answer_new;	/* not yet reported */
	bool registered, stopping;
	reg_state_h *h;
	void *arg;
};

static int send_register(struct reg *r);

const char *reg_state_name(enum reg_state st)
{
	switch (st) {
	case REG_REGISTERING: return "registering";
	case REG_REGISTERED: return "registered";
	case REG_FAILED: return "failed";
	case REG_UNREGISTERED: return "unregistered";
	default: return "disabled";
	}
}

uint32_t reg_backoff_ms(unsigned n, uint16_t rnd)
{
	uint64_t ms = 4000;

	for (unsigned i = 1; i < n && ms < 300000; i++)
		ms *= 2;
	if (ms > 300000)
		ms = 300000;
	/* +-25 %: many devices restarting together must not retry in step. */
	return (uint32_t)(ms * 3 / 4 + ms / 2 * rnd / 65535);
}

static void set_state(struct reg *r, enum reg_state st)
{
	if (r->state == st && !r->answer_new)
		return;
	r->state = st;
	r->answer_new = false;
	if (r->h)
		r->h(st, r->answer, r->arg);
}

/* The registrar's latest final answer (or why none came), reported with the next state. */
static void note_answer(struct reg *r, const char *answer)
{
	if (!strcmp(r->answer, answer))
		return;
	snprintf(r->answer, sizeof(r->answer), "%s", answer);
	r->answer_new = true;
}

static void destructor(void *arg)
{
	struct reg *r = arg;

	tmr_cancel(&r->tmr);
	tmr_cancel(&r->probe_tmr);
	mem_deref(r->probe);
	mem_deref(r->probe_callid);
	mem_deref(r->req);
	mem_deref(r->ka);
	mem_deref(r->dlg);
	mem_deref(r->sip);
	mem_deref(r->reg_uri);
	mem_deref(r->aor);
	mem_deref(r->user);
	mem_deref(r->auth_user);
	/* The password is a secret: wipe it. */
	if (r->password)
		memset(r->password, 0, strlen(r->password));
	mem_deref(r->password);
	mem_deref(r->server);
	mem_deref(r->instance);
}

/* ---------- digest (RFC 2617 / 7616 / 8760) ---------- */

static void hexdigest(bool sha256, const char *in, char *out /* >= 65 */)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_Digest(in, strlen(in), md, &n, sha256 ? EVP_sha256() : EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++) {
		static const char hex[] = "0123456789abcdef";

		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The Authorization (or Proxy-Authorization) header for the next REGISTER. */
static int auth_header(struct reg *r, char **hdr)
{
	char ha1[65], ha2[65], resp[65], cnonce[17], buf[1024];
	int n;

	*hdr = NULL;
	if (!r->have_chal)
		return 0;
	n = snprintf(buf, sizeof(buf), "%s:%s:%s", r->auth_user, r->realm, r->password);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EOVERFLOW;
	hexdigest(r->sha256, buf, ha1);
	n = snprintf(buf, sizeof(buf), "REGISTER:%s", r->reg_uri);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EOVERFLOW;
	hexdigest(r->sha256, buf, ha2);
	r->nc++;
	re_snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)rand_u64());
	if (r->qop)
		n = snprintf(buf, sizeof(buf), "%s:%s:%08x:%s:auth:%s", ha1, r->nonce, r->nc, cnonce,
			     ha2);
	else
		n = snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, r->nonce, ha2);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EOVERFLOW;
	hexdigest(r->sha256, buf, resp);
	memset(buf, 0, sizeof(buf));
	memset(ha1, 0, sizeof(ha1));
	{
		char qop[64] = "", opaque[300] = "";

		if (r->qop)
			snprintf(qop, sizeof(qop), ", qop=auth, nc=%08x, cnonce=\"%s\"", r->nc, cnonce);
		if (r->opaque[0])
			snprintf(opaque, sizeof(opaque), ", opaque=\"%s\"", r->opaque);
		return re_sdprintf(hdr,
				   "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
				   "uri=\"%s\", response=\"%s\", algorithm=%s%s%s\r\n",
				   r->proxy ? "Proxy-Authorization" : "Authorization", r->auth_user,
				   r->realm, r->nonce, r->reg_uri, resp,
				   r->sha256 ? "SHA-256" : "MD5", qop, opaque);
	}
}

struct chal_pick {
	struct httpauth_digest_chall best;
	bool found, sha256, qop;
};

static bool qop_has_auth(const struct pl *qop)
{
	struct pl rest = *qop, tok;

	/* qop="auth,auth-int": is the plain "auth" token there? */
	while (!re_regex(rest.p, rest.l, "[^,]+", &tok)) {
		while (tok.l && (tok.p[0] == ' ' || tok.p[0] == '"')) {
			tok.p++;
			tok.l--;
		}
		while (tok.l && (tok.p[tok.l - 1] == ' ' || tok.p[tok.l - 1] == '"'))
			tok.l--;
		if (!pl_strcasecmp(&tok, "auth"))
			return true;
		if ((size_t)(tok.p + tok.l - rest.p) >= rest.l)
			break;
		rest.l -= (size_t)(tok.p + tok.l - rest.p);
		rest.p = tok.p + tok.l;
		if (rest.l && rest.p[0] == ',') {
			rest.p++;
			rest.l--;
		}
	}
	return false;
}

/* Looks at each challenge; prefers SHA-256, then MD5 (the default when no
 * algorithm is named). "-sess" variants and auth-int-only are not usable. */
static bool chal_handler(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct chal_pick *p = arg;
	struct httpauth_digest_chall ch;
	bool sha256, qop = false;

	(void)msg;
	if (httpauth_digest_challenge_decode(&ch, &hdr->val))
		return false;
	if (!pl_isset(&ch.algorithm) || !pl_strcasecmp(&ch.algorithm, "MD5"))
		sha256 = false;
	else if (!pl_strcasecmp(&ch.algorithm, "SHA-256"))
		sha256 = true;
	else
		return false;
	if (pl_isset(&ch.qop)) {
		if (!qop_has_auth(&ch.qop))
			return false;
		qop = true;
	}
	if (!p->found || (sha256 && !p->sha256)) {
		p->best = ch;
		p->found = true;
		p->sha256 = sha256;
		p->qop = qop;
	}
	return false; /* look at all of them */
}

/* Takes the challenge of a 401/407. false: nothing we can answer. */
static bool take_challenge(struct reg *r, const struct sip_msg *msg)
{
	struct chal_pick p = { 0 };
	bool proxy = msg->scode == 407;

	sip_msg_hdr_apply(msg, true, proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE,
			  chal_handler, &p);
	if (!p.found || p.best.realm.l >= sizeof(r->realm) || p.best.nonce.l >= sizeof(r->nonce) ||
	    p.best.opaque.l >= sizeof(r->opaque))
		return false;
	/* A new nonce restarts the nonce count. */
	if (!r->have_chal || pl_strcmp(&p.best.nonce, r->nonce))
		r->nc = 0;
	pl_strcpy(&p.best.realm, r->realm, sizeof(r->realm));
	pl_strcpy(&p.best.nonce, r->nonce, sizeof(r->nonce));
	r->opaque[0] = '\0';
	if (pl_isset(&p.best.opaque))
		pl_strcpy(&p.best.opaque, r->opaque, sizeof(r->opaque));
	r->sha256 = p.sha256;
	r->qop = p.qop;
	r->proxy = proxy;
	r->have_chal = true;
	return true;
}

/* ---------- the REGISTER transaction ---------- */

static int send_handler(enum sip_transp tp, const struct sa *src, const struct sa *dst,
			struct mbuf *mb, void *arg)
{
	struct reg *r = arg;

	(void)dst;
	r->laddr = *src;
	r->tp = tp;
	return mbuf_printf(mb, "Contact: <sip:%s@%J%s>;expires=%u;%s;reg-id=1\r\n", r->user,
			   &r->laddr, sip_transp_param(tp), r->stopping ? 0 : r->expires,
			   r->instance);
}

static void refresh(void *arg)
{
	struct reg *r = arg;
	int err;

	r->have_chal = false; /* each attempt starts without credentials */
	r->challenges = 0;
	if (r->state != REG_REGISTERED)
		set_state(r, REG_REGISTERING);
	err = send_register(r);
	if (err) {
		uint32_t wait = reg_backoff_ms(++r->failc, rand_u16());

		log_warn("sip: REGISTER to %s could not be sent: %s; retrying in %u s", r->server,
			 strerror(err), wait / 1000);
		note_answer(r, strerror(err));
		set_state(r, REG_FAILED);
		tmr_start(&r->tmr, wait, refresh, r);
	}
}

static void probes_stop(struct reg *r)
{
	tmr_cancel(&r->probe_tmr);
	r->probe = mem_deref(r->probe); /* cancels one in flight */
	r->probe_misses = 0;
}

static void failed(struct reg *r, const char *why)
{
	uint32_t wait = reg_backoff_ms(++r->failc, rand_u16());

	log_warn("sip: registration to %s failed: %s; retrying in %u.%u s (attempt %u)", r->server,
		 why, wait / 1000, (wait % 1000) / 100, r->failc);
	r->registered = false;
	r->ka = mem_deref(r->ka);
	probes_stop(r);
	note_answer(r, why);
	set_state(r, REG_FAILED);
	tmr_start(&r->tmr, wait, refresh, r);
}

/* ---------- OPTIONS probes (registrar still there?) ---------- */

static void probe_tick(void *arg);

static void probe_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct reg *r = arg;

	if (!err && msg && msg->scode < 200)
		return;
	if (err || !msg) {
		/* e.g. a TCP connection refused: counts as a probe without answer */
		r->probe_misses++;
		return;
	}
	r->probe_misses = 0;
}

static int probe_send(struct reg *r)
{
	return sip_requestf(&r->probe, r->sip, true, "OPTIONS", r->reg_uri, NULL, NULL, NULL,
			    probe_resp, r,
			    "Max-Forwards: 70\r\n"
			    "To: <%s>\r\n"
			    "From: <%s>;tag=%016llx\r\n"
			    "Call-ID: %s\r\n"
			    "CSeq: %u OPTIONS\r\n"
			    "Accept: application/sdp\r\n"
			    "Content-Length: 0\r\n\r\n",
			    r->reg_uri, r->aor, (unsigned long long)rand_u64(), r->probe_callid,
			    ++r->probe_cseq);
}

/* Every probe_ms: a probe still unanswered from the last tick is a miss. */
static void probe_tick(void *arg)
{
	struct reg *r = arg;
	char why[64];
	int err;

	if (r->probe) {
		r->probe = mem_deref(r->probe);
		r->probe_misses++;
	}
	if (r->probe_misses >= REG_PROBE_MISSES) {
		snprintf(why, sizeof(why), "%u OPTIONS probes unanswered", r->probe_misses);
		r->req = mem_deref(r->req); /* a refresh in flight goes nowhere either */
		failed(r, why);
		return;
	}
	err = probe_send(r);
	if (err)
		log_debug("sip: OPTIONS probe to %s not sent: %s", r->server, strerror(err));
	tmr_start(&r->probe_tmr, r->probe_ms, probe_tick, r);
}

static void probes_start(struct reg *r)
{
	if (!r->probe_ms || tmr_isrunning(&r->probe_tmr))
		return;
	r->probe_misses = 0;
	tmr_start(&r->probe_tmr, r->probe_ms, probe_tick, r);
}

static void ka_handler(int err, void *arg)
{
	struct reg *r = arg;

	if (r->req || r->stopping)
		return;
	failed(r, err ? strerror(err) : "keep-alive lost");
}

struct granted {
	struct reg *r;
	uint32_t secs;
};

/* Our Contact's expires in the 200 (RFC 3261 §10.2.4), else Expires:. The
 * registrar lists every contact of the AOR: ours is the one with our address. */
static bool contact_handler(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct granted *g = arg;
	struct sip_addr c;
	struct pl v;
	char mine[160];

	(void)msg;
	if (sip_addr_decode(&c, &hdr->val))
		return false;
	re_snprintf(mine, sizeof(mine), "sip:%s@%J", g->r->user, &g->r->laddr);
	if (c.auri.l < strlen(mine) || strncmp(c.auri.p, mine, strlen(mine)))
		return false;
	if (msg_param_decode(&c.params, "expires", &v))
		return false;
	g->secs = pl_u32(&v);
	return true;
}

static void finish_stop(struct reg *r)
{
	log_info("sip: unregistered from %s", r->server);
	mem_deref(r); /* the reference reg_stop() kept for the un-REGISTER */
}

static void resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct reg *r = arg;
	char why[96];

	if (!err && msg && msg->scode < 200)
		return;
	if (err || !msg) {
		if (r->stopping) {
			mem_deref(r);
			return;
		}
		failed(r, err ? strerror(err) : "no response");
		return;
	}
	if (msg->scode == 401 || msg->scode == 407) {
		struct httpauth_digest_chall ch;
		const struct sip_hdr *h = sip_msg_hdr(msg, msg->scode == 407
							   ? SIP_HDR_PROXY_AUTHENTICATE
							   : SIP_HDR_WWW_AUTHENTICATE);
		bool stale = h && !httpauth_digest_challenge_decode(&ch, &h->val) &&
			     !pl_strcasecmp(&ch.stale, "true");

		/* Credentials refused (not just an old nonce): give up this attempt. */
		if (r->sent_auth && !stale) {
			re_snprintf(why, sizeof(why), "%u %r", msg->scode, &msg->reason);
			log_security("sip_auth_failed", "registrar %s refused credentials of %s (%s)",
				     r->server, r->auth_user, why);
			goto fail;
		}
		if (++r->challenges > REG_MAX_CHALLENGES) {
			snprintf(why, sizeof(why), "too many challenges");
			goto fail;
		}
		if (!take_challenge(r, msg)) {
			snprintf(why, sizeof(why), "no supported digest challenge (need MD5 or SHA-256, "
				 "qop auth)");
			goto fail;
		}
		err = send_register(r);
		if (!err)
			return;
		snprintf(why, sizeof(why), "%s", strerror(err));
		goto fail;
	}
	if (msg->scode == 423 && !r->stopping) {
		const struct sip_hdr *min = sip_msg_hdr(msg, SIP_HDR_MIN_EXPIRES);

		if (min && pl_u32(&min->val) > r->expires && pl_u32(&min->val) <= 86400) {
			r->expires = pl_u32(&min->val);
			if (!send_register(r))
				return;
		}
	}
	if (msg->scode >= 300) {
		re_snprintf(why, sizeof(why), "%u %r", msg->scode, &msg->reason);
		if (msg->scode == 403)
			log_security("sip_auth_failed", "registrar %s refused credentials of %s (%s)",
				     r->server, r->auth_user, why);
		goto fail;
	}
	/* 2xx */
	if (r->stopping) {
		finish_stop(r);
		return;
	}
	{
		struct granted g = { .r = r, .secs = r->expires };
		uint32_t granted;

		if (pl_isset(&msg->expires))
			g.secs = pl_u32(&msg->expires);
		sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_handler, &g);
		granted = g.secs;
		if (!granted) {
			snprintf(why, sizeof(why), "registrar granted 0 s");
			goto fail;
		}
		if (r->state != REG_REGISTERED)
			log_info("sip: registered to %s as %s (expires %u s, %s digest)", r->server,
				 r->aor, granted, r->have_chal ? (r->sha256 ? "SHA-256" : "MD5")
							       : "no");
		r->registered = true;
		r->failc = 0;
		re_snprintf(why, sizeof(why), "%u %r", msg->scode, &msg->reason);
		note_answer(r, why);
		set_state(r, REG_REGISTERED);
		probes_start(r);
		if (!r->ka && sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "outbound")) {
			const struct sip_hdr *ft = sip_msg_hdr(msg, SIP_HDR_FLOW_TIMER);

			(void)sip_keepalive_start(&r->ka, r->sip, msg, ft ? pl_u32(&ft->val) : 0,
						  ka_handler, r);
		}
		/* Refresh at 90 %, never later than 5 s before expiry. */
		{
			uint64_t ms = (uint64_t)granted * 900;

			if (granted > 50 && ms > (uint64_t)(granted - 5) * 1000)
				ms = (uint64_t)(granted - 5) * 1000;
			tmr_start(&r->tmr, ms ? ms : 1000, refresh, r);
		}
	}
	return;

fail:
	if (r->stopping) {
		mem_deref(r);
		return;
	}
	failed(r, why);
}

static int send_register(struct reg *r)
{
	char *auth = NULL;
	int err;

	err = auth_header(r, &auth);
	if (err)
		return err;
	r->sent_auth = auth != NULL;
	err = sip_drequestf(&r->req, r->sip, true, "REGISTER", r->dlg, 0, NULL, send_handler,
			    resp_handler, r, "%sSupported: outbound, path\r\nContent-Length: 0\r\n\r\n",
			    auth ? auth : "");
	mem_deref(auth);
	return err;
}

int reg_start(struct reg **out, struct sip *sip, const struct reg_params *p, reg_state_h *h,
	      void *arg)
{
	struct reg *r;
	uint8_t md[16];
	char seed[512];
	int err;

	if (!out || !sip || !p || !p->server || !p->user || !*p->user)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	r->sip = mem_ref(sip);
	r->expires = p->expires ? p->expires : 600;
	r->probe_ms = p->keepalive_s > 86400 ? 86400000u : p->keepalive_s * 1000u;
	r->h = h;
	r->arg = arg;
	r->state = REG_REGISTERING;
	err = re_sdprintf(&r->reg_uri, "sip:%s%s", p->server,
			  p->transport == SIP_TRANSP_TCP   ? ";transport=tcp"
			  : p->transport == SIP_TRANSP_TLS ? ";transport=tls"
							   : "");
	err |= re_sdprintf(&r->aor, "sip:%s@%s", p->user, p->domain ? p->domain : p->server);
	err |= str_dup(&r->user, p->user);
	err |= str_dup(&r->auth_user, p->auth_user ? p->auth_user : p->user);
	err |= str_dup(&r->password, p->password ? p->password : "");
	err |= str_dup(&r->server, p->server);
	err |= re_sdprintf(&r->probe_callid, "%016llx-probe", (unsigned long long)rand_u64());
	if (err)
		goto out;
	/* RFC 5626 instance id, stable for this account, so a registrar that
	 * supports SIP outbound keeps the flow alive (keep-alives below). */
	re_snprintf(seed, sizeof(seed), "callbot:%s", r->aor);
	md5((const uint8_t *)seed, strlen(seed), md);
	err = re_sdprintf(&r->instance,
			  "+sip.instance=\"<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			  "%02x%02x-%02x%02x%02x%02x%02x%02x>\"",
			  md[0], md[1], md[2], md[3], md[4], md[5], (md[6] & 0x0f) | 0x30, md[7],
			  (md[8] & 0x3f) | 0x80, md[9], md[10], md[11], md[12], md[13], md[14],
			  md[15]);
	if (err)
		goto out;
	err = sip_dialog_alloc(&r->dlg, r->reg_uri, r->aor, NULL, r->aor, NULL, 0);
	if (err)
		goto out;
	err = send_register(r);
	if (err)
		goto out;
	log_info("sip: registering %s at %s", r->aor, r->server);
out:
	if (err)
		mem_deref(r);
	else
		*out = r;
	return err;
}

void reg_stop(struct reg *r)
{
	if (!r)
		return;
	r->h = NULL;
	tmr_cancel(&r->tmr);
	probes_stop(r);
	r->ka = mem_deref(r->ka);
	r->req = mem_deref(r->req); /* cancels a pending attempt */
	if (r->registered) {
		/* The un-REGISTER keeps r alive until answered; libre's transaction
		 * timeout (or sip_close at shutdown) bounds it. */
		r->stopping = true;
		r->have_chal = false;
		r->challenges = 0;
		if (!send_register(r))
			return;
	}
	mem_deref(r);
}
