/* crypto.h - one-time initialisation shared by the crypto module. */
#ifndef CALLBOT_CRYPTO_CRYPTO_H
#define CALLBOT_CRYPTO_CRYPTO_H

/* Initialises libsodium exactly once; safe from any thread and cheap to
 * call again. Every crypto_* entry point calls it, so callers need not.
 * Returns 0, or EIO when libsodium cannot initialise (no entropy source). */
int crypto_init(void);

#endif
