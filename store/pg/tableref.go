package pg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// checkTableRef refuses an assignment of a table that does not exist or
// is of another kind; "" assigns none. The table's row is locked FOR
// KEY SHARE, so a node deleting it meanwhile waits for this transaction
// and then sees the assignment.
func checkTableRef(ctx context.Context, tx pgx.Tx, field, name string, k rating.Kind) error {
	if name == "" {
		return nil
	}
	var kind int16
	err := tx.QueryRow(ctx, `SELECT kind FROM rate_tables WHERE name = $1 FOR KEY SHARE`, name).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Invalidf(field, "%s %s: no such rate table", field, rating.Excerpt(name))
	}
	if err != nil {
		return err
	}
	if rating.Kind(kind) != k {
		return rating.Invalidf(field, "%s %s: the table is %s, want %s", field, rating.Excerpt(name), rating.Kind(kind), k)
	}
	return nil
}
