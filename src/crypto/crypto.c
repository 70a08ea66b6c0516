/* crypto.c - one-time libsodium initialisation for the crypto module. */
#include <errno.h>
#include <pthread.h>

#include <sodium.h>

#include "crypto/crypto.h"

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int crypto_err;

static void crypto_init_once(void)
{
	/* sodium_init() returns 1 when someone else already initialised it. */
	crypto_err = sodium_init() < 0 ? EIO : 0;
}

int crypto_init(void)
{
	pthread_once(&crypto_once, crypto_init_once);
	return crypto_err;
}
