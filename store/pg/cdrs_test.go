package pg_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// cdrDay is the clock's day in the CDR tests.
var cdrDay = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// cdrStore opens a store on url whose clock is now.
func cdrStore(t testing.TB, url string, now func() time.Time) *pg.Store {
	t.Helper()
	s, err := pg.Open(url, store.Options{TZ: "UTC", Currency: "EUR", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cdrBooks opens a store on a new database with the contract's books:
// Acme (accountcode acme, postpaid, limit 100) sells 44 at 0.06 and 447
// at 0.12 a minute, Carrier (trunk carrier-a) buys 44 at 0.03 and 447 at
// 0.06, on 1/1 increments.
func cdrBooks(t testing.TB, now func() time.Time) (*pg.Store, string) {
	t.Helper()
	url := pgtest.URL(t)
	s := cdrStore(t, url, now)
	for _, tb := range []struct {
		name  string
		pairs []string
	}{{"Sell Out", []string{"44", "0.06", "447", "0.12"}}, {"Buy Out", []string{"44", "0.03", "447", "0.06"}}} {
		table := rating.NewTable(tb.name, rating.Outbound, "")
		table.InitialIncrement, table.Increment = 1, 1
		if _, err := s.CreateRateTable(table); err != nil {
			t.Fatal(err)
		}
		setRates(t, s, tb.name, tb.pairs...)
	}
	limit, _ := rating.ParseMoney("100")
	if _, err := s.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "acme", BillingMode: rating.Postpaid,
		Status: rating.Active, CreditLimit: limit, OutboundTable: "Sell Out"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier-a", Status: rating.Active,
		OutboundTable: "Buy Out"}); err != nil {
		t.Fatal(err)
	}
	return s, url
}

// setRates replaces a table's rows with prefix, rate pairs.
func setRates(t testing.TB, s *pg.Store, name string, pairs ...string) {
	t.Helper()
	var rows []rating.Row
	for i := 0; i < len(pairs); i += 2 {
		a, err := rating.ParseAmount(pairs[i+1])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rating.NewRow(pairs[i], a))
	}
	if err := s.ReplaceRates(name, rows); err != nil {
		t.Fatal(err)
	}
}

func sql(t testing.TB, url, q string, args ...any) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// queryMoney reads one amount with SQL.
func queryMoney(t testing.TB, url, q string, args ...any) string {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var s string
	if err := c.QueryRow(context.Background(), `SELECT (`+q+`)::numeric::text`, args...).Scan(&s); err != nil {
		t.Fatal(err)
	}
	m, err := rating.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m.String()
}

func call(id, number string, d int) rating.CDR {
	return rating.CDR{ID: id, Tenant: "acme", Number: number, Provider: "carrier-a", Start: cdrDay, Duration: d}
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustCheck(t testing.TB, s *pg.Store) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A batch is priced, charged and rolled up in one transaction; a repeat
// of an id, in the batch or later, is a duplicate that charges nothing.
func TestPostCDRs(t *testing.T) {
	s, url := cdrBooks(t, fixed(cdrDay))
	stranger := call("c4", "4420", 60)
	stranger.Tenant = "nobody"
	p, err := s.PostCDRs("pbx1", []rating.CDR{call("c1", "4420", 60), call("c2", "4471", 30), call("c1", "4420", 600),
		call("c3", "99", 60), stranger})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rated != 2 || p.Duplicate != 1 || p.Unrated != 2 {
		t.Fatalf("posted: %+v", p)
	}
	r := p.Results
	if r[0].Status != rating.Rated || r[0].Cost.String() != "0.06" || r[0].ProviderCost.String() != "0.03" ||
		r[0].Tenant != "Acme" || r[0].Provider != "Carrier" || r[0].Node != "pbx1" || r[0].Kind != rating.Outbound ||
		r[0].Prefix != "44" || r[0].RateTable != "Sell Out" || r[0].Billed != 60 || !r[0].Received.Equal(cdrDay) {
		t.Errorf("first result: %+v", r[0])
	}
	if r[2].Status != rating.Duplicate || r[2].Cost.Set() || r[2].Duration != 600 {
		t.Errorf("repeat in the batch: %+v", r[2])
	}
	if r[3].Reason != rating.UnratedNoRate || r[4].Reason != rating.UnratedUnknownTenant || r[4].Tenant != "nobody" {
		t.Errorf("unrated: %+v %+v", r[3], r[4])
	}
	again, err := s.PostCDRs("pbx1", []rating.CDR{call("c2", "4420", 999), call("c5", "4420", 0)})
	if err != nil || again.Duplicate != 1 || again.Rated != 1 || again.Results[1].Cost.String() != "0" {
		t.Fatalf("again: %+v %v", again, err)
	}
	// 0.06 + 0.06 (30 s at 0.12) on the tenant; 0.03 + 0.03 on the carrier.
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-0.12" {
		t.Errorf("tenant balance %s, want -0.12", got)
	}
	if got := queryMoney(t, url, `SELECT balance FROM providers`); got != "-0.06" {
		t.Errorf("provider balance %s, want -0.06", got)
	}
	if got := queryMoney(t, url, `SELECT count(*) FROM ledger`); got != "4" {
		t.Errorf("%s ledger entries, want 4", got)
	}
	c, err := s.CDR("pbx1", "c2")
	if err != nil || c.Cost.String() != "0.06" || c.Duration != 30 || c.Tenant != "Acme" || !c.Start.Equal(cdrDay) || c.Start.Location() != time.UTC {
		t.Errorf("CDR c2: %+v %v", c, err)
	}
	if _, err := s.CDR("pbx2", "c2"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("CDR of another node: %v", err)
	}
	tot, err := s.CDRTotals(rating.CDRFilter{})
	if err != nil || tot.Count != 5 || tot.Seconds != 210 || tot.Cost.String() != "0.12" || tot.ProviderCost.String() != "0.06" {
		t.Errorf("totals: %+v %v", tot, err)
	}
	mustCheck(t, s)
}

// A malformed CDR or an unknown provider refuses the whole batch; a
// duplicate naming an unknown provider is still only a duplicate.
func TestPostCDRsRefused(t *testing.T) {
	s, url := cdrBooks(t, fixed(cdrDay))
	unknown := call("u", "4420", 60)
	unknown.Provider = "nobody"
	late := call("late", "4420", 60)
	late.Start = rating.MaxStart()
	for _, batch := range [][]rating.CDR{{call("ok", "4420", 60), unknown}, {call("ok", "4420", 60), late},
		{call("ok", "4420", 60), call("", "4420", 1)}} {
		if _, err := s.PostCDRs("", batch); rating.ErrorCode(err) != rating.EInvalid {
			t.Errorf("batch %v: %v", batch, err)
		}
	}
	if got := queryMoney(t, url, `SELECT count(*) FROM cdrs`); got != "0" {
		t.Fatalf("refused batches stored %s CDRs", got)
	}
	if _, err := s.PostCDRs("", []rating.CDR{call("u", "4420", 60)}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.PostCDRs("", []rating.CDR{unknown}); err != nil || p.Duplicate != 1 {
		t.Errorf("duplicate with an unknown provider: %+v %v", p, err)
	}
	mustCheck(t, s)
}

// Two nodes on one database posting the same CDRs at once, in batches
// that overlap, store and charge each once.
func TestPostCDRsTwoNodes(t *testing.T) {
	a, url := cdrBooks(t, fixed(cdrDay))
	b := cdrStore(t, url, fixed(cdrDay))
	const n = 600
	var wg sync.WaitGroup
	var mu sync.Mutex
	rated, dups := 0, 0
	for w := 0; w < 6; w++ {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each worker posts every CDR, in batches of 50 that start
			// at its own offset.
			for i := 0; i < n; i += 50 {
				var batch []rating.CDR
				for j := i; j < i+50; j++ {
					k := (j + w*100) % n
					batch = append(batch, call(fmt.Sprint("c", k), "4420", 60))
				}
				p, err := s.PostCDRs("pbx", batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				rated, dups = rated+p.Rated, dups+p.Duplicate
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if rated != n || dups != 5*n {
		t.Errorf("%d rated and %d duplicates, want %d and %d", rated, dups, n, 5*n)
	}
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-36" {
		t.Errorf("balance %s, want -36: each call charged once", got)
	}
	mustCheck(t, a)
}

// Re-rating prices what was unrated, corrects what changed, in chunks,
// and changes nothing when run again.
func TestRerate(t *testing.T) {
	s, url := cdrBooks(t, fixed(cdrDay))
	var batch []rating.CDR
	for i := 0; i < 2500; i++ {
		number := "4420"
		if i%2 == 1 {
			number = "33"
		}
		batch = append(batch, call(fmt.Sprint("c", i), number, 60))
	}
	for i := 0; i < len(batch); i += 1000 {
		if _, err := s.PostCDRs("", batch[i:min(i+1000, len(batch))]); err != nil {
			t.Fatal(err)
		}
	}
	// The export walks every page of them, newest start first.
	seen, last := map[string]bool{}, rating.CDR{Start: rating.MaxStart()}
	if err := s.EachCDR(rating.CDRFilter{}, func(c *rating.CDR) error {
		if seen[c.ID] || c.Start.After(last.Start) || c.Tenant != "Acme" {
			t.Fatalf("export: %+v after %+v", c, last)
		}
		seen[c.ID], last = true, *c
		return nil
	}); err != nil || len(seen) != 2500 {
		t.Fatalf("export: %d CDRs, %v", len(seen), err)
	}
	setRates(t, s, "Sell Out", "33", "0.02", "44", "0.05")
	all := rating.CDRFilter{From: cdrDay.Add(-time.Hour), To: cdrDay.Add(time.Hour)}
	r, err := s.Rerate(all)
	if err != nil || r.Rated != 1250 || r.Corrected != 1250 || r.Unchanged != 0 {
		t.Fatalf("re-rate: %+v %v", r, err)
	}
	// 1250 × 0.05 + 1250 × 0.02
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-87.5" {
		t.Errorf("balance %s, want -87.5", got)
	}
	r, err = s.Rerate(all)
	if err != nil || r.Rated != 0 || r.Corrected != 0 || r.Unchanged != 2500 {
		t.Errorf("again: %+v %v", r, err)
	}
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-87.5" {
		t.Errorf("balance %s after re-rating again", got)
	}
	mustCheck(t, s)
	// Two nodes re-rating the same CDRs at once correct each once.
	other := cdrStore(t, url, fixed(cdrDay))
	setRates(t, s, "Sell Out", "33", "0.03", "44", "0.04")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // the other node follows
		if r, ok := other.Book().Get("Sell Out").Lookup("4420", cdrDay); ok && r.Rate.String() == "0.04" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other node's index did not follow the new rates")
		}
	}
	var wg sync.WaitGroup
	results := make([]rating.Rerated, 4)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := []*pg.Store{s, other}[i%2]
			var err error
			if results[i], err = n.Rerate(all); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	corrected := 0
	for _, r := range results {
		corrected += r.Corrected
	}
	// 1250 × 0.04 + 1250 × 0.03
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-87.5" || corrected != 2500 {
		t.Errorf("balance %s after concurrent re-rates correcting %d, want -87.5 and 2500", got, corrected)
	}
	mustCheck(t, s)
	// A tenant created after its CDRs: re-rating finds it.
	stranger := call("s1", "4420", 60)
	stranger.Tenant = "late"
	if _, err := s.PostCDRs("", []rating.CDR{stranger}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(rating.Tenant{Name: "Late", AccountCode: "late", BillingMode: rating.Prepaid,
		Status: rating.Active, OutboundTable: "Sell Out"}); err != nil {
		t.Fatal(err)
	}
	r, err = s.Rerate(rating.CDRFilter{Status: rating.Unrated})
	if err != nil || r.Rated != 1 {
		t.Errorf("re-rate the unknown tenant: %+v %v", r, err)
	}
	if got := queryMoney(t, url, `SELECT balance FROM tenants WHERE name = 'Late'`); got != "-0.04" {
		t.Errorf("late tenant's balance %s", got)
	}
	mustCheck(t, s)
	sql(t, url, `UPDATE tenants SET balance = balance + 1 WHERE name = 'Late'`)
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), `tenant "Late": balance 0.96, ledger sum -0.04`) {
		t.Errorf("check of a changed balance: %v", err)
	}
}

// The follow mode stores its position with its CDRs, and its rejected
// lines with the position past them.
func TestFollow(t *testing.T) {
	s, _ := cdrBooks(t, fixed(cdrDay))
	if pos, err := s.FollowPos("/var/log/cdr.csv"); err != nil || pos != (store.FollowPos{Path: "/var/log/cdr.csv"}) {
		t.Fatalf("no position: %+v %v", pos, err)
	}
	pos := store.FollowPos{Path: "/var/log/cdr.csv", Inode: 1<<64 - 1, Offset: 120, Line: 2, Head: 1 << 63, HeadLen: 40}
	if _, err := s.PostFollowed("", []rating.CDR{call("f1", "4420", 60)}, pos); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FollowPos(pos.Path); err != nil || got != pos {
		t.Errorf("position %+v %v, want %+v", got, err, pos)
	}
	bad := call("f2", "4420", 60)
	bad.Provider = "nobody"
	next := pos
	next.Offset, next.Line = 180, 3
	if _, err := s.PostFollowed("", []rating.CDR{bad}, next); err == nil {
		t.Fatal("an unknown provider was accepted")
	}
	if got, _ := s.FollowPos(pos.Path); got != pos {
		t.Errorf("a refused batch moved the position to %+v", got)
	}
	if err := s.RejectFollowed(rating.RejectedLine{Path: pos.Path, Line: 3, Text: strings.Repeat("x", 2000), Error: "no provider"}, next); err != nil {
		t.Fatal(err)
	}
	lines, err := s.RejectedLines(0)
	if err != nil || len(lines) != 1 || len(lines[0].Text) != rating.MaxRejectedText || lines[0].Line != 3 || !lines[0].At.Equal(cdrDay) {
		t.Errorf("rejected: %+v %v", lines, err)
	}
	if got, _ := s.FollowPos(pos.Path); got != next {
		t.Errorf("position after the rejected line %+v", got)
	}
	byTrunk, err := s.ProviderByTrunk()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := byTrunk("carrier-a"); !ok || p != "Carrier" {
		t.Errorf("trunk: %q %v", p, ok)
	}
	if _, ok := byTrunk("nobody"); ok {
		t.Error("an unknown trunk matched")
	}
}

// The dashboards read the roll-ups.
func TestCDRDashboards(t *testing.T) {
	s, _ := cdrBooks(t, fixed(cdrDay.Add(3*time.Hour)))
	yesterday := call("y", "4420", 60)
	yesterday.Start = cdrDay.AddDate(0, 0, -1)
	if _, err := s.PostCDRs("", []rating.CDR{call("c1", "4420", 120), call("c2", "4471", 30), call("c3", "4420", 0), yesterday}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.TenantDashboard()
	if err != nil || len(ts) != 1 {
		t.Fatalf("tenants: %+v %v", ts, err)
	}
	f := ts[0]
	// Today 0.18; the month is today only (yesterday was February);
	// the week before today is 0.06, a seventh of it a day.
	if f.SpendToday.String() != "0.18" || f.CallsToday != 3 || f.SpendMonth.String() != "0.18" ||
		f.AvgDailySpend.String() != "0.00857143" || len(f.Spend) != rating.SparkDays ||
		f.Spend[rating.SparkDays-1].String() != "0.18" || f.Spend[rating.SparkDays-2].String() != "0.06" {
		t.Errorf("tenant figures: %+v", f)
	}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ps, total, err := s.ProviderDashboard(day, day)
	if err != nil || len(ps) != 1 {
		t.Fatalf("providers: %+v %v", ps, err)
	}
	if p := ps[0]; p.Attempts != 3 || p.Answered != 2 || p.Cost.String() != "0.09" || p.Revenue.String() != "0.18" || total.Revenue != p.Revenue {
		t.Errorf("provider figures: %+v, totals %+v", p, total)
	}
	days, err := s.DailyUsage(rating.TenantAccount, "Acme", day.AddDate(0, 0, -2), day)
	if err != nil || len(days) != 3 || days[0].Usage.Attempts != 0 || days[1].Usage.Sell.String() != "0.06" || days[2].Usage.Attempts != 3 {
		t.Errorf("daily usage: %+v %v", days, err)
	}
	if _, err := s.DailyUsage("x", "Acme", day, day); rating.ErrorCode(err) != rating.EInvalid {
		t.Errorf("account type x: %v", err)
	}
	if _, err := s.DailyUsage(rating.ProviderAccount, "Nobody", day, day); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("unknown provider: %v", err)
	}
	mustCheck(t, s)
}

// A batch that takes a tenant past its daily spend limit queues one
// event, in its transaction; the next batch of the day queues none.
func TestCDRAlerts(t *testing.T) {
	s, url := cdrBooks(t, fixed(cdrDay))
	if _, err := s.UpdateTenant("Acme", func(t *rating.Tenant) error {
		t.DailySpendLimit, _ = rating.ParseMoney("0.1")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, batch := range [][]rating.CDR{{call("c1", "4420", 60)}, {call("c2", "4420", 60), call("c3", "4420", 60)}, {call("c4", "4420", 60)}} {
		if _, err := s.PostCDRs("", batch); err != nil {
			t.Fatal(err)
		}
		want := "0"
		if i > 0 {
			want = "1"
		}
		if got := queryMoney(t, url, `SELECT count(*) FROM outbox WHERE type = $1`, rating.EventSpendLimit); got != want {
			t.Errorf("after batch %d: %s spend-limit events, want %s", i, got, want)
		}
	}
	if got := queryMoney(t, url, `SELECT (data->>'spend')::numeric FROM outbox WHERE type = $1`, rating.EventSpendLimit); got != "0.18" {
		t.Errorf("the event's spend %s, want 0.18", got)
	}
}

// Single posts from many channels commit in groups: each is answered as
// if alone, a bad one fails alone, and a repeat is a duplicate, on one
// node or two.
func TestPostCDRSingles(t *testing.T) {
	a, url := cdrBooks(t, fixed(cdrDay))
	b := cdrStore(t, url, fixed(cdrDay))
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[string]int{}
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := []*pg.Store{a, b}[i%2]
			c := call(fmt.Sprint("c", i%300), "4420", 60) // 100 posted twice
			if i%50 == 7 {
				c = call(fmt.Sprint("bad", i), "4420", 60)
				c.Provider = "nobody"
			}
			p, err := s.PostCDRs("pbx", []rating.CDR{c})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && rating.ErrorCode(err) == rating.EInvalid && c.Provider == "nobody":
				count["refused"]++
			case err != nil:
				t.Error(err)
			default:
				count[p.Results[0].Status]++
				if p.Results[0].Status == rating.Rated && (p.Results[0].Cost.String() != "0.06" || p.Results[0].Tenant != "Acme") {
					t.Errorf("result %+v", p.Results[0])
				}
			}
		}(i)
	}
	wg.Wait()
	// 8 bad posts take the places of 6 ids (i = 7, 57, …, 357: c7 and
	// c57 twice); of the 392 others, 294 ids, the rest repeats.
	if count["refused"] != 8 || count[rating.Rated] != 294 || count[rating.Duplicate] != 98 {
		t.Errorf("outcomes %v", count)
	}
	if got := queryMoney(t, url, `SELECT balance FROM tenants`); got != "-17.64" {
		t.Errorf("balance %s, want -17.64", got)
	}
	mustCheck(t, a)
}
