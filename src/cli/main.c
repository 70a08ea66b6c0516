/* main.c - parses global options and runs one subcommand; wires nothing else. */
#include "cli/cli.h"
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	size_t n;
	const struct cli_cmd *cmds = cli_commands(&n);

	fprintf(out, "Usage: callbot [--config FILE] COMMAND [ARGS]   (--config may also follow COMMAND)\n\n"
		     "callbot answers phone calls with AI: a SIP endpoint, a speech pipeline,\n"
		     "a database of calls and a web dashboard.\n\n"
		     "Options:\n"
		     "  --config FILE   configuration file (default: ./.env)\n"
		     "  --version       print the version\n"
		     "  -h, --help      this help; COMMAND --help for a command's help\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-15s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\nExit status: 0 success, 1 failure, 2 usage or configuration error.\n");
}

/* "callbot check --config FILE" works like "callbot --config FILE check": the option is
 * taken out of the command's arguments (up to a "--"). Returns argc after removal. */
static int take_config_option(struct cli *cli, int argc, char **argv, int from)
{
	for (int j = from; j < argc && strcmp(argv[j], "--") != 0;) {
		int n = 0;

		if (strcmp(argv[j], "--config") == 0 && j + 1 < argc) {
			cli->config_path = argv[j + 1];
			n = 2;
		} else if (strncmp(argv[j], "--config=", 9) == 0) {
			cli->config_path = argv[j] + 9;
			n = 1;
		}
		if (!n) {
			j++;
			continue;
		}
		memmove(argv + j, argv + j + n, (size_t)(argc - j - n + 1) * sizeof(*argv));
		argc -= n;
	}
	return argc;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct cli_cmd *cmd;
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cli.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cli.config_path = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("callbot %s\n", CALLBOT_VERSION);
			return EXIT_OK;
		} else {
			fprintf(stderr, "callbot: unknown option %s\n\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = cli_command_find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "callbot: unknown command '%s'\n\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	argc = take_config_option(&cli, argc, argv, i + 1);
	if (cli_wants_help(cmd, argc - i, argv + i))
		return EXIT_OK;
	rc = cmd->run(&cli, argc - i, argv + i);
	if (cli.conf_loaded)
		conf_free(&cli.conf);
	free(cli.owned_path);
	return rc;
}
