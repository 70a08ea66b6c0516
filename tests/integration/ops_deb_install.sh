#!/usr/bin/env bash
# ops_deb_install.sh - builds the Debian package and installs it on this machine (CI runs as
# root on a throwaway Debian 12): the callbot user, /etc/callbot/callbot.env (0600, fresh
# secrets), /var/lib/callbot and /var/log/callbot; `callbot check` passes on that layout;
# `callbot serve` started as the callbot user (no systemd) answers /api/health; an upgrade
# keeps callbot.env byte for byte; remove keeps the data, purge removes it.
# It leaves the machine as it found it: the package purged, the user and group it made
# removed, packages that apt-get pulled in for it purged. It refuses to run (skips) when a
# callbot package, user or /etc/callbot already exists: those are not its own.
. "$(dirname "$0")/lib.sh.inc"

SRC=$(cd "$TESTS_DIR/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "# not root: skipped (installing a package needs root)"; exit 0; }
for tool in dpkg-buildpackage dh fakeroot runuser setpriv; do
	command -v "$tool" > /dev/null || { echo "# $tool not installed (scripts/packages/test-ops.list): skipped"; exit 0; }
done
# One installation at a time on this machine (another checkout may run the suite too).
exec 9> /run/lock/callbot-ops-deb-install.lock
flock -w 280 9 || fail "another ops_deb_install.sh holds /run/lock/callbot-ops-deb-install.lock"
if dpkg-query -W -f '${Status}' callbot 2> /dev/null | grep -qv 'not-installed'; then
	echo "# a callbot package is installed on this machine (not ours): skipped"; exit 0
fi
for p in /etc/callbot /var/lib/callbot /var/log/callbot; do
	[ -e "$p" ] && { echo "# $p exists (not ours): skipped"; exit 0; }
done
getent passwd callbot > /dev/null && { echo "# a callbot user exists (not ours): skipped"; exit 0; }
getent group callbot > /dev/null && { echo "# a callbot group exists (not ours): skipped"; exit 0; }
had_backups=no
[ -e /var/backups/callbot ] && had_backups=yes

dpkg-query -W -f '${Package}\n' | sort > "$T/pkgs.before"
INSTALLED=no
restore_machine() {
	if [ "$INSTALLED" = yes ]; then
		[ -s "$T/serve.pid" ] && kill -KILL "$(cat "$T/serve.pid")" 2> /dev/null
		dpkg --purge callbot > "$T/purge-cleanup.log" 2>&1 || cat "$T/purge-cleanup.log" >&2
		getent passwd callbot > /dev/null && deluser --quiet --system callbot > /dev/null 2>&1
		getent group callbot > /dev/null && delgroup --quiet --system callbot > /dev/null 2>&1
		[ "$had_backups" = no ] && rm -rf /var/backups/callbot
		rm -rf /etc/callbot /var/lib/callbot /var/log/callbot
		dpkg-query -W -f '${Package}\n' | sort > "$T/pkgs.after"
		new=$(comm -13 "$T/pkgs.before" "$T/pkgs.after" | tr '\n' ' ')
		[ -n "$new" ] && { echo "# purging what apt pulled in: $new"; apt-get purge -y -q $new > /dev/null 2>&1; }
	fi
	cleanup
}
trap restore_machine EXIT

# ---- build (in a copy; the second build is the "upgrade": same tree, higher version) ----
ver=$(cd "$SRC" && dpkg-parsechangelog -S Version)
build_deb() { # DIR VERSION
	local B=$1/callbot-$2
	mkdir -p "$B"
	(cd "$SRC" && tar --exclude=./.git --exclude='./build' --exclude='./build-*' --exclude=./debian/build -cf - .) | tar -C "$B" -xf -
	if [ "$2" != "$ver" ]; then
		{ printf 'callbot (%s) unstable; urgency=medium\n\n  * Test upgrade.\n\n -- callbot tests <callbot@localhost>  %s\n\n' \
			"$2" "$(date -R)"; cat "$B/debian/changelog"; } > "$B/debian/changelog.new"
		mv "$B/debian/changelog.new" "$B/debian/changelog"
	fi
	(cd "$B" && DEB_BUILD_OPTIONS="parallel=2 nocheck" timeout 250 dpkg-buildpackage -us -uc -b > "$1/build.log" 2>&1) ||
		fail "dpkg-buildpackage $2 failed: $(tail -20 "$1/build.log")"
	ls "$1"/callbot_"$2"_*.deb
}
DEB=$(build_deb "$T/b1" "$ver")
DEB2=$(build_deb "$T/b2" "$ver+test1")
ok "built $(basename "$DEB") and $(basename "$DEB2")"

# ---- first installation ----
INSTALLED=yes
if ! dpkg -i "$DEB" > "$T/install.log" 2>&1; then
	# missing dependencies: let apt bring them (they are purged again at the end)
	apt-get install -f -y -q >> "$T/install.log" 2>&1 || fail "install: $(tail -20 "$T/install.log")"
fi
expect_eq "$(dpkg-query -W -f '${Status}' callbot)" "install ok installed" "dpkg -i installs callbot"
grep -q "initial-admin-password" "$T/install.log" && ok "postinst tells where the admin password is" ||
	fail "no password hint in: $(cat "$T/install.log")"

u=$(getent passwd callbot) || fail "no callbot user"
expect_eq "$(echo "$u" | cut -d: -f7)" "/usr/sbin/nologin" "callbot user has no login shell"
uid=$(echo "$u" | cut -d: -f3)
[ "$uid" -lt 1000 ] && ok "callbot is a system user (uid $uid)" || fail "uid $uid is not a system uid"
getent group callbot > /dev/null && ok "callbot group exists" || fail "no callbot group"

E=/etc/callbot/callbot.env
expect_eq "$(stat -c '%a %U %G' "$E")" "600 callbot callbot" "callbot.env is 0600 callbot:callbot"
expect_eq "$(stat -c '%a %U %G' /etc/callbot)" "750 root callbot" "/etc/callbot is 0750 root:callbot"
for d in /var/lib/callbot /var/log/callbot; do
	expect_eq "$(stat -c '%a %U %G' "$d")" "750 callbot callbot" "$d is 0750 callbot:callbot"
done
expect_eq "$(stat -c '%a %U' /etc/callbot/initial-admin-password)" "600 root" "initial password file is root-only"
sk=$(sed -n 's/^SECRET_KEY=//p' "$E")
ek=$(sed -n 's/^ENCRYPTION_KEY=//p' "$E")
[ ${#sk} -ge 32 ] && [ ${#ek} -ge 40 ] && ok "fresh SECRET_KEY and ENCRYPTION_KEY in callbot.env" ||
	fail "secrets missing: $(grep -c KEY "$E") key lines"
grep -qF "$sk" "$SRC/debian/callbot.postinst" && fail "SECRET_KEY comes from the package" || ok "secrets are not shipped"
expect_eq "$(stat -c '%U' /var/lib/callbot/callbot.db)" "callbot" "database belongs to callbot"

# ---- callbot check on the installed layout, as the service user ----
runuser -u callbot -- /usr/bin/callbot --config "$E" check > "$T/check.out" 2>&1 ||
	fail "callbot check fails on the installed layout: $(grep -v "^PASS" "$T/check.out")"
ok "callbot check passes on the installed layout ($(grep -c '^PASS' "$T/check.out") PASS, $(grep -c '^WARN' "$T/check.out") WARN)"

# ---- serve as the callbot user, without systemd; free ports through env overrides ----
serve_health() { # prints /api/health
	local wp sp rp pid body=
	wp=$(free_port); sp=$(free_port); rp=$((20000 + RANDOM % 20000))
	# setpriv execs (runuser would stay as a parent and turn SIGTERM into "killed")
	setpriv --reuid=callbot --regid=callbot --init-groups -- env WEB_LISTEN="127.0.0.1:$wp" SIP_LISTEN="127.0.0.1:$sp" \
		RTP_PORTS="$rp-$((rp + 19))" /usr/bin/callbot --config "$E" serve > "$T/serve.out" 2>&1 &
	pid=$!
	echo "$pid" > "$T/serve.pid" # serve_health runs in a subshell: restore_machine reads it
	for _ in $(seq 1 100); do
		body=$(curl -s --max-time 1 "http://127.0.0.1:$wp/api/health") && [ -n "$body" ] && break
		kill -0 "$pid" 2> /dev/null || fail "serve exited: $(tail -5 "$T/serve.out")"
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" || fail "serve did not exit cleanly: $(tail -5 "$T/serve.out")"
	: > "$T/serve.pid"
	echo "$body"
}
h=$(serve_health)
expect_contains "$h" '"status":"ok"' "serve as the callbot user answers /api/health"
[ -s /var/log/callbot/callbot.log ] && expect_eq "$(stat -c %U /var/log/callbot/callbot.log)" callbot "log written by callbot" ||
	fail "no /var/log/callbot/callbot.log"

# ---- reinstall and upgrade keep callbot.env ----
before=$(sha256sum "$E")
dpkg -i "$DEB" > "$T/reinstall.log" 2>&1 || fail "reinstall: $(tail -5 "$T/reinstall.log")"
expect_eq "$(sha256sum "$E")" "$before" "reinstall keeps callbot.env unchanged"
dpkg -i "$DEB2" > "$T/upgrade.log" 2>&1 || fail "upgrade: $(tail -5 "$T/upgrade.log")"
expect_eq "$(dpkg-query -W -f '${Version}' callbot)" "$ver+test1" "upgraded to $ver+test1"
expect_eq "$(sha256sum "$E")" "$before" "upgrade keeps callbot.env unchanged"
expect_eq "$(stat -c '%a %U' "$E")" "600 callbot" "callbot.env still 0600 after the upgrade"
h=$(serve_health)
expect_contains "$h" '"status":"ok"' "upgraded package serves with the old database"

# ---- remove keeps data and configuration, purge removes them ----
dpkg -r callbot > "$T/remove.log" 2>&1 || fail "remove: $(tail -5 "$T/remove.log")"
[ ! -e /usr/bin/callbot ] && [ -f "$E" ] && [ -f /var/lib/callbot/callbot.db ] && [ -d /var/log/callbot ] &&
	ok "remove: program gone, callbot.env, database and logs kept" || fail "remove did not keep the data"
dpkg --purge callbot > "$T/purge.log" 2>&1 || fail "purge: $(tail -5 "$T/purge.log")"
for p in /etc/callbot /var/lib/callbot /var/log/callbot /etc/logrotate.d/callbot /lib/systemd/system/callbot.service; do
	[ -e "$p" ] && fail "purge left $p"
done
ok "purge removed callbot.env, the database, the logs and the conffiles"
ls /etc/systemd/system/*/callbot* /var/lib/systemd/deb-systemd-helper-enabled/*callbot* > /dev/null 2>&1 &&
	fail "purge left systemd links" || ok "purge removed the systemd enablement"
INSTALLED=yes # restore_machine removes the user and group (Debian keeps system users on purge)

echo "ops_deb_install: $CHECKS checks passed"
