package rating

import (
	"math"
	"sort"
	"time"
)

const alwaysUnix = math.MinInt64

// Index is an immutable longest-prefix index over one table's rows. It is
// built once and then only read, so any number of goroutines may use it.
// TODO(index): replace the map with the compact sorted layout.
type Index struct {
	table Table
	m     map[string][]Rate
}

// NewIndex builds the index of table t from rows, in any order.
func NewIndex(t Table, rows []Row) *Index {
	x := &Index{table: t, m: make(map[string][]Rate, len(rows))}
	for i := range rows {
		r := t.resolve(&rows[i])
		x.m[r.Prefix] = append(x.m[r.Prefix], r)
	}
	for _, v := range x.m {
		sort.Slice(v, func(i, j int) bool { return v[i].EffectiveFrom < v[j].EffectiveFrom })
	}
	x.table.Rows = len(rows)
	return x
}

// resolve fills a row's empty fields from the table.
func (t *Table) resolve(row *Row) Rate {
	r := Rate{Table: t.Name, Prefix: row.Prefix, Destination: row.Destination, Rate: row.Rate,
		ConnectFee: row.ConnectFee, InitialRate: row.InitialRate, MinCost: row.MinCost, MaxCost: row.MaxCost,
		InitialIncrement: row.InitialIncrement, Increment: row.Increment, Grace: row.Grace,
		Decimals: t.Decimals, Rounding: t.Rounding, EffectiveFrom: alwaysUnix}
	if !r.ConnectFee.Set() {
		r.ConnectFee = 0
	}
	if !r.InitialRate.Set() {
		r.InitialRate = r.Rate
	}
	if r.InitialIncrement < 0 {
		r.InitialIncrement = t.InitialIncrement
	}
	if r.Increment < 1 {
		r.Increment = t.Increment
	}
	if r.Grace < 0 {
		r.Grace = 0
	}
	if !row.EffectiveFrom.IsZero() {
		r.EffectiveFrom = row.EffectiveFrom.Unix()
	}
	return r
}

// Table returns the settings the index was built with; Rows is its row count.
func (x *Index) Table() Table { return x.table }

// Lookup finds the rate for a normalised number at instant at: the longest
// prefix with a row in force, else "*", else false.
func (x *Index) Lookup(number string, at time.Time) (Rate, bool) {
	t := at.Unix()
	for l := min(len(number), MaxPrefixLen); l >= 1; l-- {
		if r, ok := pick(x.m[number[:l]], t); ok {
			return r, true
		}
	}
	return pick(x.m[Wildcard], t)
}

func pick(vs []Rate, t int64) (Rate, bool) {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].EffectiveFrom <= t {
			return vs[i], true
		}
	}
	return Rate{}, false
}

// Bytes estimates the memory the index holds.
func (x *Index) Bytes() int { return len(x.m) * 200 }
