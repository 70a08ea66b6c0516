/* diag.h - live self-tests shared by `callbot selftest` and the dashboard's Diagnostics
 * (src/web/route_test_*.c): a REGISTER round trip, a speech round trip, the first-run
 * checklist. Blocking; each bounded in time. */
#ifndef CALLBOT_CALL_DIAG_H
#define CALLBOT_CALL_DIAG_H

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct store;

struct diag_result {
	bool ok;
	int64_t ms;    /* the whole test */
	char msg[512]; /* one line for an operator */
	/* diag_sip_register */
	int code;	  /* the registrar's final status code; 0: no answer */
	char status[128]; /* its status line without "SIP/2.0 ", e.g. "200 OK" */
	int bindings;	  /* Contact headers in a 2xx */
	char digest[8];	  /* "MD5", "SHA-256" or "" when not challenged */
	/* diag_speech */
	char said[64], heard[128];
	int64_t tts_ms, stt_ms;
};

/* One REGISTER round trip to SIP_SERVER with the configured account, answering one
 * digest challenge (MD5 or SHA-256, qop auth). The REGISTER carries no Contact: per
 * RFC 3261 §10.2.3 it only queries the bindings, so a running registration is left as
 * it is and nothing new is bound. UDP (retransmitted as RFC 3261 §17.1.2) and TCP; TLS
 * returns ENOTSUP. ok when the final answer is 2xx. Returns 0 when a test ran (even a
 * failing one), else an errno value (msg says why). */
int diag_sip_register(const struct conf *c, unsigned timeout_ms, struct diag_result *r);

/* Synthesises a short sentence with the TTS engine and recognises it back with the STT
 * engine (a small grammar for pocketsphinx, any text for an HTTP recogniser). */
int diag_speech(const struct conf *c, struct diag_result *r);

/* The first-run checklist: the same facts `callbot check` reports. */
enum diag_item { DIAG_ADMIN_PASSWORD, DIAG_SIP_ACCOUNT, DIAG_BACKENDS, DIAG_HTTPS, DIAG_ITEMS };
struct diag_check {
	const char *id;	   /* "admin_password", "sip_account", "backends", "https" */
	const char *title; /* for the dashboard */
	bool done;
	char detail[256];
};
/* Fills items[DIAG_ITEMS]. st may be NULL (the admin-password item is then not done).
 * via_https: the dashboard request asking arrived over HTTPS (directly or from a trusted
 * proxy); HTTPS is done with WEB_TLS_CERT or then. */
void diag_checklist(const struct conf *c, struct store *st, bool via_https,
		    struct diag_check *items);

#endif
