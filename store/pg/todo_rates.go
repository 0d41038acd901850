package pg

// Stubs of the rates part, to be replaced by its implementation.

import (
	"context"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

var _ = time.Now
var _ store.FollowPos

func (s *Store) ReplaceRates(name string, rows []rating.Row) error {
	panic("pg: ReplaceRates is not built yet")
}

func (s *Store) MergeRates(name string, rows []rating.Row) (added, replaced int, err error) {
	return
}

func (s *Store) Rates(name, prefix, after string, limit int) (rows []rating.Row, next string, err error) {
	return
}

func (s *Store) EachRate(name string, fn func(*rating.Row) error) error {
	panic("pg: EachRate is not built yet")
}

func (s *Store) ImportRates(name string, parse func(stage func([]rating.Row) error) error) (int, error) {
	panic("pg: ImportRates is not built yet")
}

func (s *Store) DeleteRate(name string, key rating.RateKey) (rating.Row, error) {
	panic("pg: DeleteRate is not built yet")
}

func (s *Store) PutRate(name string, row rating.Row, from *rating.RateKey) (added bool, err error) {
	return
}

func (s *Store) RateTables(k rating.Kind) ([]rating.Table, error) {
	panic("pg: RateTables is not built yet")
}

func (s *Store) RateTable(name string) (rating.Table, error) {
	panic("pg: RateTable is not built yet")
}

func (s *Store) CreateRateTable(t rating.Table) (rating.Table, error) {
	panic("pg: CreateRateTable is not built yet")
}

func (s *Store) UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error) {
	panic("pg: UpdateRateTable is not built yet")
}

func (s *Store) DeleteRateTable(name string) error {
	panic("pg: DeleteRateTable is not built yet")
}

func (s *Store) TableUsers(name string) ([]string, error) {
	panic("pg: TableUsers is not built yet")
}

// rateState is the rate part's shared state (rates.go).
type rateState struct{}

func (s *Store) startRates(ctx context.Context) error { return nil }
func (s *Store) stopRates()                           {}
