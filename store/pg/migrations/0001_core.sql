-- The core every part of pbxbill touches: the installation's settings,
-- the accounts and their ledger, the day roll-ups, the one-time keys, the
-- audit trail and the alert outbox. Money is numeric with 8 places (the
-- unit of rating.Money), instants are timestamptz.

CREATE TABLE meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE tenants (
	id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name                  text NOT NULL UNIQUE,
	accountcode           text UNIQUE, -- NULL when it has none
	billing_mode          text NOT NULL,
	balance               numeric(38,8) NOT NULL,
	credit_limit          numeric(38,8),
	low_balance_threshold numeric(38,8),
	status                text NOT NULL,
	outbound_table        text NOT NULL DEFAULT '',
	inbound_table         text NOT NULL DEFAULT '',
	conference_table      text NOT NULL DEFAULT '',
	max_calls             integer NOT NULL DEFAULT 0,
	daily_spend_limit     numeric(38,8),
	max_call_duration     integer NOT NULL DEFAULT 0,
	email                 text NOT NULL DEFAULT '',
	created               timestamptz NOT NULL
);

CREATE TABLE providers (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name           text NOT NULL UNIQUE,
	trunk          text UNIQUE, -- NULL when it has none
	balance        numeric(38,8) NOT NULL,
	status         text NOT NULL,
	outbound_table text NOT NULL DEFAULT '',
	inbound_table  text NOT NULL DEFAULT '',
	created        timestamptz NOT NULL
);

-- The ledger: append-only, each entry with the balance after it. An
-- account is (account_type, account_id): 't' a tenant, 'p' a provider.
CREATE TABLE ledger (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_type "char" NOT NULL,
	account_id   bigint NOT NULL,
	at           timestamptz NOT NULL,
	amount       numeric(38,8) NOT NULL,
	kind         text NOT NULL,
	ref          text NOT NULL DEFAULT '',
	balance      numeric(38,8) NOT NULL
);
CREATE INDEX ledger_account ON ledger (account_type, account_id, id);

-- Usage by account and day of the installation's zone.
CREATE TABLE rollups (
	account_type "char" NOT NULL,
	account_id   bigint NOT NULL,
	day          date NOT NULL,
	attempts     bigint NOT NULL DEFAULT 0,
	answered     bigint NOT NULL DEFAULT 0,
	seconds      bigint NOT NULL DEFAULT 0,
	billed       bigint NOT NULL DEFAULT 0,
	sell         numeric(38,8) NOT NULL DEFAULT 0,
	buy          numeric(38,8) NOT NULL DEFAULT 0,
	PRIMARY KEY (account_type, account_id, day)
);

-- One-time keys: a money form's token, an Idempotency-Key, a schedule's
-- month. Written in the transaction of what they guard.
CREATE TABLE once_keys (
	key text PRIMARY KEY,
	at  timestamptz NOT NULL
);

CREATE TABLE audit (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at      timestamptz NOT NULL,
	actor   text NOT NULL,
	action  text NOT NULL,
	object  text NOT NULL,
	summary text NOT NULL
);

-- The alert outbox: each event with its deliveries; pending until done.
CREATE TABLE outbox (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	type       text NOT NULL,
	at         timestamptz NOT NULL,
	data       jsonb NOT NULL,
	deliveries jsonb NOT NULL DEFAULT '[]',
	done       boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE NOT done;

-- CDRs, each once by (node, id) however many nodes post it. seq orders
-- them by arrival; tenant_id and provider_id are the accounts they were
-- matched to (NULL: none), tenant_ref and provider_ref what was posted.
CREATE TABLE cdrs (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	node          text NOT NULL,
	id            text NOT NULL,
	tenant_id     bigint,
	provider_id   bigint,
	tenant_ref    text NOT NULL DEFAULT '',
	provider_ref  text NOT NULL DEFAULT '',
	kind          smallint NOT NULL,
	number        text NOT NULL DEFAULT '',
	start         timestamptz NOT NULL,
	duration      integer NOT NULL,
	rated         boolean NOT NULL,
	reason        text NOT NULL DEFAULT '',
	billed        integer NOT NULL DEFAULT 0,
	cost          numeric(38,8),
	provider_cost numeric(38,8),
	prefix        text NOT NULL DEFAULT '',
	rate_table    text NOT NULL DEFAULT '',
	received      timestamptz NOT NULL,
	UNIQUE (node, id)
);
CREATE INDEX cdrs_start ON cdrs (start, seq);
CREATE INDEX cdrs_unrated ON cdrs (seq) WHERE NOT rated;

-- Holds of calls in progress, by the (node, call) of the call: released
-- by its CDR in the transaction that bills it, by hand, or at expiry.
CREATE TABLE holds (
	node         text NOT NULL,
	call         text NOT NULL,
	tenant_id    bigint NOT NULL,
	amount       numeric(38,8) NOT NULL,
	max_duration integer NOT NULL,
	opened       timestamptz NOT NULL,
	expires      timestamptz NOT NULL,
	PRIMARY KEY (node, call)
);
CREATE INDEX holds_tenant ON holds (tenant_id, expires);
CREATE INDEX holds_expires ON holds (expires);
