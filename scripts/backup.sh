#!/usr/bin/env bash
# backup.sh - one encrypted backup (database + recordings) and expiry of old ones.
# Env: CALLBOT_CONFIG (/etc/callbot/.env), BACKUP_DIR (/var/backups/callbot), KEEP_DAYS (14),
#      CALLBOT (callbot binary). PostgreSQL: pg_dump -Fc of DATABASE_URL plus the recordings.
# Exit 0 on success; 1 with one line on stderr otherwise (the systemd timer alerts on it).
set -euo pipefail
CONFIG=${CALLBOT_CONFIG:-/etc/callbot/.env}
DIR=${BACKUP_DIR:-/var/backups/callbot}
KEEP=${KEEP_DAYS:-14}
CALLBOT=${CALLBOT:-/usr/local/bin/callbot}
umask 077
mkdir -p "$DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
url=$(sed -n 's/^DATABASE_URL=//p' "$CONFIG" | tail -1)
case "$url" in
postgres*)
	# the database with PostgreSQL's own tool, the recordings with callbot's format
	pg_dump -Fc --no-owner -f "$DIR/callbot-$stamp.pgdump" "${url/postgresql+*:\/\//postgresql://}"
	tar -C "$(dirname "$(sed -n 's/^AUDIO_DIR=//p' "$CONFIG" | tail -1)")" -czf "$DIR/callbot-$stamp.audio.tgz" \
		"$(basename "$(sed -n 's/^AUDIO_DIR=//p' "$CONFIG" | tail -1)")"
	;;
*)
	"$CALLBOT" --config "$CONFIG" backup --recordings --encrypt "$DIR/callbot-$stamp.cbk" >/dev/null
	;;
esac
# expire old backups (erased callers disappear from backups after KEEP_DAYS: docs/compliance.md)
find "$DIR" -maxdepth 1 -type f -name 'callbot-*' -mtime +"$KEEP" -delete
echo "backup: $DIR/callbot-$stamp"
