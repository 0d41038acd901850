-- Holds, schedules, the outbox's delivery claims.

-- A hold shows the name its tenant had when it opened (rating.Hold.Tenant).
ALTER TABLE holds ADD COLUMN tenant text NOT NULL DEFAULT '';

-- Each tenant's holds summed: the sum and number of its rows in holds,
-- kept by the triggers below in the transaction of every insert and
-- delete, so that an authorization reads its tenant's open holds in time
-- that does not grow with the tenant's calls in progress: the open ones
-- are these less the few expired ones that ExpireHolds has not moved
-- yet. Holds are inserted and deleted, never updated.
CREATE TABLE hold_totals (
	tenant_id bigint PRIMARY KEY,
	held      numeric(38,8) NOT NULL,
	calls     bigint NOT NULL
);

CREATE FUNCTION hold_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO hold_totals AS t (tenant_id, held, calls)
		SELECT tenant_id, sum(amount), count(*) FROM added GROUP BY tenant_id ORDER BY tenant_id
		ON CONFLICT (tenant_id) DO UPDATE SET held = t.held + excluded.held, calls = t.calls + excluded.calls;
	RETURN NULL;
END $$;

CREATE FUNCTION hold_totals_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE hold_totals AS t SET held = t.held - r.held, calls = t.calls - r.calls
		FROM (SELECT tenant_id, sum(amount) AS held, count(*) AS calls FROM removed GROUP BY tenant_id) r
		WHERE t.tenant_id = r.tenant_id;
	RETURN NULL;
END $$;

CREATE TRIGGER holds_added AFTER INSERT ON holds REFERENCING NEW TABLE AS added
	FOR EACH STATEMENT EXECUTE FUNCTION hold_totals_add();
CREATE TRIGGER holds_removed AFTER DELETE ON holds REFERENCING OLD TABLE AS removed
	FOR EACH STATEMENT EXECUTE FUNCTION hold_totals_remove();
CREATE FUNCTION hold_totals_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'holds are inserted and deleted, never updated: hold_totals counts them';
END $$;
CREATE TRIGGER holds_fixed BEFORE UPDATE ON holds
	FOR EACH STATEMENT EXECUTE FUNCTION hold_totals_refuse();

-- The last expired holds, kept for the admin to see (at most 1000, newest
-- by seq): each is a PBX that did not send a CDR in time.
CREATE TABLE holds_expired (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	node         text NOT NULL,
	call         text NOT NULL,
	tenant_id    bigint NOT NULL,
	tenant       text NOT NULL,
	amount       numeric(38,8) NOT NULL,
	max_duration integer NOT NULL,
	opened       timestamptz NOT NULL,
	expires      timestamptz NOT NULL
);
CREATE INDEX holds_expired_tenant ON holds_expired (tenant_id, seq);

-- Recurring fees and refills (DOMAIN.md "Recurring charges and refills"),
-- under their tenant's id so that a rename keeps them. next is the first
-- month not yet settled (YYYYMM; 0: the start month), a cursor that spares
-- the scheduler a walk from the start month; schedule_posted, not next, is
-- what keeps an occurrence from being posted twice.
CREATE TABLE schedules (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name      text NOT NULL,
	amount    numeric(38,8), -- NULL with top_up_to
	top_up_to numeric(38,8), -- NULL with amount
	day       smallint NOT NULL,
	start     date NOT NULL,
	stop      date, -- the end date; NULL runs for ever
	next      integer NOT NULL DEFAULT 0
);
CREATE INDEX schedules_tenant ON schedules (tenant_id, id);

-- Each (schedule, month) posted, written in the transaction of its ledger
-- entry (entry NULL: a top-up with nothing to add). The primary key is the
-- occurrence's idempotency key, whichever node's scheduler posts it. The
-- keys of a deleted schedule stay.
CREATE TABLE schedule_posted (
	schedule_id bigint NOT NULL,
	month       integer NOT NULL, -- YYYYMM
	entry       bigint,
	PRIMARY KEY (schedule_id, month)
);

-- An event's data is kept as it was written, byte for byte: receivers and
-- the API see the JSON the event was queued with, which jsonb would
-- reorder.
ALTER TABLE outbox ALTER COLUMN data TYPE json USING data::json;

-- A deliverer claims the pending events it read until claimed_until, so
-- that one node delivers each event while several run (outbox.go).
ALTER TABLE outbox ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz;

-- A statement reads a month of one tenant's ledger by date: its entries
-- of the month, and the last entry before it for the opening balance.
CREATE INDEX ledger_account_at ON ledger (account_type, account_id, at, id);
