package rating

import "testing"

func TestTenantFigures(t *testing.T) {
	tn := Tenant{Name: "Acme", BillingMode: Postpaid, Balance: mustMoney(t, "-120"), CreditLimit: mustMoney(t, "400"),
		LowBalanceThreshold: mustMoney(t, "50"), Status: Active}
	f := NewTenantFigures(&tn, Usage{Attempts: 12, Sell: mustMoney(t, "3.5")}, Usage{Sell: mustMoney(t, "60")}, mustMoney(t, "70"))
	if f.Available != mustMoney(t, "280") || f.State != StateOK || f.Exposure != mustMoney(t, "120") {
		t.Errorf("available %s state %s exposure %s", f.Available, f.State, f.Exposure)
	}
	if f.Utilisation == nil || *f.Utilisation != "0.3000" {
		t.Errorf("utilisation %v", f.Utilisation)
	}
	if f.AvgDailySpend != mustMoney(t, "10") || f.RunwayDays == nil || *f.RunwayDays != "28.0" {
		t.Errorf("avg %s runway %v", f.AvgDailySpend, f.RunwayDays)
	}
	if f.SpendToday != mustMoney(t, "3.5") || f.SpendMonth != mustMoney(t, "60") || f.CallsToday != 12 {
		t.Errorf("spend %s %s calls %d", f.SpendToday, f.SpendMonth, f.CallsToday)
	}

	pre := Tenant{Name: "Pre", BillingMode: Prepaid, Balance: mustMoney(t, "-1"), CreditLimit: mustMoney(t, "100"), Status: Active}
	f = NewTenantFigures(&pre, Usage{}, Usage{}, mustMoney(t, "7"))
	if f.State != StateBlocked || f.RunwayDays == nil || *f.RunwayDays != "0.0" || f.Available != mustMoney(t, "-1") {
		t.Errorf("blocked prepaid: %+v", f)
	}
	f = NewTenantFigures(&pre, Usage{}, Usage{}, Money{})
	if f.RunwayDays != nil {
		t.Errorf("runway without spend: %v", *f.RunwayDays)
	}
	// Runway is rounded down: 10 / (10/7 per day) = 7 days exactly, 9.99 gives 6.9.
	pre.Balance = mustMoney(t, "9.99")
	if f = NewTenantFigures(&pre, Usage{}, Usage{}, mustMoney(t, "10")); *f.RunwayDays != "6.9" {
		t.Errorf("runway %s", *f.RunwayDays)
	}
}

func TestProviderFigures(t *testing.T) {
	u := Usage{Attempts: 8, Answered: 6, Seconds: 754, Sell: mustMoney(t, "2.40"), Buy: mustMoney(t, "1.80")}
	f := NewProviderFigures("Carrier", mustMoney(t, "100"), u)
	if *f.ASR != "0.7500" || *f.ACDSeconds != "126" || f.ACD != "2:06" || f.Minutes != "12.57" {
		t.Errorf("asr %s acd %s %s minutes %s", *f.ASR, *f.ACDSeconds, f.ACD, f.Minutes)
	}
	if f.Margin != mustMoney(t, "0.60") || *f.MarginPct != "25.00" {
		t.Errorf("margin %s %s", f.Margin, *f.MarginPct)
	}
	z := NewProviderFigures("Idle", Money{}, Usage{})
	if z.ASR != nil || z.ACDSeconds != nil || z.MarginPct != nil || z.Minutes != "0.00" {
		t.Errorf("idle provider %+v", z)
	}
}
