package rating

import (
	"testing"
	"time"
)

// resolveRater is one table, "retail", rating 44 at 0.06 a minute on 60/60
// increments and 4420 at 0 (free).
func resolveRater(t *testing.T) *Rater {
	t.Helper()
	book := &Book{}
	tab := NewTable("retail", Outbound, "EUR")
	book.Set(NewIndex(tab, []Row{NewRow("44", amt(t, "0.06")), NewRow("4420", 0)}))
	return &Rater{Book: book, Currency: "EUR"}
}

// TestAuthorizeReasons: DOMAIN.md's order of the reasons, the first that
// applies wins, whatever else is wrong with the call.
func TestAuthorizeReasons(t *testing.T) {
	x := resolveRater(t)
	tenant := func(status, balance string, table string) *Tenant {
		return &Tenant{Name: "acme", BillingMode: Prepaid, Status: status, Balance: mustMoney(t, balance),
			LowBalanceThreshold: mustMoney(t, "1"), OutboundTable: table}
	}
	for _, c := range []struct {
		name    string
		tenant  *Tenant
		number  string
		reason  string
		max     int
		allowed bool
	}{
		{"unknown tenant, bad number", nil, "x", ReasonUnknownTenant, 0, false},
		{"suspended before no table", tenant(Suspended, "5", ""), "44", ReasonSuspended, 0, false},
		{"blocked before an invalid number", tenant(Active, "0", "retail"), "x", ReasonBlocked, 0, false},
		{"no table before an invalid number", tenant(Active, "5", ""), "x", ReasonNoTable, 0, false},
		{"table missing from the book", tenant(Active, "5", "gone"), "44", ReasonNoTable, 0, false},
		{"an empty number is invalid", tenant(Active, "5", "retail"), "", ReasonInvalidNumber, 0, false},
		{"invalid number", tenant(Active, "5", "retail"), "44x", ReasonInvalidNumber, 0, false},
		{"unrated", tenant(Active, "5", "retail"), "49", ReasonUnrated, 0, false},
		{"insufficient credit", tenant(Active, "0.05", "retail"), "44", ReasonInsufficientCredit, 0, false},
		{"low may call", tenant(Active, "0.5", "retail"), "44", ReasonOK, 480, true},
		{"ok, 0.06 a minute", tenant(Active, "5", "retail"), "+44 1", ReasonOK, 4980, true},
		{"free calls get the cap", tenant(Active, "5", "retail"), "4420", ReasonOK, 10800, true},
	} {
		res := x.Resolve(c.tenant, Outbound, c.number, time.Now())
		a := Authorize(c.tenant, &res, DefaultMaxCallDuration, Commitments{}, false)
		if a.Reason != c.reason || a.Allowed != c.allowed || a.MaxDuration != c.max {
			t.Errorf("%s: %+v, want reason %s, allowed %v, max %d", c.name, a, c.reason, c.allowed, c.max)
		}
		if c.tenant == nil && (a.State != "" || a.Available.Set()) {
			t.Errorf("%s: an unknown tenant has no state or credit: %+v", c.name, a)
		}
	}
}

// A CDR is unrated for the resolution's reason, under its CDR name.
func TestResolutionUnratedReason(t *testing.T) {
	x := resolveRater(t)
	acme := &Tenant{Name: "acme", OutboundTable: "retail"}
	for _, c := range []struct {
		tenant *Tenant
		kind   Kind
		number string
		want   string
	}{
		{nil, Outbound, "44", UnratedUnknownTenant},
		{acme, Inbound, "44", UnratedNoTable},
		{acme, Outbound, "", UnratedInvalidNumber},
		{acme, Outbound, "49", UnratedNoRate},
		{acme, Outbound, "441", ""},
	} {
		res := x.Resolve(c.tenant, c.kind, c.number, time.Now())
		if got := res.UnratedReason(); got != c.want {
			t.Errorf("%v %s %q: %q, want %q", c.tenant, c.kind, c.number, got, c.want)
		}
		if (c.want == "") != res.Rated() || (res.Err() == nil) != res.Rated() {
			t.Errorf("%v %s %q: rated %v, err %v", c.tenant, c.kind, c.number, res.Rated(), res.Err())
		}
	}
}

// An unrated call is answered by its reason alone: CDR pricing and
// authorization resolve many such calls, and build no error for them.
func BenchmarkResolveUnrated(b *testing.B) {
	book := &Book{}
	book.Set(NewIndex(NewTable("retail", Outbound, "EUR"), []Row{NewRow("44", 6_000_000)}))
	x := &Rater{Book: book, Currency: "EUR"}
	acme := &Tenant{Name: "acme", OutboundTable: "retail"}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		if res := x.Resolve(acme, Outbound, "4930123456", at); res.Rated() {
			b.Fatal("rated")
		}
	}
}

// A table the Book does not hold is asked of Load once per resolution,
// and a Load that finds none leaves the reason no_table.
func TestRaterLoad(t *testing.T) {
	tab := NewTable("late", Outbound, "EUR")
	asked := 0
	x := &Rater{Book: &Book{}, Currency: "EUR", Load: func(name string) *Index {
		asked++
		if name != "late" {
			return nil
		}
		return NewIndex(tab, []Row{NewRow("44", amt(t, "0.06"))})
	}}
	if r := x.ResolveIn("late", "4420", time.Now()); r.Reason != "" || r.Rate.Rate != amt(t, "0.06") || asked != 1 {
		t.Fatalf("through Load: %+v after %d asks", r, asked)
	}
	if r := x.ResolveIn("gone", "4420", time.Now()); r.Reason != ReasonNoTable || asked != 2 {
		t.Fatalf("a table Load does not find: %+v after %d asks", r, asked)
	}
}
