/* diag_reg.c - "Test SIP registration": one REGISTER query round trip on a plain socket
 * (not libre: the dashboard runs it inside serve, whose libre loop belongs to the call
 * service), with digest auth, reporting the registrar's status line and timing. */
#include "call/diag.h"
#include "core/config.h"
#include "core/netaddr.h"
#include "core/util.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sodium.h>

#define MSG_MAX 8192

struct regq {
	const struct conf *c;
	int fd;
	bool tcp;
	char host[256]; /* SIP_SERVER as host[:port] for the Request-URI */
	char ruri[300], aor[600], local[80], callid[40], ftag[20];
	unsigned cseq;
	/* the challenge */
	bool chal, proxy, sha256, qop;
	char realm[128], nonce[256], opaque[256];
};

/* snprintf for operator messages: a long host or user name may cut the line, fine. */
static void say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static void rand_hex(char *out, size_t bytes)
{
	unsigned char b[32];

	randombytes_buf(b, bytes);
	sodium_bin2hex(out, bytes * 2 + 1, b, bytes);
}

static void hexdigest(bool sha256, const char *in, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_Digest(in, strlen(in), md, &n, sha256 ? EVP_sha256() : EVP_md5(), NULL);
	sodium_bin2hex(out, 65, md, n);
}

/* ---------- parsing ---------- */

/* Next header line of msg named name (case-insensitive; compact form cmp too).
 * Returns its value (up to CRLF) in val, or false. *pos moves past it. */
static bool next_header(const char *msg, size_t *pos, const char *name, const char *cmp, char *val,
			size_t size)
{
	const char *p = msg + *pos;

	while ((p = strstr(p, "\r\n")) != NULL) {
		const char *h = p + 2, *colon = strchr(h, ':'), *end;
		size_t n;

		p = h;
		if (!colon || h[0] == '\r')
			return false; /* end of headers */
		n = (size_t)(colon - h);
		while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
			n--;
		if (!((n == strlen(name) && !strncasecmp(h, name, n)) ||
		      (cmp && n == strlen(cmp) && !strncasecmp(h, cmp, n))))
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		end = strstr(colon, "\r\n");
		if (!end)
			end = colon + strlen(colon);
		snprintf(val, size, "%.*s", (int)(end - colon), colon);
		*pos = (size_t)(end - msg);
		return true;
	}
	return false;
}

/* param="value" or param=value in a Digest challenge; false when absent. */
static bool chal_param(const char *v, const char *param, char *out, size_t size)
{
	size_t n = strlen(param);

	for (const char *p = v; (p = strcasestr(p, param)) != NULL; p += n) {
		const char *q = p + n, *end;

		if (p != v && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (*q == '"') {
			end = strchr(++q, '"');
			if (!end)
				return false;
		} else {
			end = q + strcspn(q, ", \t");
		}
		if ((size_t)(end - q) >= size)
			return false;
		snprintf(out, size, "%.*s", (int)(end - q), q);
		return true;
	}
	return false;
}

/* Picks the best Digest challenge of a 401/407: SHA-256, else MD5; qop must offer auth. */
static bool take_challenge(struct regq *q, const char *msg, int code)
{
	const char *name = code == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
	char v[1024], alg[32], qop[64];
	size_t pos = 0;
	bool found = false;

	while (next_header(msg, &pos, name, NULL, v, sizeof(v))) {
		bool sha;

		if (strncasecmp(v, "Digest", 6) != 0)
			continue;
		if (!chal_param(v, "algorithm", alg, sizeof(alg)) || !strcasecmp(alg, "MD5"))
			sha = false;
		else if (!strcasecmp(alg, "SHA-256"))
			sha = true;
		else
			continue;
		if (chal_param(v, "qop", qop, sizeof(qop)) && !strstr(qop, "auth"))
			continue;
		if (found && (q->sha256 || !sha))
			continue;
		if (!chal_param(v, "realm", q->realm, sizeof(q->realm)) ||
		    !chal_param(v, "nonce", q->nonce, sizeof(q->nonce)))
			continue;
		if (!chal_param(v, "opaque", q->opaque, sizeof(q->opaque)))
			q->opaque[0] = '\0';
		q->qop = chal_param(v, "qop", qop, sizeof(qop));
		q->sha256 = sha;
		q->proxy = code == 407;
		found = true;
	}
	q->chal = found;
	return found;
}

/* ---------- the request ---------- */

static int auth_header(struct regq *q, char *out, size_t size)
{
	const struct conf *c = q->c;
	const char *user =
	    c->sip_auth_user && *c->sip_auth_user ? c->sip_auth_user : c->sip_username;
	char ha1[65], ha2[65], resp[65], cnonce[17], buf[1024], qopv[80] = "", opq[300] = "";

	out[0] = '\0';
	if (!q->chal)
		return 0;
	snprintf(buf, sizeof(buf), "%s:%s:%s", user, q->realm,
		 c->sip_password ? c->sip_password : "");
	hexdigest(q->sha256, buf, ha1);
	sodium_memzero(buf, sizeof(buf));
	snprintf(buf, sizeof(buf), "REGISTER:%s", q->ruri);
	hexdigest(q->sha256, buf, ha2);
	rand_hex(cnonce, 8);
	if (q->qop)
		snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1, q->nonce, cnonce, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, q->nonce, ha2);
	hexdigest(q->sha256, buf, resp);
	sodium_memzero(ha1, sizeof(ha1));
	if (q->qop)
		snprintf(qopv, sizeof(qopv), ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
	if (q->opaque[0])
		snprintf(opq, sizeof(opq), ", opaque=\"%s\"", q->opaque);
	if ((size_t)snprintf(out, size,
			     "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			     "response=\"%s\", algorithm=%s%s%s\r\n",
			     q->proxy ? "Proxy-Authorization" : "Authorization", user, q->realm,
			     q->nonce, q->ruri, resp, q->sha256 ? "SHA-256" : "MD5", qopv,
			     opq) >= size)
		return EOVERFLOW;
	return 0;
}

static int build_request(struct regq *q, char *out, size_t size)
{
	char auth[1400], branch[33];
	int err = auth_header(q, auth, sizeof(auth));

	if (err)
		return err;
	rand_hex(branch, 16);
	q->cseq++;
	/* no Contact: a query of the bindings (RFC 3261 §10.2.3) */
	if ((size_t)snprintf(out, size,
			     "REGISTER %s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <%s>;tag=%s\r\n"
			     "To: <%s>\r\n"
			     "Call-ID: %s\r\n"
			     "CSeq: %u REGISTER\r\n"
			     "%s"
			     "User-Agent: callbot/" CALLBOT_VERSION " (registration test)\r\n"
			     "Content-Length: 0\r\n\r\n",
			     q->ruri, q->tcp ? "TCP" : "UDP", q->local, branch, q->aor, q->ftag,
			     q->aor, q->callid, q->cseq, auth) >= size)
		return EOVERFLOW;
	return 0;
}

/* A final answer to our current request: the right Call-ID and CSeq. */
static bool ours(const struct regq *q, const char *msg)
{
	char v[256], want[64];
	size_t pos = 0;

	if (strncmp(msg, "SIP/2.0 ", 8) != 0)
		return false;
	if (!next_header(msg, &pos, "Call-ID", "i", v, sizeof(v)) || strcmp(v, q->callid))
		return false;
	pos = 0;
	snprintf(want, sizeof(want), "%u REGISTER", q->cseq);
	return next_header(msg, &pos, "CSeq", NULL, v, sizeof(v)) && !strcasecmp(v, want);
}

/* ---------- transport ---------- */

static int wait_readable(int fd, int64_t deadline_ms)
{
	int64_t left = deadline_ms - time_mono_ms();
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	if (left <= 0)
		return ETIMEDOUT;
	n = poll(&p, 1, (int)left);
	if (n < 0)
		return errno;
	return n ? 0 : ETIMEDOUT;
}

/* Reads one whole SIP message from TCP (headers + Content-Length body). */
static int tcp_read_msg(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t len = 0;

	for (;;) {
		char *end = NULL;
		ssize_t n;
		int err;

		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			char v[32];
			size_t pos = 0, need = (size_t)(end + 4 - buf);

			if (next_header(buf, &pos, "Content-Length", "l", v, sizeof(v)))
				need += strtoul(v, NULL, 10);
			if (len >= need)
				return 0;
		}
		if (len + 1 >= size)
			return EMSGSIZE;
		err = wait_readable(fd, deadline);
		if (err)
			return err;
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n == 0)
			return ECONNRESET;
		if (n < 0)
			return errno;
		len += (size_t)n;
	}
}

/* Sends req and waits for a final answer of ours; UDP retransmits T1=500 ms doubling. */
static int transact(struct regq *q, const char *req, char *resp, size_t size, int64_t deadline)
{
	int64_t next = time_mono_ms(), t = 500;

	if (q->tcp && send(q->fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return errno;
	for (;;) {
		int err;

		if (!q->tcp && time_mono_ms() >= next) {
			if (send(q->fd, req, strlen(req), 0) < 0 && errno != ECONNREFUSED)
				return errno;
			next = time_mono_ms() + t;
			t = t * 2 > 4000 ? 4000 : t * 2;
		}
		if (q->tcp) {
			err = tcp_read_msg(q->fd, resp, size, deadline);
		} else {
			ssize_t n;

			err = wait_readable(q->fd, next < deadline ? next : deadline);
			if (err == ETIMEDOUT && time_mono_ms() < deadline)
				continue;
			if (!err) {
				n = recv(q->fd, resp, size - 1, 0);
				if (n < 0 && errno == ECONNREFUSED)
					continue; /* nobody there (yet): keep trying until the
						     deadline */
				if (n < 0)
					return errno;
				resp[n] = '\0';
			}
		}
		if (err)
			return err;
		if (ours(q, resp) && atoi(resp + 8) >= 200)
			return 0;
	}
}

static int open_socket(struct regq *q, const struct hostport *hp, int64_t deadline)
{
	struct addrinfo hints = {.ai_socktype = q->tcp ? SOCK_STREAM : SOCK_DGRAM}, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[8], ip[INET6_ADDRSTRLEN];
	int err;

	snprintf(port, sizeof(port), "%u", hp->port ? hp->port : 5060);
	err = getaddrinfo(hp->host, port, &hints, &ai);
	if (err)
		return EHOSTUNREACH;
	q->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0) {
		err = errno;
		goto out;
	}
	if (connect(q->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		err = errno;
		goto out;
	}
	if (q->tcp) { /* wait for the connection */
		struct pollfd p = {.fd = q->fd, .events = POLLOUT};
		int64_t left = deadline - time_mono_ms();
		socklen_t el = sizeof(err);

		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			err = ETIMEDOUT;
			goto out;
		}
		if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err)
			goto out;
	}
	if (getsockname(q->fd, (struct sockaddr *)&ss, &sl) < 0) {
		err = errno;
		goto out;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(q->local, sizeof(q->local), "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(q->local, sizeof(q->local), "%s:%u", ip, ntohs(s4->sin_port));
	}
out:
	freeaddrinfo(ai);
	return err;
}

static int count_contacts(const char *msg)
{
	char v[1024];
	size_t pos = 0;
	int n = 0;

	while (next_header(msg, &pos, "Contact", "m", v, sizeof(v))) {
		/* one header may list several, comma-separated outside <...> */
		bool in = false;

		n++;
		for (const char *p = v; *p; p++) {
			if (*p == '<')
				in = true;
			else if (*p == '>')
				in = false;
			else if (*p == ',' && !in)
				n++;
		}
	}
	return n;
}

static void describe(struct regq *q, const char *resp, struct diag_result *r)
{
	const char *eol = strstr(resp, "\r\n");

	snprintf(r->status, sizeof(r->status), "%.*s", eol ? (int)(eol - resp - 8) : 0, resp + 8);
	r->code = atoi(r->status);
	r->ok = r->code >= 200 && r->code < 300;
	snprintf(r->digest, sizeof(r->digest), "%s",
		 q->chal ? (q->sha256 ? "SHA-256" : "MD5") : "");
	if (r->ok)
		r->bindings = count_contacts(resp);
	say(r->msg, sizeof(r->msg), "%s answered \"%s\" to a REGISTER of %s over %s%s%s%s", q->host,
	    r->status, q->aor, q->tcp ? "TCP" : "UDP", q->chal ? " (" : "",
	    q->chal ? r->digest : "", q->chal ? " digest)" : "");
	if (r->ok) {
		size_t n = strlen(r->msg);

		say(r->msg + n, sizeof(r->msg) - n, "; %d binding%s", r->bindings,
		    r->bindings == 1 ? "" : "s");
	}
}

int diag_sip_register(const struct conf *c, unsigned timeout_ms, struct diag_result *r)
{
	struct regq q = {.c = c, .fd = -1};
	int64_t t0 = time_mono_ms(), deadline = t0 + (timeout_ms ? timeout_ms : 5000);
	char *req = NULL, *resp = NULL;
	const char *domain;
	int err;

	memset(r, 0, sizeof(*r));
	if (!c->sip_server || !*c->sip_server) {
		say(r->msg, sizeof(r->msg), "SIP_SERVER is empty: registration is disabled");
		return ENOENT;
	}
	if (!c->sip_username || !*c->sip_username) {
		say(r->msg, sizeof(r->msg), "SIP_USERNAME is empty");
		return EINVAL;
	}
	if (c->sip_transport == SIP_TP_TLS) {
		say(r->msg, sizeof(r->msg),
		    "the quick test speaks UDP and TCP only; "
		    "for TLS run: callbot selftest sip");
		return ENOTSUP;
	}
	q.tcp = c->sip_transport == SIP_TP_TCP;
	hostport_format(&c->sip_server_hp, q.host, sizeof(q.host));
	domain = c->sip_domain && *c->sip_domain ? c->sip_domain : c->sip_server_hp.host;
	snprintf(q.ruri, sizeof(q.ruri), "sip:%s%s", q.host, q.tcp ? ";transport=tcp" : "");
	snprintf(q.aor, sizeof(q.aor), "sip:%s@%s", c->sip_username, domain);
	rand_hex(q.callid, 16);
	rand_hex(q.ftag, 8);
	req = malloc(MSG_MAX);
	resp = malloc(MSG_MAX);
	if (!req || !resp) {
		err = ENOMEM;
		goto out;
	}
	err = open_socket(&q, &c->sip_server_hp, deadline);
	if (err) {
		say(r->msg, sizeof(r->msg), "cannot reach %s over %s: %s", q.host,
		    q.tcp ? "TCP" : "UDP", strerror(err));
		goto done;
	}
	for (int round = 0; round < 2; round++) {
		err = build_request(&q, req, MSG_MAX);
		if (!err)
			err = transact(&q, req, resp, MSG_MAX, deadline);
		if (err) {
			say(r->msg, sizeof(r->msg), "no answer from %s over %s within %lld ms: %s",
			    q.host, q.tcp ? "TCP" : "UDP", (long long)(deadline - t0),
			    strerror(err));
			goto done;
		}
		if ((atoi(resp + 8) != 401 && atoi(resp + 8) != 407) || round == 1 ||
		    !take_challenge(&q, resp, atoi(resp + 8)))
			break;
	}
	describe(&q, resp, r);
	err = 0;
done:
	r->ms = time_mono_ms() - t0;
	err = 0; /* the test ran; r says how it went */
out:
	if (q.fd >= 0)
		close(q.fd);
	free(req);
	free(resp);
	sodium_memzero(&q, sizeof(q));
	return err;
}
