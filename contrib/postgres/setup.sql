-- setup.sql - least-privilege PostgreSQL roles and database for callbot.
--
-- Run once as a superuser (psql variables give the passwords; never put them in this file):
--   sudo -u postgres psql -v ON_ERROR_STOP=1 \
--        -v owner_password="$(openssl rand -base64 24)" \
--        -v app_password="$(openssl rand -base64 24)" -f contrib/postgres/setup.sql
--
-- Two roles, neither superuser nor able to create roles or databases:
--   callbot_owner  owns the schema "callbot"; used only to apply migrations (after install
--                  and after each upgrade: run any callbot command once with its URL).
--   callbot        what `callbot serve` connects as: SELECT/INSERT/UPDATE/DELETE on callbot's
--                  tables and nothing else (no DDL, no other schemas, no other databases).
-- Both connect over TLS only (pg_hba.conf: hostssl ... scram-sha-256; see docs/security.md).

CREATE ROLE callbot_owner LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE callbot LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
    CONNECTION LIMIT 64;

CREATE DATABASE callbot OWNER callbot_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE callbot FROM PUBLIC;
GRANT CONNECT ON DATABASE callbot TO callbot_owner, callbot;

\connect callbot

-- Nobody creates objects in public; callbot's tables live in their own schema.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA callbot AUTHORIZATION callbot_owner;
GRANT USAGE ON SCHEMA callbot TO callbot;
ALTER ROLE callbot_owner IN DATABASE callbot SET search_path = callbot;
ALTER ROLE callbot IN DATABASE callbot SET search_path = callbot;

-- Tables the owner creates by migrations are usable by the application role, DML only.
ALTER DEFAULT PRIVILEGES FOR ROLE callbot_owner IN SCHEMA callbot
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO callbot;
ALTER DEFAULT PRIVILEGES FOR ROLE callbot_owner IN SCHEMA callbot
    GRANT USAGE, SELECT ON SEQUENCES TO callbot;
