/* fuzz_fernet.c - fernet_decrypt / fernet_key_index on arbitrary tokens (stored turn text
 * and recordings come back through them), and encrypt -> decrypt round trips. */
#include <errno.h>

#include "crypto/fernet.h"
#include "fuzz.h"

/* Two keys: a token made with either must open; anything else must not. */
static const char keys[] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,"
			   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static struct fernet_keyring *kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (fernet_keyring_parse(&kr, keys) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *plain = NULL, iv[16] = { 0 };
	size_t len = 0, idx = 0;
	char *token = NULL;
	int rc;

	if (size > 65536)
		return 0;
	/* the input as a token: must be refused cleanly (forging needs the key) */
	rc = fernet_decrypt(kr, (const char *)data, size, 0, &plain, &len);
	if (rc == 0) {
		free(plain);
		plain = NULL;
	}
	(void)fernet_key_index(kr, (const char *)data, size, &idx);
	rc = fernet_decrypt_at(kr, (const char *)data, size, 60, 1733331600, &plain, &len);
	if (rc == 0) {
		free(plain);
		plain = NULL;
	}

	/* the input as a plaintext: must come back byte for byte */
	memcpy(iv, data, size < sizeof(iv) ? size : sizeof(iv));
	if (fernet_encrypt_at(kr, data, size, 1733331600, iv, &token) != 0)
		abort();
	if (fernet_decrypt_at(kr, token, strlen(token), 60, 1733331610, &plain, &len) != 0 ||
	    len != size || (size && memcmp(plain, data, size)) || plain[len] != '\0')
		abort();
	if (fernet_key_index(kr, token, strlen(token), &idx) != 0 || idx != 0)
		abort();
	/* a single flipped character is refused */
	if (strlen(token) > 10) {
		size_t at = (size ? data[0] : 0) % strlen(token);
		char saved = token[at];
		uint8_t *p2 = NULL;

		token[at] = token[at] == 'A' ? 'B' : 'A';
		if (fernet_decrypt_at(kr, token, strlen(token), 0, 1733331610, &p2, &len) == 0) {
			/* only possible if the flip hit base64 padding bits of the last char */
			free(p2);
		}
		token[at] = saved;
	}
	free(plain);
	free(token);
	return 0;
}
