/* cli.h - the command table and what every subcommand shares. */
#ifndef CALLBOT_CLI_CLI_H
#define CALLBOT_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	const char *config_path; /* --config, or NULL for ./.env */
	char *owned_path;        /* a path a command chose, freed at exit */
	struct conf conf;
	bool conf_loaded;
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help; /* shown by COMMAND --help */
};

/* Loads the configuration once; prints the error and returns EXIT_USAGE on failure. */
int cli_load_conf(struct cli *cli);
/* Opens the configured database and applies migrations; prints errors. */
struct store;
int cli_open_store(struct cli *cli, struct store **st);
/* True if argv holds -h or --help; prints the command's help. */
bool cli_wants_help(const struct cli_cmd *cmd, int argc, char **argv);
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a password from the terminal without echo (twice when confirm is set),
 * or one line from stdin when it is not a terminal. */
int cli_read_password(const char *prompt, bool confirm, char *buf, size_t size);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_gen_secret(struct cli *cli, int argc, char **argv);
int cmd_gen_key(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_token(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_calls(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
int cmd_purge(struct cli *cli, int argc, char **argv);
int cmd_decrypt(struct cli *cli, int argc, char **argv);
int cmd_rekey(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_dial(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_call(struct cli *cli, int argc, char **argv);
int cmd_import_callbot(struct cli *cli, int argc, char **argv);
int cmd_selftest(struct cli *cli, int argc, char **argv);

const struct cli_cmd *cli_commands(size_t *n);
const struct cli_cmd *cli_command_find(const char *name);

#endif
