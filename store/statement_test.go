package store

import (
	"math/rand/v2"
	"testing"
	"time"

	"pbxbill/rating"
)

// checkStatement checks a statement's own arithmetic: each section's
// total is the sum of its entries, and opening + entries = closing.
func checkStatement(t *testing.T, st rating.Statement) {
	t.Helper()
	sum := st.Opening
	for _, sec := range st.Sections {
		var total rating.Money
		for _, e := range sec.Entries {
			if rating.StatementSectionOf(e.Kind) != sec.Kind {
				t.Errorf("%s: entry of kind %s in section %s", st.Month, e.Kind, sec.Kind)
			}
			if e.Time.Before(st.From) || !e.Time.Before(st.To) {
				t.Errorf("%s: entry %d at %s outside the month", st.Month, e.ID, e.Time)
			}
			total = total.Add(e.Amount)
		}
		if total != sec.Total {
			t.Errorf("%s: section %s totals %s, its entries %s", st.Month, sec.Kind, sec.Total, total)
		}
		sum = sum.Add(total)
	}
	if sum != st.Closing {
		t.Errorf("%s: opening %s + entries = %s, closing %s", st.Month, st.Opening, sum, st.Closing)
	}
}

// On random ledgers: each month's statement adds up, opens where the
// month before closed, and closes on the balance after the month's last
// entry; the last closes on the tenant's balance.
func TestStatementRandomLedgers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for round := range 5 {
		s, clock := scheduleStore(t, []string{"UTC", "Europe/Berlin", "America/Santiago"}[round%3],
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		lastBalance := map[rating.Month]rating.Money{}
		for range 40 + rng.IntN(60) {
			clock.Add(time.Duration(rng.IntN(5*24*3600)) * time.Second)
			amount := rating.MoneyOf(int64(rng.IntN(20000)-8000) * 1e6)
			var e rating.Entry
			var err error
			if amount.Sign() > 0 && rng.IntN(2) == 0 {
				e, err = s.Credit(rating.TenantAccount, "Acme", amount, rating.Topup, "")
			} else if amount.Sign() != 0 {
				e, err = s.Credit(rating.TenantAccount, "Acme", amount, rating.Adjustment, "random")
			} else {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			lastBalance[rating.MonthOf(e.Time, s.Location())] = e.Balance
		}
		prev := rating.Money{}
		end := rating.MonthOf(clock.Now(), s.Location()).Next()
		for m := (rating.Month{Year: 2025, Month: time.December}); m != end; m = m.Next() {
			st, err := s.Statement("Acme", m)
			if err != nil {
				t.Fatal(err)
			}
			checkStatement(t, st)
			if st.Opening != prev {
				t.Errorf("%s opens at %s, the month before closed at %s", m, st.Opening, prev)
			}
			if b, ok := lastBalance[m]; ok && st.Closing != b {
				t.Errorf("%s closes at %s, the ledger at %s", m, st.Closing, b)
			}
			prev = st.Closing
		}
		if b := balance(t, s, rating.TenantAccount, "Acme"); prev != b {
			t.Errorf("the last statement closes at %s, the balance is %s", prev, b)
		}
	}
}

// A month with no entries opens and closes on the balance before it; a
// tenant with no ledger at all has a statement of zeros.
func TestStatementEmptyMonth(t *testing.T) {
	s, clock := scheduleStore(t, "UTC", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))
	st := must[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2026, Month: time.January}))
	if st.Opening.Sign() != 0 || st.Closing.Sign() != 0 || len(st.Sections) != 5 || len(st.Sections[0].Entries) != 0 {
		t.Errorf("no ledger: %+v", st)
	}
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(12*unit), rating.Topup, "card"))
	clock.t = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(3*unit), rating.Topup, "card"))
	feb := must[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2026, Month: time.February}))
	checkStatement(t, feb)
	if feb.Opening != rating.MoneyOf(12*unit) || feb.Closing != rating.MoneyOf(12*unit) {
		t.Errorf("February: opening %s closing %s, want 12 and 12", feb.Opening, feb.Closing)
	}
	mar := must[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2026, Month: time.March}))
	if mar.Opening != rating.MoneyOf(12*unit) || mar.Closing != rating.MoneyOf(15*unit) || mar.Sections[3].Total != rating.MoneyOf(3*unit) {
		t.Errorf("March: %+v", mar)
	}
	_, err := s.Statement("nobody", rating.Month{Year: 2026, Month: time.March})
	wantCode(t, err, rating.ENotFound)
}

// A call charged in March and corrected by a re-rate in April: March shows
// the call, April the correction, under the same destination, with the
// call counted once.
func TestStatementCorrectionOfMonthBefore(t *testing.T) {
	s := books(t)
	clock := &testClock{t: time.Date(2025, 3, 31, 20, 0, 0, 0, time.UTC)}
	s.now = clock.Now
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "447911123456", "carrier-a", 90)}); err != nil {
		t.Fatal(err)
	}
	clock.t = time.Date(2025, 4, 2, 8, 0, 0, 0, time.UTC)
	if err := s.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("447", amt(t, "0.2"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rerate(rating.CDRFilter{}); err != nil {
		t.Fatal(err)
	}
	mar := must[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2025, Month: time.March}))
	apr := must[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2025, Month: time.April}))
	checkStatement(t, mar)
	checkStatement(t, apr)
	if len(mar.Calls) != 1 || mar.Calls[0] != (rating.StatementCalls{Kind: "outbound", Destination: "447", Count: 1,
		BilledMinutes: 90, Cost: mustMoney(t, "0.18")}) {
		t.Errorf("March calls %+v", mar.Calls)
	}
	if len(apr.Calls) != 1 || apr.Calls[0] != (rating.StatementCalls{Kind: "outbound", Destination: "447", Count: 0,
		BilledMinutes: 0, Cost: mustMoney(t, "0.12")}) {
		t.Errorf("April calls %+v", apr.Calls)
	}
	if apr.Opening != mustMoney(t, "-0.18") || apr.Closing != mustMoney(t, "-0.3") || apr.Sections[0].Entries[0].Kind != rating.Correction {
		t.Errorf("April: opening %s closing %s, %+v", apr.Opening, apr.Closing, apr.Sections[0])
	}
}
