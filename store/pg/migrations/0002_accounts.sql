-- The accounts part: PBX nodes, admin users and their sessions, and the
-- age index of the one-time keys. Tokens and passwords are kept only as
-- hashes, so a copy of the database grants no access.

-- A PBX node: the SHA-256 of its token, never the token.
CREATE TABLE nodes (
	name         text PRIMARY KEY,
	token_sha256 bytea NOT NULL UNIQUE,
	created      timestamptz NOT NULL,
	last_seen    timestamptz -- NULL: never seen
);

-- An admin user of the browser admin: its password as a bcrypt hash.
CREATE TABLE admins (
	name    text PRIMARY KEY,
	bcrypt  bytea NOT NULL,
	changed timestamptz NOT NULL
);

-- A session under the SHA-256 of its token, ended with its user.
CREATE TABLE sessions (
	token_sha256 bytea PRIMARY KEY,
	username     text NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
	created      timestamptz NOT NULL,
	expires      timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (username);
CREATE INDEX sessions_expires ON sessions (expires);

-- A one-time key of a credit or a schedule's creation is forgotten once
-- it expires (a day on); one written without expires is kept for good,
-- so other users of the table (a schedule's month) are never pruned.
ALTER TABLE once_keys ADD COLUMN expires timestamptz;
CREATE INDEX once_keys_expires ON once_keys (expires) WHERE expires IS NOT NULL;
