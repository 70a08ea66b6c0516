#!/usr/bin/env bash
# ops_deb.sh - builds the Debian package (dpkg-buildpackage -b in a copy of the tree under
# /tmp) and checks it without installing it on the host: file list, conffiles, units with the
# packaged paths, the jail shipped disabled, maintainer scripts parse, the packaged binary
# runs, and the postinst's first configuration works with that binary (paths moved under $T).
. "$(dirname "$0")/lib.sh.inc"

SRC=$(cd "$TESTS_DIR/.." && pwd)
for tool in dpkg-buildpackage dh fakeroot; do
	command -v "$tool" > /dev/null || { echo "# $tool not installed (scripts/packages/test-ops.list): skipped"; exit 0; }
done

# maintainer scripts of the source tree
for s in "$SRC"/debian/callbot.postinst "$SRC"/debian/callbot.postrm "$SRC"/debian/callbot.prerm; do
	sh -n "$s" || fail "sh -n $s"
done
ok "maintainer scripts parse (sh -n)"
dpkg-checkbuilddeps "$SRC/debian/control" 2> "$T/deps" && ok "build dependencies installed" ||
	fail "missing build dependencies: $(cat "$T/deps")"
ver=$(cd "$SRC" && dpkg-parsechangelog -S Version)
expect_eq "$("$CALLBOT" --version)" "callbot $ver" "debian/changelog version = program version"

# build in a copy (the source tree stays clean)
B=$T/build/callbot-$ver
mkdir -p "$B"
(cd "$SRC" && tar --exclude=./.git --exclude='./build' --exclude='./build-*' --exclude=./debian/build -cf - .) | tar -C "$B" -xf -
t0=$(date +%s)
(cd "$B" && DEB_BUILD_OPTIONS="parallel=2 nocheck" timeout 250 dpkg-buildpackage -us -uc -b > "$T/build.log" 2>&1) ||
	fail "dpkg-buildpackage failed: $(tail -20 "$T/build.log")"
ok "dpkg-buildpackage -us -uc -b in $(( $(date +%s) - t0 )) s"
DEB=$(ls "$T"/build/callbot_"$ver"_*.deb)
[ -f "$DEB" ] || fail "no .deb"

# file list
dpkg-deb -c "$DEB" | awk '{print $6}' > "$T/files"
for f in ./usr/bin/callbot ./lib/systemd/system/callbot.service ./lib/systemd/system/callbot-backup.service \
	./lib/systemd/system/callbot-backup.timer ./etc/logrotate.d/callbot \
	./etc/fail2ban/filter.d/callbot-web.conf ./etc/fail2ban/jail.d/callbot-web.conf \
	./usr/share/man/man8/callbot.8.gz ./usr/share/man/man5/callbot.env.5.gz \
	./usr/lib/callbot/backup.sh ./usr/lib/callbot/healthcheck.sh \
	./usr/share/doc/callbot/examples/nginx/callbot.conf ./usr/share/doc/callbot/examples/postgres/setup.sql \
	./usr/share/doc/callbot/copyright; do
	grep -qx -- "$f" "$T/files" || fail "package lacks $f"
done
ok "package holds the binary, units, logrotate, fail2ban, man pages, scripts and examples"
grep -q '^\./etc/callbot' "$T/files" && fail "/etc/callbot is shipped (postinst must create it)" ||
	ok "callbot.env is not shipped (made by postinst, never overwritten)"

# control data
X=$T/x
dpkg-deb -x "$DEB" "$X"
dpkg-deb -e "$DEB" "$T/ctl"
for s in postinst postrm prerm; do sh -n "$T/ctl/$s" || fail "packaged $s does not parse"; done
ok "packaged maintainer scripts parse"
expect_eq "$(sort "$T/ctl/conffiles" | tr '\n' ' ')" \
	"/etc/fail2ban/filter.d/callbot-web.conf /etc/fail2ban/jail.d/callbot-web.conf /etc/logrotate.d/callbot " "conffiles"
expect_contains "$(dpkg-deb -f "$DEB" Depends)" "pocketsphinx-en-us" "depends on the speech model"
grep -q "deb-systemd-helper enable 'callbot.service'" "$T/ctl/postinst" && ok "service enabled on install" || fail "service not enabled"
grep -q "deb-systemd-invoke \$_dh_action 'callbot.service'" "$T/ctl/postinst" &&
	fail "service started on first install (it must wait for the operator)" || ok "service not started before it is configured"
grep -q "stop callbot.service" "$T/ctl/prerm" && ok "prerm stops the service on remove" || fail "prerm"
grep -q 'rm -rf /var/lib/callbot' "$T/ctl/postrm" && sed -n '/^purge)/,/;;/p' "$T/ctl/postrm" | grep -q 'rm -rf /var/lib/callbot' &&
	ok "data removed on purge only" || fail "postrm purge"

# units and configs with the packaged paths
units=$(cat "$X"/lib/systemd/system/callbot*.service)
expect_contains "$units" "ExecStart=/usr/bin/callbot --config /etc/callbot/callbot.env serve" "service runs /usr/bin/callbot with callbot.env"
expect_contains "$units" "ExecStart=/usr/lib/callbot/backup.sh" "backup unit runs the packaged script"
expect_contains "$units" "CALLBOT=/usr/bin/callbot CALLBOT_CONFIG=/etc/callbot/callbot.env" "backup unit finds binary and config"
expect_not_contains "$units" "/usr/local" "no /usr/local path in the units"
expect_contains "$units" "User=callbot" "service runs as the callbot user"
expect_contains "$(cat "$X/etc/fail2ban/jail.d/callbot-web.conf")" "enabled  = false" "fail2ban jail shipped disabled"
expect_contains "$(cat "$X/etc/fail2ban/jail.d/callbot-web.conf")" "logpath  = /var/log/callbot/access.log" "jail reads the packaged log"
expect_contains "$(cat "$X/etc/logrotate.d/callbot")" "/var/log/callbot/*.log" "logrotate covers the logs"
zcat "$X/usr/share/man/man8/callbot.8.gz" | groff -man -Tascii -ww > /dev/null 2> "$T/mw"
[ ! -s "$T/mw" ] && ok "packaged man page renders" || fail "man: $(cat "$T/mw")"

# the packaged (release) binary
PB=$X/usr/bin/callbot
expect_eq "$("$PB" --version)" "callbot $ver" "packaged binary runs"
"$PB" --help | grep -q "import-callbot" && ok "packaged binary has every command" || fail "packaged --help"

# postinst's first configuration, with its paths moved under $T
E=$T/etc
mkdir -p "$E" "$T/var/lib/callbot" "$T/var/log/callbot"
sed -n '/^	cat > "\$CONF.dpkg-tmp" <<ENV$/,/^ENV$/p' "$T/ctl/postinst" | sed '1d;$d' |
	sed -e "s|/var/lib/callbot|$T/var/lib/callbot|g" -e "s|/var/log/callbot|$T/var/log/callbot|g" \
		-e 's/\$(date -u +%Y-%m-%d)/today/' > "$E/callbot.env"
grep -q '^DATABASE_URL=' "$E/callbot.env" || fail "postinst template not found"
out=$("$PB" --config "$E/callbot.env" init 2>&1) || fail "init on the postinst template: $out"
pw=$(printf '%s\n' "$out" | sed -n 's/^Dashboard login:  admin \/ //p') # the postinst's own sed
[ ${#pw} -ge 12 ] && ok "postinst finds the admin password in init's output" || fail "password not found in: $out"
expect_contains "$(cat "$E/callbot.env")" "ENCRYPTION_KEY=" "fresh ENCRYPTION_KEY in the template"
[ -f "$T/var/lib/callbot/callbot.db" ] && ok "database created where the template says" || fail "no database"
"$PB" --config "$E/callbot.env" selftest llm > /dev/null 2>&1 && ok "the template configuration loads and works" || fail "selftest on the template"

echo "ops_deb: $CHECKS checks passed"
