package pg

import "context"

// ReleaseByCDR releases the holds of node's calls ids as a CDR batch's
// transaction does, for the tests of package pg_test; with fail, the
// transaction then fails, as a refused batch's does.
func (s *Store) ReleaseByCDR(node string, ids []string, fail error) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		if err := s.releaseByCDR(ctx, tx, node, ids); err != nil {
			return err
		}
		return fail
	})
}
