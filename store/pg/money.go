package pg

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"pbxbill/rating"
)

// money moves a rating.Money in and out of a numeric column in
// its exact decimal text: rating.NoMoney is SQL NULL. Pass money(m) as an
// argument and scanMoney(&m) as a scan target.
type moneyArg struct{ m rating.Money }

func money(m rating.Money) moneyArg { return moneyArg{m} }

// TextValue encodes the amount as numeric's text; NoMoney is NULL.
func (m moneyArg) TextValue() (pgtype.Text, error) {
	v := m.m
	if !v.Set() {
		return pgtype.Text{}, nil
	}
	return pgtype.Text{String: v.String(), Valid: true}, nil
}

type moneyDest struct{ m *rating.Money }

func scanMoney(m *rating.Money) moneyDest { return moneyDest{m} }

// ScanText decodes numeric's text; NULL is NoMoney.
func (d moneyDest) ScanText(v pgtype.Text) error {
	if !v.Valid {
		*d.m = rating.NoMoney
		return nil
	}
	m, err := rating.ParseMoney(v.String)
	if err != nil {
		return fmt.Errorf("numeric %s: %w", rating.Excerpt(v.String), err)
	}
	*d.m = m
	return nil
}
