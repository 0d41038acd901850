package store

import (
	"reflect"
	"testing"

	"pbxbill/rating"
)

func TestRateTableCRUD(t *testing.T) {
	s := MustOpen(t)
	in := rating.NewTable("retail", rating.Outbound, "USD")
	in.Rows = 99
	tb := must[rating.Table](t)(s.CreateRateTable(in))
	if tb.Currency != "EUR" || tb.Rows != 0 || tb.Updated.IsZero() {
		t.Errorf("created %+v: want the installation's currency, no rows and a time", tb)
	}
	if x := s.Book().Get("retail"); x == nil || x.Table().Rows != 0 {
		t.Errorf("new table has no empty index in the Book: %v", x)
	}
	_, err := s.CreateRateTable(rating.NewTable("retail", rating.Inbound, ""))
	wantCode(t, err, rating.EConflict, `"retail"`)
	bad := rating.NewTable("bad", rating.Outbound, "")
	bad.Decimals = 9
	_, err = s.CreateRateTable(bad)
	wantCode(t, err, rating.EInvalid, "decimals")

	mustTable(t, s, "did", rating.Inbound)
	mustTable(t, s, "bridge", rating.Conference)
	names := func(ts []rating.Table) (out []string) {
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return out
	}
	if got := names(must[[]rating.Table](t)(s.RateTables(0))); !reflect.DeepEqual(got, []string{"bridge", "did", "retail"}) {
		t.Errorf("all tables %v", got)
	}
	if got := names(must[[]rating.Table](t)(s.RateTables(rating.Inbound))); !reflect.DeepEqual(got, []string{"did"}) {
		t.Errorf("inbound tables %v", got)
	}

	got := must[rating.Table](t)(s.RateTable("retail"))
	if got.Name != "retail" || got.Kind != rating.Outbound || got.Decimals != 4 {
		t.Errorf("read %+v", got)
	}
	_, err = s.RateTable("nope")
	wantCode(t, err, rating.ENotFound, `rate table "nope" not found`)

	up := must[rating.Table](t)(s.UpdateRateTable("retail", func(t *rating.Table) error {
		t.Decimals, t.Rounding, t.Currency, t.Rows = 2, rating.Up, "XXX", 5
		return nil
	}))
	if up.Decimals != 2 || up.Rounding != rating.Up || up.Currency != "EUR" || up.Rows != 0 {
		t.Errorf("updated %+v", up)
	}
	if x := s.Book().Get("retail"); x.Table().Decimals != 2 {
		t.Errorf("index not rebuilt with the new settings: %+v", x.Table())
	}
	_, err = s.UpdateRateTable("retail", func(t *rating.Table) error { t.Increment = 0; return nil })
	wantCode(t, err, rating.EInvalid, "increment")
	_, err = s.UpdateRateTable("nope", func(*rating.Table) error { return nil })
	wantCode(t, err, rating.ENotFound, `"nope"`)
}

func TestRateTableRenameMovesUsers(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "old", rating.Outbound)
	mustTable(t, s, "other", rating.Outbound)
	if err := s.ReplaceRates("old", []rating.Row{rating.NewRow("1", 1)}); err != nil {
		t.Fatal(err)
	}
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "old"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "B", OutboundTable: "other"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "P", OutboundTable: "old"}))

	_, err := s.UpdateRateTable("old", func(t *rating.Table) error { t.Name = "other"; return nil })
	wantCode(t, err, rating.EConflict, `"other"`)
	if tn := must[rating.Tenant](t)(s.Tenant("A")); tn.OutboundTable != "old" {
		t.Fatalf("a refused rename changed tenant A: %+v", tn)
	}

	must[rating.Table](t)(s.UpdateRateTable("old", func(t *rating.Table) error { t.Name = "new"; return nil }))
	if tn := must[rating.Tenant](t)(s.Tenant("A")); tn.OutboundTable != "new" {
		t.Errorf("tenant A still uses %q", tn.OutboundTable)
	}
	if tn := must[rating.Tenant](t)(s.Tenant("B")); tn.OutboundTable != "other" {
		t.Errorf("tenant B now uses %q", tn.OutboundTable)
	}
	if p := must[rating.Provider](t)(s.Provider("P")); p.OutboundTable != "new" {
		t.Errorf("provider P still uses %q", p.OutboundTable)
	}
	if s.Book().Get("old") != nil {
		t.Error("the old name is still in the Book")
	}
	if x := s.Book().Get("new"); x == nil || x.Table().Rows != 1 {
		t.Errorf("the new name's index: %v", x)
	}
	if _, err := s.RateTable("old"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("old name still readable: %v", err)
	}
	rows, _ := must2(t)(s.Rates("new", "", "", 0))
	if len(rows) != 1 {
		t.Errorf("the rows did not follow the rename: %v", rows)
	}
}

func TestRateTableKindChange(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "used", rating.Outbound)
	mustTable(t, s, "free", rating.Outbound)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "used"}))

	_, err := s.UpdateRateTable("used", func(t *rating.Table) error { t.Kind = rating.Inbound; return nil })
	wantCode(t, err, rating.EConflict, `"used"`, "tenant A")
	if tb := must[rating.Table](t)(s.RateTable("used")); tb.Kind != rating.Outbound {
		t.Errorf("refused kind change stored: %v", tb.Kind)
	}
	tb := must[rating.Table](t)(s.UpdateRateTable("free", func(t *rating.Table) error { t.Kind = rating.Inbound; return nil }))
	if tb.Kind != rating.Inbound {
		t.Errorf("kind %v", tb.Kind)
	}
}

func TestDeleteRateTable(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "out", rating.Outbound)
	mustTable(t, s, "in", rating.Inbound)
	if err := s.ReplaceRates("out", []rating.Row{rating.NewRow("1", 1)}); err != nil {
		t.Fatal(err)
	}
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "out"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Z", InboundTable: "in"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "B", OutboundTable: "out"}))

	if got := must[[]string](t)(s.TableUsers("out")); !reflect.DeepEqual(got, []string{"tenant A", "provider B"}) {
		t.Errorf("users %v", got)
	}
	err := s.DeleteRateTable("out")
	wantCode(t, err, rating.EConflict, `rate table "out" is in use by tenant A, provider B`)
	if s.Book().Get("out") == nil {
		t.Error("refused delete dropped the index")
	}

	must[rating.Tenant](t)(s.UpdateTenant("A", func(t *rating.Tenant) error { t.OutboundTable = ""; return nil }))
	must[rating.Provider](t)(s.UpdateProvider("B", func(p *rating.Provider) error { p.OutboundTable = ""; return nil }))
	if err := s.DeleteRateTable("out"); err != nil {
		t.Fatal(err)
	}
	if s.Book().Get("out") != nil {
		t.Error("deleted table still in the Book")
	}
	_, err = s.RateTable("out")
	wantCode(t, err, rating.ENotFound)
	wantCode(t, s.DeleteRateTable("out"), rating.ENotFound, `"out"`)
	_, err = s.TableUsers("out")
	wantCode(t, err, rating.ENotFound)

	// The name can be used again, and the new table starts empty.
	mustTable(t, s, "out", rating.Outbound)
	if rows, _ := must2(t)(s.Rates("out", "", "", 0)); len(rows) != 0 {
		t.Errorf("re-created table has old rows: %v", rows)
	}
}

// must2 unwraps the rows and cursor of Rates.
func must2(tb testing.TB) func([]rating.Row, string, error) ([]rating.Row, string) {
	return func(rows []rating.Row, next string, err error) ([]rating.Row, string) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return rows, next
	}
}
