-- Rate tables and their rows. A table's rows are those of its live
-- generation (gen), a number from rate_gens that no other table or
-- import ever has, so that gen alone names them:
--   SELECT r.* FROM rates r JOIN rate_tables t USING (gen) WHERE t.name = 'retail'
-- An import writes a new generation beside the live one and makes it
-- live in one transaction, so readers see the old deck or the new one,
-- never a mix; the old generation's rows are deleted once the swap has
-- committed (and any a crash left behind, at Open). version moves at
-- every committed change of a table or its rows, so that each node's
-- in-memory index can tell whether it is current.
CREATE SEQUENCE rate_gens;

CREATE TABLE rate_tables (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name              text NOT NULL UNIQUE,
	kind              text NOT NULL,
	currency          text NOT NULL,
	decimals          integer NOT NULL,
	rounding          text NOT NULL,
	initial_increment integer NOT NULL,
	increment         integer NOT NULL,
	rows              bigint NOT NULL DEFAULT 0,
	updated           timestamptz NOT NULL,
	gen               bigint NOT NULL UNIQUE,
	version           bigint NOT NULL DEFAULT 1
);

-- One row of a rate table. Prices are money, numeric with 8 places as
-- in 0001: each is exactly a rating.Amount, whose int64 of 10^-8 units
-- has 11 whole digits at most (NULL: not set); the integers are NULL
-- when not set. effective_from is -infinity for the row always in
-- force; week is rating.Week.Key(), 0 for the week's default. The key
-- (prefix, effective_from, week) sorts as the bbolt store's keys do,
-- prefix in byte order. It is not declared unique: every writer holds
-- the table's row lock and checks, and an import finds a repeated key as
-- it sorts its rows, reporting the first, as bbolt's does, without an
-- index check for each of a million rows.
CREATE TABLE rates (
	gen               bigint NOT NULL,
	prefix            text COLLATE "C" NOT NULL,
	effective_from    timestamptz NOT NULL,
	week              integer NOT NULL,
	destination       text NOT NULL,
	rate              numeric(20,8) NOT NULL,
	connect_fee       numeric(20,8),
	initial_rate      numeric(20,8),
	min_cost          numeric(20,8),
	max_cost          numeric(20,8),
	initial_increment integer,
	increment         integer,
	grace             integer,
	blocked           boolean NOT NULL
);
CREATE INDEX rates_key ON rates (gen, prefix, effective_from, week);
