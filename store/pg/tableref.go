package pg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// assignedTable is checkTableRef of the rates part (ratetable.go), under
// another name until that part lands, so that the two never collide: it
// checks that the table a tenant or provider field names exists and is of
// kind k, "" being no assignment, and holds the table's row FOR SHARE
// until tx ends.
func assignedTable(ctx context.Context, tx pgx.Tx, field, name string, k rating.Kind) error {
	if name == "" {
		return nil
	}
	var kind string
	err := tx.QueryRow(ctx, `SELECT kind FROM rate_tables WHERE name = $1 FOR SHARE`, name).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Invalidf(field, "%s %s: no such rate table", field, rating.Excerpt(name))
	}
	if err != nil {
		return err
	}
	if kind != k.String() {
		return rating.Invalidf(field, "%s %s: the table is %s, want %s", field, rating.Excerpt(name), kind, k)
	}
	return nil
}
