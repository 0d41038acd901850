package pg

import "context"

// ReleaseByCDR releases the holds of node's calls ids as a CDR batch's
// transaction does, for the tests of package pg_test.
func (s *Store) ReleaseByCDR(node string, ids []string) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error { return s.releaseByCDR(ctx, tx, node, ids) })
}
