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

// amountArg and amountDest do the same for a rating.Amount (rates).
// It is a struct, not a named int64, so that pgx cannot take it for an
// integer of units.
type amountArg struct{ a rating.Amount }

func amount(a rating.Amount) amountArg { return amountArg{a} }

func (a amountArg) TextValue() (pgtype.Text, error) {
	v := a.a
	if !v.Set() {
		return pgtype.Text{}, nil
	}
	return pgtype.Text{String: v.String(), Valid: true}, nil
}

type amountDest struct{ a *rating.Amount }

func scanAmount(a *rating.Amount) amountDest { return amountDest{a} }

func (d amountDest) ScanText(v pgtype.Text) error {
	if !v.Valid {
		*d.a = rating.NoAmount
		return nil
	}
	a, err := rating.ParseAmount(v.String)
	if err != nil {
		return fmt.Errorf("numeric %s: %w", rating.Excerpt(v.String), err)
	}
	*d.a = a
	return nil
}
