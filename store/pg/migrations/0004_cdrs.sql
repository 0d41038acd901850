-- The CDR part: the follow mode's positions and rejected lines. The cdrs
-- table itself is in 0001_core.sql.

-- How far the follow mode has read each PBX CDR file (store.FollowPos as
-- JSON), written in the transaction of the CDRs it read.
CREATE TABLE follow_positions (
	path text PRIMARY KEY,
	pos  jsonb NOT NULL
);

-- Lines of followed files the store refused, newest kept (RejectFollowed
-- keeps the last 1000 sequences).
CREATE TABLE rejected_lines (
	seq   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	path  text NOT NULL,
	line  integer NOT NULL,
	text  text NOT NULL,
	error text NOT NULL,
	at    timestamptz NOT NULL
);

-- A tenant's CDRs by start: the list filtered by tenant (the admin's
-- tenant page, a tenant's own) reads its page, not every CDR newer.
CREATE INDEX cdrs_tenant ON cdrs (tenant_id, start, seq);
