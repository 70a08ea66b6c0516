/* commands.c - the table of subcommands and the helpers they share. */
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const struct cli_cmd commands[] = {
	{ "init", cmd_init, "[--dir DIR]", "create .env with fresh secrets, the database and an admin user",
	  "Creates (or completes) the .env file (mode 0600) with a fresh SECRET_KEY and\n"
	  "ENCRYPTION_KEY, the database (0600), AUDIO_DIR (0750), LOG_DIR and an 'admin'\n"
	  "user whose random password is printed once. Existing secrets and users are\n"
	  "never overwritten.\n\n"
	  "  --dir DIR   where to create .env (default: the --config file's folder, or .)\n" },
	{ "serve", cmd_serve, "", "run callbot until SIGTERM/SIGINT",
	  "Runs the web dashboard/API and the call handling until SIGTERM or SIGINT.\n"
	  "SIGHUP reloads non-secret settings (log level). Refuses to start with a\n"
	  "missing, short or known-default SECRET_KEY.\n" },
	{ "gen-secret", cmd_gen_secret, "", "print a URL-safe token of 32 random bytes",
	  "Prints a URL-safe token of 32 random bytes (43 characters), for SECRET_KEY.\n" },
	{ "gen-key", cmd_gen_key, "", "print a new Fernet key",
	  "Prints a new Fernet key (44 characters), for ENCRYPTION_KEY.\n" },
	{ "user", cmd_user, "add|passwd|del|list ...", "manage dashboard users",
	  "  user add NAME [--role admin|viewer]   create a user (default role: viewer)\n"
	  "  user passwd NAME                      set a new password\n"
	  "  user del NAME                         delete a user (not the last admin)\n"
	  "  user list                             list users\n\n"
	  "Passwords are read from the terminal (or one line from stdin), never from\n"
	  "the command line, and must be at least 12 characters long.\n" },
	{ "token", cmd_token, "add|list|revoke ...", "manage API tokens",
	  "  token add USER [--name LABEL]   create an API token; printed once, on the last line\n"
	  "  token list                      list tokens (never their values)\n"
	  "  token revoke ID                 revoke a token\n" },
	{ "check", cmd_check, "", "run the security checklist",
	  "Prints one PASS, WARN or FAIL line per check, each FAIL with how to fix it.\n"
	  "Also lists the dashboard's first-run items: admin password changed, SIP\n"
	  "account set, backends chosen, HTTPS. Exits 1 if any check fails.\n" },
	{ "calls", cmd_calls, "[--search TEXT] [--caller NUM] [--since DATE] [--json]",
	  "list stored calls",
	  "Lists stored calls, newest first, as a table or (--json) as JSON.\n"
	  "  --search TEXT   caller, callee or transcript text (case-insensitive)\n"
	  "  --caller NUM    exactly this number\n"
	  "  --since DATE    started at or after DATE (YYYY-MM-DD or ISO-8601)\n"
	  "  --json          one JSON document\n" },
	{ "export", cmd_export, "--caller NUM --out FILE", "export everything about one caller",
	  "Writes a .tar.gz (mode 0600) with callbot-export/manifest.json (the calls where NUM\n"
	  "is the caller or the callee, their consent state and decrypted turns) and\n"
	  "callbot-export/recordings/<call id>.wav (decrypted). Audited with the number hashed.\n"
	  "Progress on a terminal only; one summary line.\n" },
	{ "erase", cmd_erase, "--caller NUM", "delete everything about one caller",
	  "Deletes every call where NUM is the caller or the callee, with its turns and\n"
	  "recording, and removes NUM from earlier audit details. The audit row names\n"
	  "only a keyed hash of NUM. Cannot be undone (backups still hold the data until\n"
	  "they expire: see docs/compliance.md).\n" },
	{ "purge", cmd_purge, "[--older-than DAYS]", "apply retention now",
	  "Calls older than RETENTION_DAYS (or DAYS) lose their recording, transcript text,\n"
	  "caller number and SIP Call-ID; the row keeps timings, status and consent for\n"
	  "statistics. Old recording files left in AUDIO_DIR are removed too. Audited.\n"
	  "Progress on a terminal only; one summary line.\n" },
	{ "decrypt", cmd_decrypt, "[--partial] FILE", "print an encrypted recording or transcript",
	  "Writes the plaintext of an encrypted recording (AUDIO_DIR) or of a file holding a\n"
	  "transcript's Fernet token to stdout, using ENCRYPTION_KEY (every key in it).\n"
	  "--partial accepts a recording whose call never finished. Audited.\n" },
	{ "rekey", cmd_rekey, "[--all]", "re-encrypt stored data with the newest key",
	  "Re-encrypts every transcript and recording that is not yet under the first key of\n"
	  "ENCRYPTION_KEY (plain ones get encrypted). Safe to interrupt and run again.\n"
	  "Recordings modified in the last 10 minutes (calls in progress) are skipped\n"
	  "unless --all is given (use it with serve stopped). Exit 1 if some data could\n"
	  "not be read with the given keys. Progress on a terminal only; one summary line.\n" },
	{ "backup", cmd_backup, "[--recordings] [--encrypt] FILE", "consistent online backup",
	  "Writes FILE (mode 0600, must not exist): a .tar.gz with the database (SQLite\n"
	  "online backup API, safe while serving) and, with --recordings, AUDIO_DIR.\n"
	  "--encrypt wraps it in callbot's encrypted file format with ENCRYPTION_KEY.\n"
	  "PostgreSQL: back the database up with pg_dump (docs/operations.md).\n"
	  "Progress on a terminal only; one summary line.\n" },
	{ "restore", cmd_restore, "FILE", "restore a backup (serve must be stopped)",
	  "Replaces the database (and recordings, when the backup holds them) with the\n"
	  "contents of FILE made by callbot backup. Stop serve first.\n"
	  "Progress on a terminal only; one summary line.\n" },
	{ "dial", cmd_dial, "URI [--say TEXT ...|--wav FILE] [--record FILE]",
	  "a built-in test caller: call URI, speak, measure the replies",
	  "Places a SIP call from its own user agent on 127.0.0.1 (a free port; no\n"
	  "registrar) to URI (sip:USER@IP[:PORT]), waits for the greeting to end, then\n"
	  "for each --say speaks TEXT (TTS_BACKEND) or plays --wav FILE, waits for the\n"
	  "reply, transcribes it (STT_BACKEND, general model) and prints one line per\n"
	  "turn: what it said, what it heard, and the latency from the end of its own\n"
	  "audio to the reply's first non-silent packet. Hangs up at the end.\n\n"
	  "  --say TEXT     a sentence to speak (repeat for several turns)\n"
	  "  --wav FILE     a WAV file to play instead (any rate, mono or stereo);\n"
	  "                 repeat for several turns\n"
	  "  --record FILE  write the whole call as a stereo WAV (left: heard, right: sent)\n\n"
	  "Exit status 0 when every turn got a reply, 1 otherwise. Recognising synthetic\n"
	  "voices is rough: the transcript is informational, the latency is the measure.\n" },
	{ "demo", cmd_demo, "", "a conversation with itself over loopback",
	  "Starts callbot serve as a child process on 127.0.0.1 (free ports, a temporary\n"
	  "config and database, BOT_MODE=ai with the built-in rules), dials it and says\n"
	  "\"what time is it\", \"what is the date\" and \"goodbye\", printing each turn\n"
	  "and then the conversation as the bot stored it. No PBX needed; everything is\n"
	  "removed afterwards.\n" },
	{ "call", cmd_call, "URI [--purpose TEXT] [--ring-timeout S]", "place an outbound call and talk (OUTBOUND_ALLOW)",
	  "Places one outbound call to URI (a number, routed through SIP_SERVER with\n"
	  "digest authentication, or a sip: URI) with the configured AI stack, stores it\n"
	  "like an incoming call and exits when it ends. The destination must match\n"
	  "OUTBOUND_ALLOW (empty: nothing may be dialled). SIP uses SIP_LISTEN's address\n"
	  "on a free port, so it runs beside serve. Exit 0 when the call was answered.\n\n"
	  "  --purpose TEXT       why the call is made (logged)\n"
	  "  --ring-timeout S     cancel when not answered within S seconds (default 60)\n" },
	{ "selftest", cmd_selftest, "[sip|llm|speech|all]", "live checks for monitoring",
	  "Runs live checks and prints one PASS/FAIL line each, with its duration:\n"
	  "  sip      REGISTER with the configured account (SIP_SERVER); PASS with a note\n"
	  "           when SIP_SERVER is empty (registration disabled)\n"
	  "  llm      a one-line answer from the configured LLM backend\n"
	  "  speech   synthesise a sentence with the TTS backend and recognise it back\n"
	  "  all      every check (the default)\n\n"
	  "Exit status: 0 every check passed, 1 a check failed, 2 usage or configuration\n"
	  "error, for monitoring.\n" },
	{ "import-callbot", cmd_import_callbot, "[--audio-dir DIR] PATH",
	  "import a Python CallBot database",
	  "Imports the calls (one call with a caller and a bot turn per row, recordings\n"
	  "copied into AUDIO_DIR, encrypted when ENCRYPTION_KEY is set) and the settings\n"
	  "(greeting, system prompt, model, voice, language...) of the Python CallBot's\n"
	  "SQLite database PATH. Idempotent: a second run adds nothing. Rows older than\n"
	  "RETENTION_DAYS are skipped; settings already set here are kept. Audited.\n"
	  "Progress on a terminal only; one summary line.\n\n"
	  "  --audio-dir DIR   the Python CallBot's AUDIO_OUTPUT_DIR\n"
	  "                    (default: PATH's folder/audio_output)\n" },
};

const struct cli_cmd *cli_commands(size_t *n)
{
	*n = ARRAY_SIZE(commands);
	return commands;
}

const struct cli_cmd *cli_command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

int cli_load_conf(struct cli *cli)
{
	char err[512];
	int rc;

	if (cli->conf_loaded)
		return EXIT_OK;
	rc = conf_load(&cli->conf, cli->config_path, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "callbot: config: %s\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < cli->conf.warnings_n; i++)
		fprintf(stderr, "callbot: warning: %s\n", cli->conf.warnings[i]);
	cli->conf_loaded = true;
	return EXIT_OK;
}

int cli_open_store(struct cli *cli, struct store **st)
{
	int rc = cli_load_conf(cli);

	if (rc)
		return rc;
	rc = store_open(st, cli->conf.database_url, cli->conf.base_dir);
	if (rc) {
		fprintf(stderr, "callbot: cannot open the database (DATABASE_URL): %s\n", strerror(rc));
		return EXIT_FAIL;
	}
	rc = store_migrate(*st);
	if (rc) {
		fprintf(stderr, "callbot: database migration failed: %s\n", strerror(rc));
		store_close(*st);
		*st = NULL;
		return EXIT_FAIL;
	}
	/* every consumer (web, export, CLI) reads and writes transcripts
	 * through the store, which encrypts and decrypts them */
	rc = store_set_encryption_key(*st, cli->conf.encryption_key);
	if (rc) {
		fprintf(stderr, "callbot: config: ENCRYPTION_KEY: not a valid Fernet key list"
			" (use callbot gen-key)\n");
		store_close(*st);
		*st = NULL;
		return EXIT_USAGE;
	}
	(void)store_set_node(*st, cli->conf.node_id); /* NODE_ID is validated: cannot fail */
	return EXIT_OK;
}

bool cli_wants_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("Usage: callbot [--config FILE] %s %s\n\n%s", cmd->name, cmd->args,
			       cmd->help);
			return true;
		}
	}
	return false;
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "callbot %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'callbot %s --help')\n", cmd);
}

static int read_line_noecho(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int rc = 0;

	if (!tty)
		return errno;
	fprintf(tty, "%s", prompt);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (!fgets(buf, (int)size, tty))
		rc = EIO;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	buf[strcspn(buf, "\r\n")] = '\0';
	return rc;
}

int cli_read_password(const char *prompt, bool confirm, char *buf, size_t size)
{
	char again[256];
	int rc;

	if (!isatty(STDIN_FILENO)) {
		if (!fgets(buf, (int)size, stdin))
			return EIO;
		buf[strcspn(buf, "\r\n")] = '\0';
		return 0;
	}
	rc = read_line_noecho(prompt, buf, size);
	if (rc || !confirm)
		return rc;
	rc = read_line_noecho("Repeat: ", again, sizeof(again));
	if (!rc && strcmp(again, buf) != 0)
		rc = EINVAL;
	memset(again, 0, sizeof(again));
	return rc;
}
