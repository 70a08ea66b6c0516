/* reg.h - registration with SIP_SERVER: digest auth (libre's sipreg), refresh
 * before expiry, our own exponential backoff on failure, un-REGISTER on stop. */
#ifndef CALLBOT_SIP_REG_H
#define CALLBOT_SIP_REG_H

#include <stdint.h>

struct sip;
struct reg;

enum reg_state { REG_DISABLED, REG_REGISTERING, REG_REGISTERED, REG_FAILED, REG_UNREGISTERED };

struct reg_params {
	const char *server;    /* host[:port] (IP literal: libre here has no DNS client) */
	int transport;         /* enum sip_transp */
	const char *user;      /* SIP_USERNAME: AOR user and Contact user */
	const char *auth_user; /* SIP_AUTH_USER (default user) */
	const char *password;
	const char *domain;    /* AOR domain (default server host) */
	uint32_t expires;
	/* While registered, an OPTIONS to the registrar every keepalive_s seconds
	 * (0: none). Two probes in a row without any answer mean the registrar is
	 * gone: state REG_FAILED and re-REGISTER with backoff, as for a failed
	 * refresh. Any answer counts (even 404/405: something is there). */
	uint32_t keepalive_s;
};

/* On each change of state or of the registrar's latest answer: answer is the final status
 * line of the latest REGISTER ("200 OK", "403 Forbidden") or why there was none ("no
 * response"), "" before the first. */
typedef void (reg_state_h)(enum reg_state st, const char *answer, void *arg);

/* Loop thread only. Copies p. */
int reg_start(struct reg **out, struct sip *sip, const struct reg_params *p, reg_state_h *h,
	      void *arg);
/* Sends the un-REGISTER (if registered) and frees; the request completes on
 * the loop afterwards (libre keeps it alive). */
void reg_stop(struct reg *r);
const char *reg_state_name(enum reg_state st);

/* Backoff before retry number n (1, 2, ...): 4 s doubling to 300 s, with
 * +-25 % jitter from rnd (0..65535). Milliseconds. */
uint32_t reg_backoff_ms(unsigned n, uint16_t rnd);

#endif
