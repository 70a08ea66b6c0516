/* migrations.c - the numbered schema migrations, one array per SQL dialect. */
#include "store/store_impl.h"

/* Same text for SQLite and PostgreSQL. */
const char store_migrations_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" applied_at TEXT NOT NULL)";

/*
 * SQLite. Timestamps are ISO-8601 UTC text of fixed width
 * (2026-12-04T17:00:00.123Z), so comparing text compares times.
 * AUTOINCREMENT where ids leave the database (audit rows, API token ids,
 * call ids in recordings and exports): a deleted row's id is never handed
 * to a new row, as PostgreSQL identity columns behave.
 */
static const struct store_migration sqlite_migrations[] = {
	{ 1, "initial schema",
	"CREATE TABLE calls ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sip_call_id TEXT,"
	" caller TEXT,"
	" callee TEXT,"
	" started_at TEXT,"
	" answered_at TEXT,"
	" ended_at TEXT,"
	" status TEXT,"
	" end_reason TEXT,"
	" consent TEXT,"
	" recording_path TEXT);"
	"CREATE INDEX calls_started_at ON calls(started_at);"
	"CREATE INDEX calls_caller ON calls(caller, started_at);"
	"CREATE INDEX calls_status ON calls(status, started_at);"
	"CREATE INDEX calls_sip_call_id ON calls(sip_call_id);"

	"CREATE TABLE turns ("
	" id INTEGER PRIMARY KEY,"
	" call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,"
	" seq INTEGER NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('caller', 'bot', 'tool')),"
	" text TEXT,"
	" started_at TEXT,"
	" stt_ms INTEGER,"
	" llm_ms INTEGER,"
	" tts_ms INTEGER,"
	" response_ms INTEGER,"
	" UNIQUE (call_id, seq));"

	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" username TEXT UNIQUE NOT NULL,"
	" password_hash TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),"
	" created_at TEXT,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" last_login_at TEXT);"

	"CREATE TABLE api_tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" name TEXT,"
	" token_hash TEXT UNIQUE NOT NULL,"
	" created_at TEXT,"
	" last_used_at TEXT);"
	"CREATE INDEX api_tokens_user_id ON api_tokens(user_id);"

	"CREATE TABLE settings ("
	" key TEXT PRIMARY KEY,"
	" value TEXT,"
	" updated_at TEXT,"
	" updated_by TEXT);"

	/* user_id has no foreign key: the trail outlives the user. */
	"CREATE TABLE audit_log ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" timestamp TEXT NOT NULL,"
	" user_id INTEGER,"
	" action TEXT NOT NULL,"
	" details TEXT,"
	" ip_address TEXT);"
	"CREATE INDEX audit_log_timestamp ON audit_log(timestamp);"
	},
};

const struct store_migrations store_migrations_sqlite = {
	sqlite_migrations,
	sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]),
};

int store_schema_latest(void)
{
	return (int)store_migrations_sqlite.n;
}
