/* callsvc.c - the call service: owns the "sip" thread running libre's loop,
 * the SIP stack and its listeners, the media clock, and the worker threads
 * (media worker, recorder, call-row writer). Other threads reach the loop only
 * through a command list plus an mqueue wake-up. */
#include "call/callsvc_priv.h"
#include "core/alert.h"
#include "store/store.h"

#include "core/log.h"
#include "sip/sipval.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MQ_WAKE = 1 };

const char *sa_text(const struct sa *sa, char *buf, size_t size)
{
	if (re_snprintf(buf, size, "%J", sa) < 0)
		str_copy(buf, size, "?");
	return buf;
}

/* ---------- commands from other threads ---------- */

static void post(struct callsvc *cs, enum cmd_type type, uint64_t call_id,
		 struct dial_req *rq, const char *arg)
{
	struct cmd *c = calloc(1, sizeof(*c));
	bool first;

	if (c && arg && !(c->arg = strdup(arg))) {
		free(c);
		c = NULL;
	}
	if (!c) {
		log_error("sip: out of memory posting a command to the loop");
		dial_req_free(rq);
		return;
	}
	c->type = type;
	c->call_id = call_id;
	c->dial = rq;
	pthread_mutex_lock(&cs->cmd_lock);
	first = !cs->cmd_head;
	if (cs->cmd_tail)
		cs->cmd_tail->next = c;
	else
		cs->cmd_head = c;
	cs->cmd_tail = c;
	atomic_store(&cs->cmd_pending, true);
	/* One wake-up per batch; a failed one (EAGAIN: pipe full) is tried again with the
	 * next command (the media clock drains the list too, but it pauses without calls).
	 * Under the lock: the loop frees mq under it. */
	if ((first || cs->cmd_wake_failed) && cs->mq)
		cs->cmd_wake_failed = mqueue_push(cs->mq, MQ_WAKE, NULL) != 0;
	pthread_mutex_unlock(&cs->cmd_lock);
}

static void stop_now(struct callsvc *cs);

/* A request of the pipeline for one call (the call may have ended meanwhile). */
static void run_call_cmd(struct callsvc *cs, const struct cmd *c)
{
	struct call *call = call_find(cs, c->call_id);

	if (!call)
		return;
	switch (c->type) {
	case CMD_TRANSFER:
		call_transfer(call, c->arg);
		break;
	case CMD_DTMF:
		call_send_dtmf(call, c->arg);
		break;
	default:
		call_hangup(call, "completed", "bot_hangup");
		break;
	}
}

static void drain_cmds(struct callsvc *cs)
{
	struct cmd *c;

	if (!atomic_exchange(&cs->cmd_pending, false))
		return;
	pthread_mutex_lock(&cs->cmd_lock);
	c = cs->cmd_head;
	cs->cmd_head = cs->cmd_tail = NULL;
	pthread_mutex_unlock(&cs->cmd_lock);
	while (c) {
		struct cmd *next = c->next;

		if (c->type == CMD_STOP) {
			stop_now(cs);
		} else if (c->type == CMD_DIAL) {
			call_outgoing(cs, c->dial);
		} else {
			run_call_cmd(cs, c);
		}
		free(c->arg);
		free(c);
		c = next;
	}
}

static void mq_handler(int id, void *data, void *arg)
{
	(void)id;
	(void)data;
	drain_cmds(arg);
}

static void media_control(uint64_t call_id, enum media_ctl ctl, const char *arg, void *harg)
{
	static const enum cmd_type type[] = {
		[MEDIA_CTL_HANGUP] = CMD_HANGUP,
		[MEDIA_CTL_TRANSFER] = CMD_TRANSFER,
		[MEDIA_CTL_DTMF] = CMD_DTMF,
	};

	post(harg, type[ctl], call_id, NULL, arg);
}

void callsvc_post_dial(struct callsvc *cs, struct dial_req *rq)
{
	post(cs, CMD_DIAL, 0, rq, NULL);
}

/* ---------- media clock ---------- */

/* Every 2 ms: the calls of the next slot send their frame, then receive. */
static void clock_tick(unsigned ticks, void *arg)
{
	struct callsvc *cs = arg;
	struct le *le;

	/* After a stall, catch up a little but do not burst seconds of audio. */
	if (ticks > 3 * MEDIA_SLOTS)
		ticks = 3 * MEDIA_SLOTS;
	while (ticks--) {
		struct list *slot = &cs->slots[cs->slot_next];

		cs->slot_next = (cs->slot_next + 1) % MEDIA_SLOTS;
		if (!slot->head)
			continue;
		mediaworker_hold(cs->mw);
		for (le = slot->head; le; le = le->next)
			call_tick_send(le->data);
		for (le = slot->head; le;) {
			struct call *call = le->data;

			le = le->next; /* an RTP timeout ends the call */
			call_tick_recv(call);
		}
		mediaworker_release(cs->mw);
	}
	/* Commands (hang-ups, transfers, DTMF) after the media: never before the sends. */
	drain_cmds(cs);
	/* 500 wake-ups a second cost ~1 % of a core with nothing to do: pause until a call. */
	if (!cs->ncalls && !mclock_set(cs->clk, 0))
		cs->clk_paused = true;
}

/* ---------- snapshot for the dashboard ---------- */

void callsvc_snapshot(struct callsvc *cs)
{
	struct callsvc_call *v = NULL;
	size_t n = 0;
	struct le *le;

	if (cs->ncalls)
		v = calloc(cs->ncalls, sizeof(*v));
	for (le = cs->calls.head; le && v && n < cs->ncalls; le = le->next) {
		const struct call *call = le->data;

		if (call->ended)
			continue;
		v[n].id = call->id;
		str_copy(v[n].caller, sizeof(v[n].caller), call->rowdata.caller);
		str_copy(v[n].callee, sizeof(v[n].callee), call->rowdata.callee);
		v[n].started_ms = call->started_ms;
		str_copy(v[n].state, sizeof(v[n].state), call->state);
		n++;
	}
	pthread_mutex_lock(&cs->snap_lock);
	free(cs->snap);
	cs->snap = v;
	cs->snap_n = n;
	pthread_mutex_unlock(&cs->snap_lock);
}

size_t callsvc_calls(struct callsvc *cs, struct callsvc_call *out, size_t max)
{
	size_t n;

	if (!cs)
		return 0;
	pthread_mutex_lock(&cs->snap_lock);
	n = cs->snap_n;
	if (out && cs->snap && n && max)
		memcpy(out, cs->snap, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&cs->snap_lock);
	return n;
}

const char *callsvc_sip_state(void *arg)
{
	struct callsvc *cs = arg;

	if (!cs)
		return "disabled";
	return reg_state_name((enum reg_state)atomic_load(&cs->sip_state));
}

void callsvc_sip_answer(struct callsvc *cs, char *out, size_t size)
{
	pthread_mutex_lock(&cs->snap_lock);
	snprintf(out, size, "%s", cs->sip_answer);
	pthread_mutex_unlock(&cs->snap_lock);
}

void callsvc_turn(void *cs, void *record, const struct store_turn *t)
{
	callstore_turn(((struct callsvc *)cs)->rows, record, t);
}

void callsvc_consent(void *cs, void *record, const char *state)
{
	(void)cs;
	callstore_row_consent(record, state);
}

void callsvc_set_handler(struct callsvc *cs, const struct media_handler *h)
{
	if (!cs || !h)
		return;
	cs->drain = h->drain;
	cs->drain_arg = h->harg;
	mediaworker_set_handler(cs->mw, h);
}

/* The address a peer can reach us at: SIP_LISTEN's host, or for a wildcard
 * bind, the local address the kernel would use towards the peer. */
int callsvc_local_ip(const struct callsvc *cs, const struct sa *peer, struct sa *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, err = 0;

	if (!cs->wildcard) {
		*out = cs->laddr;
		sa_set_port(out, 0);
		return 0;
	}
	fd = socket(sa_af(peer), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, &peer->u.sa, peer->len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		err = errno;
	close(fd);
	if (err)
		return err;
	return sa_set_sa(out, (struct sockaddr *)&ss);
}

/* ---------- SIP request screening ---------- */

static void reply_options(struct callsvc *cs, const struct sip_msg *msg)
{
	(void)sip_treplyf(NULL, NULL, cs->sip, msg, false, 200, "OK",
			  SIP_ALLOW_HDR
			  "Accept: application/sdp\r\n"
			  "Supported: timer\r\n"
			  "Content-Length: 0\r\n\r\n");
}

static bool method_is(const struct sip_msg *msg, const char *m)
{
	return !pl_strcmp(&msg->met, m);
}

/* An in-dialog NOTIFY belongs to a transfer's refer subscription (transfer.c). */
static void route_notify(struct callsvc *cs, const struct sip_msg *msg)
{
	for (struct le *le = cs->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->sess && sip_dialog_cmp(sipsess_dialog(call->sess), msg)) {
			call_transfer_notify(call, msg);
			return;
		}
	}
	(void)sip_reply(cs->sip, msg, 481, "Call/Transaction Does Not Exist");
}

/*
 * First listener on every request (registered before sipsess's): libre 1.1.0
 * acts on requests missing mandatory headers, so we check them here and
 * answer 400 (or drop) before sipsess sees them.
 */
static bool request_screen(const struct sip_msg *msg, void *arg)
{
	struct callsvc *cs = arg;
	struct sipval_result r;

	sipval_request(msg, &r);
	if (r.scode || r.drop) {
		log_info("sip: rejected %.*s from %s: %u %s", (int)msg->met.l, msg->met.p,
			 SA_TEXT(&msg->src), r.scode, r.reason ? r.reason : "dropped");
		if (!r.drop)
			(void)sip_reply(cs->sip, msg, r.scode, r.reason);
		return true;
	}
	if (method_is(msg, "OPTIONS")) {
		reply_options(cs, msg);
		return true;
	}
	if (method_is(msg, "INVITE") && !pl_isset(&msg->to.tag)) {
		call_incoming(cs, msg);
		return true;
	}
	if (method_is(msg, "REGISTER") || method_is(msg, "SUBSCRIBE") ||
	    method_is(msg, "PUBLISH") || method_is(msg, "MESSAGE") || method_is(msg, "UPDATE") ||
	    method_is(msg, "PRACK") || (method_is(msg, "NOTIFY") && !pl_isset(&msg->to.tag))) {
		(void)sip_replyf(cs->sip, msg, 405, "Method Not Allowed",
				 SIP_ALLOW_HDR "Content-Length: 0\r\n\r\n");
		return true;
	}
	if (method_is(msg, "NOTIFY")) {
		route_notify(cs, msg);
		return true;
	}
	return false; /* in-dialog requests, ACK, BYE, CANCEL: sipsess and libre */
}

/* ---------- registration ---------- */

static void reg_state_changed(enum reg_state st, const char *answer, void *arg)
{
	struct callsvc *cs = arg;

	pthread_mutex_lock(&cs->snap_lock);
	snprintf(cs->sip_answer, sizeof(cs->sip_answer), "%s", answer);
	pthread_mutex_unlock(&cs->snap_lock);
	atomic_store(&cs->sip_state, (int)st);
	if (st == REG_REGISTERED || st == REG_FAILED || st == REG_UNREGISTERED) {
		/* SIP_SERVER is a validated host[:port] and the state a fixed word: no escaping
		 * needed (and jansson's names clash with libre's re_json.h here). */
		char d[320];
		snprintf(d, sizeof(d), "{\"server\":\"%s\",\"state\":\"%s\"}",
			 cs->conf->sip_server, reg_state_name(st));
		alert_state("sip_registration_lost", "sip_registration_restored",
			    st == REG_REGISTERED, d);
	}
}

static int start_registration(struct callsvc *cs)
{
	const struct conf *c = cs->conf;
	struct reg_params p = { 0 };

	if (!c->sip_server || !*c->sip_server || cs->no_registration) {
		atomic_store(&cs->sip_state, REG_DISABLED);
		return 0;
	}
	p.server = c->sip_server;
	p.transport = c->sip_transport == SIP_TP_TCP ? SIP_TRANSP_TCP
		      : c->sip_transport == SIP_TP_TLS ? SIP_TRANSP_TLS
							: SIP_TRANSP_UDP;
	p.user = c->sip_username;
	p.auth_user = c->sip_auth_user && *c->sip_auth_user ? c->sip_auth_user : c->sip_username;
	p.password = c->sip_password;
	p.domain = c->sip_domain && *c->sip_domain ? c->sip_domain : c->sip_server_hp.host;
	p.expires = (uint32_t)c->sip_register_expires;
	p.keepalive_s = (uint32_t)c->sip_keepalive_interval;
	atomic_store(&cs->sip_state, REG_REGISTERING);
	return reg_start(&cs->reg, cs->sip, &p, reg_state_changed, cs);
}

/* ---------- the loop thread ---------- */

static void sip_exit_handler(void *arg)
{
	(void)arg;
	re_cancel();
}

static void stop_timeout(void *arg)
{
	(void)arg;
	log_warn("sip: shutdown took too long; closing remaining transactions");
	re_cancel();
}

/* Stop taking calls, end the active ones, un-REGISTER; the loop runs until
 * the BYEs and the un-REGISTER are answered or CALLSVC_STOP_MS passes. */
static void stop_now(struct callsvc *cs)
{
	struct le *le;

	if (cs->stopping)
		return;
	cs->stopping = true;
	log_info("sip: stopping: ending %u call(s)%s", cs->ncalls,
		 cs->reg ? ", removing the registration" : "");
	for (le = cs->calls.head; le;) {
		struct call *call = le->data;

		le = le->next;
		if (!call->ended)
			call_hangup(call, call->answered ? "completed" : "missed", "shutdown");
	}
	if (cs->reg) {
		reg_stop(cs->reg);
		cs->reg = NULL;
		atomic_store(&cs->sip_state, REG_UNREGISTERED);
	}
	tmr_start(&cs->tmr_stop, CALLSVC_STOP_MS, stop_timeout, cs);
	sip_close(cs->sip, false);
}

/* Runs inside the TLS handshake (loop thread): says why a registrar's
 * certificate is refused, which OpenSSL via libre only reports as ssl_err=1. */
static int tls_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (!ok) {
		int e = X509_STORE_CTX_get_error(ctx);

		log_error("sip: TLS: certificate of SIP_SERVER rejected at depth %d: %s "
			  "(check SIP_TLS_CA and that the certificate names the SIP_SERVER host)",
			  X509_STORE_CTX_get_error_depth(ctx), X509_verify_cert_error_string(e));
	}
	return ok;
}

/* libre 1.1.0's TLS client verifies nothing and sends no SNI: we turn
 * verification on, against SIP_TLS_CA or the system store, for the
 * SIP_SERVER host (an IP literal is checked against the IP SANs). */
static int tls_setup(struct callsvc *cs)
{
	const struct conf *c = cs->conf;
	const char *host = c->sip_server_hp.host;
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	struct sa ip;
	int err;

	err = tls_alloc(&cs->tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err) {
		log_error("sip: SIP_TRANSPORT=tls: cannot create a TLS context: %s", strerror(err));
		return err;
	}
	ctx = tls_openssl_context(cs->tls);
	if (c->sip_tls_ca && *c->sip_tls_ca) {
		err = tls_add_ca(cs->tls, c->sip_tls_ca);
		if (err) {
			log_error("sip: SIP_TLS_CA=%s: cannot load: %s", c->sip_tls_ca, strerror(err));
			return err;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		log_error("sip: SIP_TRANSPORT=tls: the system CA store cannot be loaded; set SIP_TLS_CA");
		return EINVAL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_cb);
	param = SSL_CTX_get0_param(ctx);
	if (host[0] && !sa_set_str(&ip, host, 0))
		err = X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : EINVAL;
	else if (host[0])
		err = X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 ? 0 : EINVAL;
	if (err)
		log_error("sip: SIP_SERVER=%s: cannot set up certificate name checks", host);
	return err;
}

static int add_transports(struct callsvc *cs, const struct sa *la)
{
	int err = sip_transp_add(cs->sip, SIP_TRANSP_UDP, la);

	/* TLS takes the TCP port (a registrar over TLS calls us back through
	 * the connection we opened). */
	if (!err && cs->tls)
		err = sip_transp_add(cs->sip, SIP_TRANSP_TLS, la, cs->tls);
	else if (!err)
		err = sip_transp_add(cs->sip, SIP_TRANSP_TCP, la);
	return err;
}

struct bind_ctx {
	struct callsvc *cs;
	uint16_t port;
	int af;
	int err;
	unsigned n;
};

static bool bind_if(const char *ifname, const struct sa *sa, void *arg)
{
	struct bind_ctx *b = arg;
	struct sa la = *sa;

	(void)ifname;
	if (sa_af(sa) != b->af || sa_cmp(sa, &b->cs->laddr, SA_ADDR))
		return false;
	if (sa_af(sa) == AF_INET6 && sa_is_linklocal(sa))
		return false;
	sa_set_port(&la, b->port);
	if (add_transports(b->cs, &la)) {
		log_warn("sip: cannot listen on %s (skipped)", SA_TEXT(&la));
		return false;
	}
	b->n++;
	return false;
}

/* libre's transports need a concrete address, and for requests it sends it
 * picks the first transport of the family: with a wildcard SIP_LISTEN, bind
 * the address that routes to SIP_SERVER (or the default one) first, then
 * every other local address, so calls to any of them are answered. */
static int bind_sip(struct callsvc *cs)
{
	const struct conf *c = cs->conf;
	const struct hostport *hp = &c->sip_listen_hp;
	uint16_t port = cs->ephemeral ? 0
			: hp->port ? hp->port : (c->sip_transport == SIP_TP_TLS ? 5061 : 5060);
	struct sa la;
	int err;

	if (c->sip_transport == SIP_TP_TLS) {
		err = tls_setup(cs);
		if (err)
			return err;
	}
	err = sa_set_str(&la, hp->host[0] ? hp->host : "0.0.0.0", port);
	if (err) {
		log_error("sip: SIP_LISTEN=%s: not an IP address (host names are not supported "
			  "here)", c->sip_listen);
		return err;
	}
	if (sa_is_any(&la)) {
		struct bind_ctx b = { .cs = cs, .port = port, .af = sa_af(&la) };
		struct sa first, srv;

		cs->wildcard = true;
		err = ENOENT;
		if (c->sip_server && *c->sip_server &&
		    !sa_set_str(&srv, c->sip_server_hp.host, 5060) && sa_af(&srv) == b.af)
			err = callsvc_local_ip(cs, &srv, &first);
		if (err)
			err = net_default_source_addr_get(b.af, &first);
		if (err) {
			log_error("sip: SIP_LISTEN=%s: no local address found: %s", c->sip_listen,
				  strerror(err));
			return err;
		}
		sa_set_port(&first, port);
		err = add_transports(cs, &first);
		if (err) {
			log_error("sip: cannot listen on SIP_LISTEN=%s (%s): %s", c->sip_listen,
				  SA_TEXT(&first), strerror(err));
			return err;
		}
		cs->laddr = first;
		(void)net_if_apply(bind_if, &b);
		log_info("sip: SIP_LISTEN=%s: listening on %s and %u other local address(es)",
			 c->sip_listen, SA_TEXT(&first), b.n);
		return 0;
	}
	err = add_transports(cs, &la);
	if (err) {
		log_error("sip: cannot listen on SIP_LISTEN=%s (%s): %s", c->sip_listen, SA_TEXT(&la),
			  strerror(err));
		return err;
	}
	if (cs->ephemeral) /* the port the kernel picked (Contact, logs) */
		(void)sip_transp_laddr(cs->sip, &la, SIP_TRANSP_UDP, NULL);
	cs->laddr = la;
	return 0;
}

static void announce(struct callsvc *cs, int err)
{
	pthread_mutex_lock(&cs->lock);
	cs->start_err = err;
	cs->ready = true;
	pthread_cond_signal(&cs->cond);
	pthread_mutex_unlock(&cs->lock);
}

/* libre's loop watches 1024 descriptors per thread by default; every call needs an RTP
 * socket, so take what RLIMIT_NOFILE allows (LimitNOFILE in the systemd unit). */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t n;
	int err;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur;
	if (n <= 1024)
		return;
	err = fd_setsize((int)n);
	if (err)
		log_warn("sip: cannot watch %d descriptors (%s); calls are limited to ~1000",
			 (int)n, strerror(err));
}

static void *sip_thread(void *arg)
{
	struct callsvc *cs = arg;
	int err;

	err = libre_init();
	if (err) {
		log_error("sip: libre init failed: %s", strerror(err));
		announce(cs, err);
		return NULL;
	}
	raise_fd_limit();
	err = mqueue_alloc(&cs->mq, mq_handler, cs);
	if (!err)
		err = sip_alloc(&cs->sip, NULL, 256, 256, 64, "callbot/" CALLBOT_VERSION,
				sip_exit_handler, cs);
	if (err) {
		log_error("sip: cannot create the SIP stack: %s", strerror(err));
		goto out;
	}
	err = bind_sip(cs);
	if (err)
		goto out;
	/* Order matters: our screening listener sees requests before sipsess. */
	err = sip_listen(&cs->lsnr, cs->sip, true, request_screen, cs);
	if (!err)
		err = sipsess_listen(&cs->sock, cs->sip, 256, NULL, cs);
	if (!err)
		err = mclock_start(&cs->clk, MEDIA_TICK_MS, clock_tick, cs);
	if (err) {
		log_error("sip: start-up failed: %s", strerror(err));
		goto out;
	}
	err = start_registration(cs);
	if (err) {
		log_error("sip: cannot register to SIP_SERVER=%s: %s", cs->conf->sip_server,
			  strerror(err));
		goto out;
	}
	log_info("sip: listening on %s (udp, %s); %s", SA_TEXT(&cs->laddr), cs->tls ? "tls" : "tcp",
		 cs->reg ? "registering" : "answering direct calls (no SIP_SERVER)");
	announce(cs, 0);
	err = re_main(NULL);
	if (err)
		log_error("sip: loop ended with %s", strerror(err));
	err = 0;

out:
	tmr_cancel(&cs->tmr_stop);
	/* Calls still listed were ended; free what waits for deferred release. */
	while (cs->calls.head)
		call_hangup(cs->calls.head->data, "completed", "shutdown");
	while (cs->dead.head) {
		struct call *call = cs->dead.head->data;

		list_unlink(&call->le);
		mem_deref(call);
	}
	cs->ncalls = 0;
	mclock_stop(cs->clk);
	cs->clk = NULL;
	reg_stop(cs->reg);
	cs->reg = NULL;
	cs->sock = mem_deref(cs->sock);
	cs->lsnr = mem_deref(cs->lsnr);
	if (cs->sip)
		sip_close(cs->sip, true);
	cs->sip = mem_deref(cs->sip);
	cs->tls = mem_deref(cs->tls);
	pthread_mutex_lock(&cs->cmd_lock);
	cs->mq = mem_deref(cs->mq);
	pthread_mutex_unlock(&cs->cmd_lock);
	libre_close();
	if (!cs->ready)
		announce(cs, err ? err : EIO);
	return NULL;
}

/* ---------- public ---------- */

/* The call-row writer; during a database outage writes beyond DB_QUEUE_MAX wait in a
 * spool file: DB_SPOOL_DIR, else next to the SQLite database, else (PostgreSQL) in
 * AUDIO_DIR, the one folder callbot surely owns (docs/reliability.md). */
static int start_rows(struct callsvc *cs, struct store *st)
{
	const struct conf *c = cs->conf;
	const char *dir = NULL;
	int err;

	if (c->db_spool_dir && *c->db_spool_dir)
		dir = c->db_spool_dir;
	else if (st && !store_path(st))
		dir = c->audio_dir;
	err = callstore_start_in(&cs->rows, st, dir);
	if (!err && c->db_queue_max > 0)
		callstore_set_queue_max(cs->rows, (size_t)c->db_queue_max);
	return err;
}

static void callsvc_free(struct callsvc *cs)
{
	struct cmd *c;

	mediaworker_stop(cs->mw);
	if (cs->drain)
		cs->drain(cs->drain_arg);
	recorder_stop(cs->recorder);
	callstore_stop(cs->rows);
	bot_prompt_free(&cs->prompt);
	for (c = cs->cmd_head; c;) {
		struct cmd *next = c->next;

		dial_req_free(c->dial);
		free(c);
		c = next;
	}
	free(cs->snap);
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->cond);
	pthread_mutex_destroy(&cs->cmd_lock);
	pthread_mutex_destroy(&cs->snap_lock);
	free(cs);
}

int callsvc_start(struct callsvc **out, const struct conf *c, struct store *st)
{
	return callsvc_start_opts(out, c, st, NULL);
}

int callsvc_start_opts(struct callsvc **out, const struct conf *c, struct store *st,
		       const struct callsvc_opts *o)
{
	struct callsvc *cs;
	sigset_t all, old;
	int err;

	if (!out || !c)
		return EINVAL;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return ENOMEM;
	cs->conf = c;
	cs->st = st;
	cs->ephemeral = o && o->ephemeral_port;
	cs->no_registration = o && o->no_registration;
	atomic_init(&cs->pending_dials, 0);
	atomic_init(&cs->next_id, 0);
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->cond, NULL);
	pthread_mutex_init(&cs->cmd_lock, NULL);
	pthread_mutex_init(&cs->snap_lock, NULL);
	atomic_init(&cs->sip_state, REG_DISABLED);
	atomic_init(&cs->cmd_pending, false);
	cs->rtp_cursor = (uint16_t)c->rtp_port_min;

	if (c->bot_mode == BOT_ECHO) {
		bot_echo_handler(&cs->bot);
	} else {
		if (c->bot_mode == BOT_AI)
			log_info("sip: BOT_MODE=ai: until the pipeline attaches, calls hear the "
				 "greeting");
		err = bot_prompt_make(&cs->prompt, c);
		if (err)
			goto fail;
		bot_prompt_handler(&cs->bot, &cs->prompt);
	}
	err = mediaworker_start(&cs->mw, &cs->bot);
	if (!err)
		err = recorder_start(&cs->recorder, st ? store_keyring(st) : NULL);
	if (!err)
		err = start_rows(cs, st);
	if (err) {
		log_error("sip: cannot start worker threads: %s", strerror(err));
		goto fail;
	}

	/* The loop thread must never take process signals (serve sigwait()s). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&cs->thread, NULL, sip_thread, cs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_error("sip: cannot start the SIP thread: %s", strerror(err));
		goto fail;
	}
	cs->thread_started = true;
	pthread_setname_np(cs->thread, "sip");
	pthread_mutex_lock(&cs->lock);
	while (!cs->ready)
		pthread_cond_wait(&cs->cond, &cs->lock);
	err = cs->start_err;
	pthread_mutex_unlock(&cs->lock);
	if (err) {
		pthread_join(cs->thread, NULL);
		goto fail;
	}
	*out = cs;
	return 0;
fail:
	callsvc_free(cs);
	return err;
}

void callsvc_stop(struct callsvc *cs)
{
	if (!cs)
		return;
	post(cs, CMD_STOP, 0, NULL, NULL);
	pthread_join(cs->thread, NULL);
	callsvc_free(cs);
	log_info("sip: stopped");
}

/* Used by call.c to route the pipeline's requests to the loop. */
mediachan_ctl_h *callsvc_media_control_handler(void)
{
	return media_control;
}
