#!/usr/bin/env bash
# install.sh - install a built callbot as a hardened systemd service with its own user.
# Usage (as root, after scripts/build.sh release): scripts/install.sh [--no-start]
# Layout: /usr/local/bin/callbot, /etc/callbot/.env (0600), /var/lib/callbot (database,
# recordings), /var/log/callbot, nightly encrypted backups in /var/backups/callbot.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
BIN=${CALLBOT_BIN:-build/callbot}
[ -x "$BIN" ] || { echo "install.sh: $BIN not built (scripts/build.sh release)" >&2; exit 1; }

getent group callbot >/dev/null || groupadd --system callbot
getent passwd callbot >/dev/null || useradd --system --gid callbot --home-dir /var/lib/callbot \
	--shell /usr/sbin/nologin --comment "callbot service" callbot

install -m 0755 "$BIN" /usr/local/bin/callbot
install -d -m 0755 /usr/local/lib/callbot
install -m 0755 scripts/backup.sh scripts/healthcheck.sh /usr/local/lib/callbot/
install -d -m 0750 -o callbot -g callbot /var/lib/callbot /var/log/callbot /var/backups/callbot
install -d -m 0750 -o root -g callbot /etc/callbot

if [ ! -f /etc/callbot/.env ]; then
	umask 077
	cat > /etc/callbot/.env <<ENV
# callbot production configuration (docs/configuration.md, docs/security.md)
DATABASE_URL=sqlite:////var/lib/callbot/callbot.db
AUDIO_DIR=/var/lib/callbot/audio
LOG_DIR=/var/log/callbot
WEB_LISTEN=127.0.0.1:5000
RETENTION_DAYS=30
CONSENT_MODE=announce
SRTP=optional
ENV
	# fresh SECRET_KEY/ENCRYPTION_KEY, database, folders and the admin user (password printed once)
	runuser -u callbot -- /usr/local/bin/callbot --config /etc/callbot/.env init 2>&1 || true
fi
chown callbot:callbot /etc/callbot/.env
chmod 0600 /etc/callbot/.env

install -m 0644 contrib/systemd/callbot.service contrib/systemd/callbot-backup.service \
	contrib/systemd/callbot-backup.timer /etc/systemd/system/
if [ -d /etc/fail2ban/filter.d ] && [ -d contrib/fail2ban ]; then
	cp contrib/fail2ban/filter.d/*.conf /etc/fail2ban/filter.d/ 2>/dev/null || true
	cp contrib/fail2ban/jail.d/*.conf /etc/fail2ban/jail.d/ 2>/dev/null || true
fi
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	if [ "${1:-}" != "--no-start" ]; then
		systemctl enable --now callbot.service callbot-backup.timer
	fi
fi
runuser -u callbot -- /usr/local/bin/callbot --config /etc/callbot/.env check || true
echo "installed; put nginx (contrib/nginx/callbot.conf) in front for HTTPS"
