/* cmd_secret.c - gen-secret and gen-key: print fresh secrets for .env. */
#include "cli/cli.h"
#include "crypto/fernet.h"
#include "crypto/token.h"

#include <stdio.h>
#include <string.h>

int cmd_gen_secret(struct cli *cli, int argc, char **argv)
{
	char tok[64];

	(void)cli;
	(void)argv;
	if (argc > 1) {
		cli_usage_error("gen-secret", "takes no arguments");
		return EXIT_USAGE;
	}
	if (token_random_urlsafe(32, tok, sizeof(tok)))
		return EXIT_FAIL;
	printf("%s\n", tok);
	return EXIT_OK;
}

int cmd_gen_key(struct cli *cli, int argc, char **argv)
{
	char key[FERNET_KEY_LEN + 1];

	(void)cli;
	(void)argv;
	if (argc > 1) {
		cli_usage_error("gen-key", "takes no arguments");
		return EXIT_USAGE;
	}
	if (fernet_key_generate(key))
		return EXIT_FAIL;
	printf("%s\n", key);
	return EXIT_OK;
}
