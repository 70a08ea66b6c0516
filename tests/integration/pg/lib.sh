# pg/lib.sh - a throwaway PostgreSQL for integration tests (sourced after sip/lib.sh).
# pg_start: initdb + start on 127.0.0.1 (sets P, PGPORT, DB_URL, PSQL, pgsql); pg_stop removes
# it; pg_halt / pg_resume stop and start the server (outage tests).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

pg_start() {
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL server not installed (scripts/packages/test-rel.list)"
	# initdb refuses root: the cluster belongs to postgres.
	P=$(mktemp -d /tmp/callbot-pg-XXXXXX)
	chmod 755 "$P" && chown postgres "$P"
	PGPORT=$(free_port 1)
	PGPW=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')
	printf '%s\n' "$PGPW" >"$P/pw" && chown postgres "$P/pw"
	runuser -u postgres -- "$PGBIN/initdb" -D "$P/data" -U postgres --pwfile="$P/pw" \
		--auth-local=trust --auth-host=scram-sha-256 >"$P/initdb.log" 2>&1 ||
		{ cat "$P/initdb.log" >&2; die "initdb"; }
	cat >>"$P/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$P'
fsync = off
CONF
	pg_resume
	PSQL -d postgres -c "CREATE DATABASE callbot" || die "create database"
	DB_URL="postgresql://postgres:$PGPW@127.0.0.1:$PGPORT/callbot?sslmode=disable&connect_timeout=5"
	log "PostgreSQL on 127.0.0.1:$PGPORT"
}

PSQL() { (cd "$P" && runuser -u postgres -- psql -h "$P" -p "$PGPORT" -v ON_ERROR_STOP=1 -qAt "$@"); }
pgsql() { PSQL -d callbot -c "$1"; }

pg_resume() {
	(cd "$P" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$P/data" -l "$P/server.log" -w -t 30 start >/dev/null) ||
		{ cat "$P/server.log" >&2; die "PostgreSQL did not start"; }
}

pg_halt() {
	(cd "$P" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$P/data" -m fast -w -t 30 stop >/dev/null)
}

pg_stop() {
	[ -n "${P:-}" ] || return 0
	[ -f "$P/data/postmaster.pid" ] && (cd "$P" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$P/data" -m immediate -w stop >/dev/null 2>&1)
	rm -rf "$P"
}
