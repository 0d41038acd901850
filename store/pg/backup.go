package pg

import (
	"context"

	"pbxbill/rating"
)

// Backup is the operator's on PostgreSQL: pbxbill does not copy a shared
// database through one node's HTTP answer. It answers EInvalid, which
// GET /api/v1/backup answers 400 with this message.
func (s *Store) Backup() (rating.Snapshot, error) {
	return nil, rating.Errorf(rating.EInvalid, "backup: this installation keeps its records in PostgreSQL, "+
		"which pbxbill does not copy; back the database up with pg_dump (restore with pg_restore), "+
		"or with PostgreSQL's continuous archiving or a replica")
}

// Empty reports whether the store holds no rate tables, tenants or
// providers (the condition for -demo seeding).
func (s *Store) Empty() (bool, error) {
	var empty bool
	err := s.pool.QueryRow(context.Background(), `SELECT NOT EXISTS (SELECT 1 FROM tenants)
		AND NOT EXISTS (SELECT 1 FROM providers) AND NOT EXISTS (SELECT 1 FROM rate_tables)`).Scan(&empty)
	return empty, dbError(err)
}
