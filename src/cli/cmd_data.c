/* cmd_data.c - data protection commands: export, erase, purge, decrypt, rekey. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "core/alert.h"
#include "core/util.h"
#include "crypto/fernet.h"
#include "crypto/recfile.h"
#include "store/data.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

static void data_ctx_init(struct data_ctx *dc, struct cli *cli, struct store *st)
{
	memset(dc, 0, sizeof(*dc));
	dc->st = st;
	dc->base_dir = cli->conf.base_dir;
	dc->audio_dir = cli->conf.audio_dir;
	dc->hash_key = cli->conf.secret_key;
	dc->ip = "local";
}

/* --caller NUM [--out FILE]; returns EXIT_OK or EXIT_USAGE. */
static int parse_caller(const char *cmd, int argc, char **argv, const char **caller,
			const char **outp)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--caller") == 0 && i + 1 < argc)
			*caller = argv[++i];
		else if (outp && strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			*outp = argv[++i];
		else {
			cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!*caller || !(*caller)[0]) {
		cli_usage_error(cmd, "needs --caller NUM");
		return EXIT_USAGE;
	}
	if (outp && (!*outp || !(*outp)[0])) {
		cli_usage_error(cmd, "needs --out FILE");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	const char *caller = NULL, *outp = NULL;
	struct data_export_counts n;
	struct progress *pr;
	struct data_ctx dc;
	struct store *st = NULL;
	int rc, fd, err;

	rc = parse_caller("export", argc, argv, &caller, &outp);
	if (rc)
		return rc;
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	fd = open(outp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "callbot export: cannot create %s: %s\n", outp, strerror(errno));
		store_close(st);
		return EXIT_FAIL;
	}
	data_ctx_init(&dc, cli, st);
	pr = progress_start("export", "collecting the calls, turns and recordings");
	progress_busy(pr);
	err = data_export(&dc, caller, fd, &n);
	progress_end(pr);
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	store_close(st);
	if (err) {
		unlink(outp);
		fprintf(stderr, "callbot export: failed: %s\n", strerror(err));
		return EXIT_FAIL;
	}
	printf("exported %" PRId64 " calls, %" PRId64 " turns, %" PRId64
	       " recordings to %s%s\n", n.calls, n.turns, n.recordings, outp,
	       n.missing ? " (some recordings missing: see manifest.json)" : "");
	return EXIT_OK;
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
	const char *caller = NULL;
	struct data_erase_counts n;
	struct data_ctx dc;
	struct store *st = NULL;
	char hash[80];
	int rc, err;

	rc = parse_caller("erase", argc, argv, &caller, NULL);
	if (rc)
		return rc;
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	data_ctx_init(&dc, cli, st);
	err = data_erase(&dc, caller, &n);
	store_close(st);
	/* the number itself is not repeated: terminals and CI logs keep output */
	data_number_hash(caller, cli->conf.secret_key, hash);
	if (err) {
		fprintf(stderr, "callbot erase: failed after %" PRId64 " calls: %s\n", n.calls,
			strerror(err));
		return EXIT_FAIL;
	}
	printf("erased %" PRId64 " calls, %" PRId64 " turns, %" PRId64
	       " recordings (number %s); audit rows redacted: %" PRId64 "\n",
	       n.calls, n.turns, n.recordings, hash, n.audit_rows);
	return EXIT_OK;
}

int cmd_purge(struct cli *cli, int argc, char **argv)
{
	struct data_purge_counts n;
	struct progress *pr;
	struct data_ctx dc;
	struct store *st = NULL;
	long days = -1;
	char *end;
	int rc, err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc) {
			errno = 0;
			days = strtol(argv[++i], &end, 10);
			if (errno || *end || days < 1 || days > 36500) {
				cli_usage_error("purge", "--older-than takes 1-36500 days");
				return EXIT_USAGE;
			}
		} else {
			cli_usage_error("purge", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	if (days < 0)
		days = cli->conf.retention_days;
	if (days <= 0) {
		printf("RETENTION_DAYS=0: nothing to purge (use --older-than DAYS)\n");
		store_close(st);
		return EXIT_OK;
	}
	data_ctx_init(&dc, cli, st);
	pr = progress_start("purge", "purging old calls");
	progress_busy(pr);
	err = data_purge(&dc, (int)days, time_now_ms(), &n);
	progress_end(pr);
	store_close(st);
	if (err) {
		fprintf(stderr, "callbot purge: failed: %s\n", strerror(err));
		alert_fail(&cli->conf, "retention_failed", err);
		return EXIT_FAIL;
	}
	printf("purged calls older than %ld days: %" PRId64 " calls, %" PRId64 " turns, %" PRId64
	       " recordings, %" PRId64 " stray files\n",
	       days, n.calls, n.turns, n.recordings, n.files);
	return EXIT_OK;
}

static int write_out(const void *data, size_t len)
{
	return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : EIO;
}

int cmd_decrypt(struct cli *cli, int argc, char **argv)
{
	const struct fernet_keyring *kr;
	struct store *st = NULL;
	uint8_t *plain = NULL;
	char *text = NULL, details[300];
	const char *file, *kind = "recording", *base;
	size_t len = 0, tlen = 0;
	bool partial = false;
	int rc, err;

	file = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--partial") == 0)
			partial = true;
		else if (!file)
			file = argv[i];
		else {
			cli_usage_error("decrypt", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!file) {
		cli_usage_error("decrypt", "needs a FILE");
		return EXIT_USAGE;
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	kr = store_keyring(st);
	if (!kr) {
		fprintf(stderr, "callbot decrypt: ENCRYPTION_KEY is not set\n");
		store_close(st);
		return EXIT_FAIL;
	}
	if (recfile_is(file)) {
		err = recfile_read_all(file, kr, partial, &plain, &len, NULL);
	} else {
		kind = "transcript";
		err = file_read_all(file, 64u << 20, &text, &tlen);
		if (!err) {
			str_trim(text);
			err = fernet_token_is(text, strlen(text)) ?
				      fernet_decrypt(kr, text, strlen(text), 0, &plain, &len) :
				      EBADMSG;
		}
	}
	base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	snprintf(details, sizeof(details), "%s %.200s%s", kind, base, err ? " (failed)" : "");
	store_audit(st, 0, "decrypt", details, "local");
	store_close(st);
	if (!err)
		err = write_out(plain, len);
	if (plain)
		sodium_memzero(plain, len);
	free(plain);
	free(text);
	if (err) {
		fprintf(stderr, "callbot decrypt: %s: %s\n", file,
			err == EBADMSG ? "not encrypted with any key of ENCRYPTION_KEY, or damaged" :
			err == ENODATA ? "truncated (the call did not finish; --partial shows it)" :
					 strerror(err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_rekey(struct cli *cli, int argc, char **argv)
{
	struct data_rekey_counts n;
	struct progress *pr;
	struct data_ctx dc;
	struct store *st = NULL;
	int recent = 600, rc, err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			recent = 0;
		else {
			cli_usage_error("rekey", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	if (!store_keyring(st)) {
		fprintf(stderr, "callbot rekey: ENCRYPTION_KEY is not set\n");
		store_close(st);
		return EXIT_FAIL;
	}
	data_ctx_init(&dc, cli, st);
	pr = progress_start("rekey", "re-encrypting turns and recordings");
	progress_busy(pr);
	err = data_rekey(&dc, recent, &n);
	progress_end(pr);
	store_close(st);
	printf("re-encrypted %" PRId64 " turns and %" PRId64 " recordings with the newest key;"
	       " %" PRId64 " recent recordings skipped, %" PRId64 " turns and %" PRId64
	       " recordings unreadable with these keys\n",
	       n.turns, n.files, n.files_skipped, n.turns_failed, n.files_failed);
	if (err) {
		fprintf(stderr, "callbot rekey: interrupted: %s (run it again to resume)\n",
			strerror(err));
		return EXIT_FAIL;
	}
	return n.turns_failed || n.files_failed ? EXIT_FAIL : EXIT_OK;
}
