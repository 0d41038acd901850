package rating

import (
	"testing"
	"time"
)

func priced(tb testing.TB, cost, buy string, billed int) Pricing {
	p := Pricing{Rated: true, Billed: billed, Cost: mustMoney(tb, cost), ProviderCost: NoMoney, Prefix: "44", Table: "retail"}
	if buy != "" {
		p.ProviderCost = mustMoney(tb, buy)
	}
	return p
}

func unrated(reason string) Pricing {
	p := Unpriced
	p.Reason = reason
	return p
}

// Re-rating, as DOMAIN.md states it.
func TestReprice(t *testing.T) {
	for _, c := range []struct {
		rule      string
		was, now  Pricing
		want      Pricing
		outcome   RerateOutcome
		wantWrite bool
	}{
		{"an unrated CDR that becomes rated posts a charge",
			unrated(UnratedNoRate), priced(t, "0.06", "0.03", 60), priced(t, "0.06", "0.03", 60), RerateRated, true},
		{"a rated CDR whose cost changes posts a correction",
			priced(t, "0.06", "0.03", 60), priced(t, "0.09", "0.03", 60), priced(t, "0.09", "0.03", 60), RerateCorrected, true},
		{"a changed buy cost is a correction too",
			priced(t, "0.06", "0.03", 60), priced(t, "0.06", "0.02", 60), priced(t, "0.06", "0.02", 60), RerateCorrected, true},
		{"a rated CDR whose rate no longer exists keeps its price",
			priced(t, "0.06", "0.03", 60), unrated(UnratedNoRate), priced(t, "0.06", "0.03", 60), RerateUnchanged, false},
		{"… on the provider's side as well",
			priced(t, "0.06", "0.03", 60), priced(t, "0.06", "", 60), priced(t, "0.06", "0.03", 60), RerateUnchanged, false},
		{"… while the sell side is corrected",
			priced(t, "0.06", "0.03", 60), priced(t, "0.07", "", 60), priced(t, "0.07", "0.03", 60), RerateCorrected, true},
		{"running it again changes nothing",
			priced(t, "0.06", "0.03", 60), priced(t, "0.06", "0.03", 60), priced(t, "0.06", "0.03", 60), RerateUnchanged, false},
		{"still unrated for the same reason: nothing to write",
			unrated(UnratedNoRate), unrated(UnratedNoRate), unrated(UnratedNoRate), RerateUnchanged, false},
		{"still unrated for another reason: the reason is kept",
			unrated(UnratedUnknownTenant), unrated(UnratedNoTable), unrated(UnratedNoTable), RerateUnchanged, true},
	} {
		got, outcome, write := Reprice(c.was, c.now)
		if got != c.want || outcome != c.outcome || write != c.wantWrite {
			t.Errorf("%s: %+v, %v, write %v; want %+v, %v, write %v", c.rule, got, outcome, write, c.want, c.outcome, c.wantWrite)
		}
		if again, outcome, write := Reprice(got, c.now); write && c.now.Rated {
			t.Errorf("%s, again: %+v %v: re-rating twice must change nothing", c.rule, again, outcome)
		}
	}
}

// What a CDR writes: its charge on each side, its attempt counted once.
func TestBillCDR(t *testing.T) {
	fresh := BillCDR(Unpriced, priced(t, "0.06", "0.03", 60), 45, true, true)
	if fresh.Kind != Charge || fresh.TenantAmount != mustMoney(t, "-0.06") || fresh.ProviderAmount != mustMoney(t, "-0.03") {
		t.Errorf("a fresh CDR: %+v", fresh)
	}
	for side, u := range map[string]Usage{"tenant": fresh.Tenant, "provider": fresh.Provider} {
		if u.Attempts != 1 || u.Answered != 1 || u.Seconds != 45 || u.Billed != 60 {
			t.Errorf("a fresh CDR's %s roll-up: %+v", side, u)
		}
	}
	if b := BillCDR(Unpriced, priced(t, "0", "", 0), 0, true, false); b.Tenant.Answered != 0 || b.Tenant.Attempts != 1 ||
		b.TenantAmount.Sign() != 0 || b.Provider != (Usage{}) {
		t.Errorf("an unanswered call without a provider: %+v", b)
	}
	corr := BillCDR(priced(t, "0.06", "0.03", 60), priced(t, "0.09", "0.03", 60), 45, false, true)
	if corr.Kind != Correction || corr.TenantAmount != mustMoney(t, "-0.03") || corr.ProviderAmount.Sign() != 0 ||
		corr.Tenant.Attempts != 0 || corr.Tenant.Sell != mustMoney(t, "0.03") {
		t.Errorf("a correction: %+v", corr)
	}
	found := BillCDR(unrated(UnratedUnknownTenant), priced(t, "0.06", "", 60), 45, false, true)
	if found.Kind != Charge || found.Tenant.Attempts != 1 || found.Provider.Attempts != 0 {
		t.Errorf("a tenant found by re-rating counts its attempt once, the provider's is counted: %+v", found)
	}
	lost := BillCDR(Unpriced, unrated(UnratedUnknownTenant), 45, true, true)
	if lost.Tenant != (Usage{}) || lost.TenantAmount.Sign() != 0 || lost.Provider.Attempts != 1 {
		t.Errorf("an unknown tenant's CDR counts on the provider only: %+v", lost)
	}
}

// Every ledger entry keeps the balance within ±MaxMoney.
func TestPost(t *testing.T) {
	if after, ok := Post(mustMoney(t, "10"), mustMoney(t, "-12.5")); !ok || after != mustMoney(t, "-2.5") {
		t.Errorf("10 − 12.5: %s %v", after, ok)
	}
	if _, ok := Post(MaxMoney, mustMoney(t, "0.00000001")); ok {
		t.Error("past MaxMoney was allowed")
	}
	if _, ok := Post(MaxMoney.Neg(), mustMoney(t, "-1")); ok {
		t.Error("past −MaxMoney was allowed")
	}
}

// PriceCDR prices both sides through the one resolution.
func TestPriceCDR(t *testing.T) {
	x := resolveRater(t)
	buy := NewTable("buy", Outbound, "EUR")
	x.Book.Set(NewIndex(buy, []Row{NewRow("44", amt(t, "0.03"))}))
	acme := &Tenant{Name: "acme", OutboundTable: "retail"}
	carrier := &Provider{Name: "carrier", OutboundTable: "buy"}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := x.PriceCDR(acme, carrier, Outbound, "+44 1", at, 61)
	if !p.Rated || p.Billed != 120 || p.Cost != mustMoney(t, "0.12") || p.ProviderCost != mustMoney(t, "0.06") || p.Table != "retail" {
		t.Errorf("priced: %+v", p)
	}
	if p := x.PriceCDR(acme, carrier, Outbound, "49", at, 61); p.Rated || p.Reason != UnratedNoRate || p.ProviderCost.Set() {
		t.Errorf("unrated: an unrated leg charges nothing on either side: %+v", p)
	}
}
