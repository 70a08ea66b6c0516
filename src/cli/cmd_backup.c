/* cmd_backup.c - backup and restore: database (SQLite online backup) and recordings in one .tar.gz. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "core/alert.h"
#include "core/util.h"
#include "crypto/fernet.h"
#include "crypto/recfile.h"
#include "store/store.h"
#include "store/targz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#define PREFIX "callbot-backup/"
#define BACKUP_MAX ((size_t)8 << 30)

/* nftw has no user argument; the CLI runs one backup at a time. */
static struct {
	struct targz *tz;
	size_t root_len;
	int64_t files, total;
	int err;
	struct progress *progress;
} walk;

/* First pass: how many files, for "N/TOTAL" on a terminal. */
static int count_audio(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	walk.total += type == FTW_F && S_ISREG(sb->st_mode);
	return 0;
}

static int add_audio(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char name[128], *data = NULL;
	size_t len = 0;
	int err;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	if (snprintf(name, sizeof(name), PREFIX "audio/%s", path + walk.root_len + 1) >= 100) {
		fprintf(stderr, "callbot backup: skipped %s: path too long for the archive\n", path);
		return 0;
	}
	err = file_read_all(path, BACKUP_MAX, &data, &len);
	if (!err)
		err = targz_add(walk.tz, name, data, len);
	free(data);
	if (err) {
		walk.err = err;
		return 1;
	}
	progress_set(walk.progress, ++walk.files, walk.total);
	return 0;
}

static int to_recfile(void *arg, const void *data, size_t len)
{
	return recfile_write(arg, data, len);
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	struct fernet_keyring *kr = NULL;
	struct recfile *rf = NULL;
	struct store *st = NULL;
	struct targz *tz = NULL;
	const char *file = NULL, *db;
	bool recordings = false, encrypt = false;
	char *tmp = NULL, *data = NULL, *manifest = NULL, details[256];
	size_t len = 0;
	int rc, err = 0, fd = -1, version = 0;
	json_t *m;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--recordings") == 0)
			recordings = true;
		else if (strcmp(argv[i], "--encrypt") == 0)
			encrypt = true;
		else if (!file)
			file = argv[i];
		else {
			cli_usage_error("backup", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!file) {
		cli_usage_error("backup", "needs a FILE");
		return EXIT_USAGE;
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	db = store_path(st);
	if (!db) {
		fprintf(stderr, "callbot backup: the %s database is backed up with its own tools"
			" (pg_dump; see docs/operations.md)\n", store_backend_name(st));
		store_close(st);
		return EXIT_FAIL;
	}
	if (encrypt && !cli->conf.encryption_key[0]) {
		fprintf(stderr, "callbot backup: --encrypt needs ENCRYPTION_KEY\n");
		store_close(st);
		return EXIT_FAIL;
	}
	/* the snapshot sits next to FILE, 0600, only until it is archived */
	if (asprintf(&tmp, "%s.db-tmp", file) < 0) {
		store_close(st);
		return EXIT_FAIL;
	}
	unlink(tmp);
	err = store_backup(st, tmp);
	if (!err)
		err = file_read_all(tmp, BACKUP_MAX, &data, &len);
	unlink(tmp);
	store_schema_version(st, &version);
	if (err) {
		fprintf(stderr, "callbot backup: database snapshot failed: %s\n", strerror(err));
		goto out;
	}

	if (encrypt) {
		err = fernet_keyring_parse(&kr, cli->conf.encryption_key);
		if (!err)
			err = recfile_create(&rf, file, kr);
		if (!err)
			err = targz_open_cb(&tz, to_recfile, rf);
	} else {
		fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		err = fd < 0 ? errno : targz_open(&tz, fd);
	}
	if (err) {
		fprintf(stderr, "callbot backup: cannot create %s: %s\n", file, strerror(err));
		goto out;
	}
	m = json_pack("{s:s, s:I, s:i, s:s, s:b, s:b}", "format", "callbot-backup/1",
		      "created_at_ms", (json_int_t)time_now_ms(), "schema_version", version,
		      "backend", "sqlite", "recordings", recordings, "encrypted", encrypt);
	manifest = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
	json_decref(m);
	err = manifest ? targz_add(tz, PREFIX "manifest.json", manifest, strlen(manifest)) :
			 ENOMEM;
	if (!err)
		err = targz_add(tz, PREFIX "callbot.db", data, len);
	if (!err && recordings && access(cli->conf.audio_dir, F_OK) == 0) {
		walk.tz = tz;
		walk.root_len = strlen(cli->conf.audio_dir);
		walk.files = 0;
		walk.total = 0;
		walk.err = 0;
		walk.progress = progress_start("backup", "recording files");
		if (walk.progress)
			nftw(cli->conf.audio_dir, count_audio, 16, FTW_PHYS);
		if (nftw(cli->conf.audio_dir, add_audio, 16, FTW_PHYS) != 0)
			err = walk.err ? walk.err : EIO;
		progress_end(walk.progress);
		walk.progress = NULL;
	}
	rc = targz_close(tz);
	if (!err)
		err = rc;
	if (rf) {
		rc = recfile_close(rf);
		if (!err)
			err = rc;
	}
	if (fd >= 0) {
		if (!err && fsync(fd) != 0)
			err = errno;
		close(fd);
	}
	if (err) {
		unlink(file);
		fprintf(stderr, "callbot backup: failed: %s\n", strerror(err));
	} else {
		printf("backup written to %s (database%s%s)\n", file,
		       recordings ? ", recordings" : "", encrypt ? "; encrypted" : "");
	}
	snprintf(details, sizeof(details), "database%s%s files=%" PRId64 "%s",
		 recordings ? "+recordings" : "", encrypt ? " encrypted" : "",
		 recordings ? walk.files : 0, err ? " (failed)" : "");
	store_audit(st, 0, "backup", details, "local");
out:
	if (data)
		sodium_memzero(data, len);
	free(data);
	free(manifest);
	free(tmp);
	fernet_keyring_free(kr);
	store_close(st);
	if (err)
		alert_fail(&cli->conf, "backup_failed", err);
	return err ? EXIT_FAIL : EXIT_OK;
}

struct restore {
	const char *db;
	const char *audio_dir;
	bool have_db, have_manifest;
	int64_t files;
	struct progress *progress;
};

static int write_private(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return errno;
	fchmod(fd, 0600);
	while (len && !err) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno != EINTR)
			err = errno;
		else if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
	}
	if (!err && fsync(fd) != 0)
		err = errno;
	close(fd);
	return err;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			int err = errno;

			*p = '/';
			return err;
		}
		*p = '/';
	}
	return 0;
}

static int restore_entry(const char *name, const unsigned char *data, size_t len, void *arg)
{
	struct restore *r = arg;
	char *path = NULL, *tmp = NULL;
	int err = 0;

	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0)
		return EBADMSG;
	name += strlen(PREFIX);
	if (strcmp(name, "manifest.json") == 0) {
		r->have_manifest = strstr((const char *)data, "callbot-backup/1") != NULL ||
				   memmem(data, len, "callbot-backup/1", 16) != NULL;
		return r->have_manifest ? 0 : ENOTSUP;
	}
	if (strcmp(name, "callbot.db") == 0) {
		if (asprintf(&tmp, "%s.restore-tmp", r->db) < 0)
			return ENOMEM;
		err = write_private(tmp, data, len);
		if (!err) {
			/* the old WAL must not be replayed onto the restored file */
			char *side = NULL;

			if (asprintf(&side, "%s-wal", r->db) >= 0) {
				unlink(side);
				free(side);
			}
			if (asprintf(&side, "%s-shm", r->db) >= 0) {
				unlink(side);
				free(side);
			}
			if (rename(tmp, r->db) != 0)
				err = errno;
		}
		if (err)
			unlink(tmp);
		free(tmp);
		r->have_db = !err;
		return err;
	}
	if (strncmp(name, "audio/", 6) == 0) {
		name += 6;
		if (!name[0] || name[0] == '/' || strstr(name, "..") || !r->audio_dir)
			return EBADMSG;
		path = path_join(r->audio_dir, name);
		if (!path)
			return ENOMEM;
		err = mkdirs(path);
		if (!err)
			err = write_private(path, data, len);
		free(path);
		r->files += !err;
		progress_set(r->progress, r->files, 0);
		return err;
	}
	return 0;	/* a newer callbot's extra: ignored */
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	struct fernet_keyring *kr = NULL;
	struct restore r = { 0 };
	struct store *st = NULL;
	uint8_t *buf = NULL;
	char *plain = NULL, *db = NULL, details[160];
	size_t len = 0;
	int rc, err;

	if (argc != 2) {
		cli_usage_error("restore", "needs exactly one FILE");
		return EXIT_USAGE;
	}
	rc = cli_open_store(cli, &st);
	if (rc)
		return rc;
	if (!store_path(st)) {
		fprintf(stderr, "callbot restore: restore a %s database with its own tools"
			" (pg_restore; see docs/operations.md)\n", store_backend_name(st));
		store_close(st);
		return EXIT_FAIL;
	}
	db = strdup(store_path(st));
	store_close(st);
	st = NULL;
	if (!db)
		return EXIT_FAIL;

	if (recfile_is(argv[1])) {
		err = cli->conf.encryption_key[0] ?
			      fernet_keyring_parse(&kr, cli->conf.encryption_key) : ENOKEY;
		if (!err)
			err = recfile_read_all(argv[1], kr, false, &buf, &len, NULL);
	} else {
		err = file_read_all(argv[1], BACKUP_MAX, &plain, &len);
		buf = (uint8_t *)plain;
	}
	if (err) {
		fprintf(stderr, "callbot restore: cannot read %s: %s\n", argv[1],
			err == ENOKEY ? "encrypted, and ENCRYPTION_KEY is not set" :
			err == EBADMSG ? "not encrypted with any key of ENCRYPTION_KEY, or damaged" :
					 strerror(err));
		goto out;
	}
	r.db = db;
	r.audio_dir = cli->conf.audio_dir;
	if (r.audio_dir[0])
		mkdir(r.audio_dir, 0750);
	r.progress = progress_start("restore", "recording files");
	progress_set(r.progress, 0, 0);
	err = targz_read(buf, len, restore_entry, &r);
	progress_set(r.progress, r.files, r.files); /* the count is known now: the final one */
	progress_end(r.progress);
	if (!err && (!r.have_manifest || !r.have_db))
		err = EBADMSG;
	if (err) {
		fprintf(stderr, "callbot restore: %s is not a complete callbot backup: %s\n",
			argv[1], strerror(err));
		goto out;
	}
	/* the restored database may be older: bring it up to this schema */
	rc = cli_open_store(cli, &st);
	if (rc) {
		err = EIO;
		goto out;
	}
	snprintf(details, sizeof(details), "database, %" PRId64 " recording files", r.files);
	store_audit(st, 0, "restore", details, "local");
	printf("restored the database and %" PRId64 " recording files\n", r.files);
out:
	if (buf)
		sodium_memzero(buf, len);
	free(buf);
	free(db);
	fernet_keyring_free(kr);
	store_close(st);
	return err ? EXIT_FAIL : EXIT_OK;
}
