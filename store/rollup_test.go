package store

import (
	"fmt"
	"testing"

	"pbxbill/rating"
)

// The Tenants Dashboard carries each tenant's spend of the 30 days to
// today, as DailyUsage gives it, and its outbound table: what the admin's
// page draws, from the same one read.
func TestTenantDashboardSpend(t *testing.T) {
	s := books(t)
	var cdrs []rating.CDR
	for i, ago := range []int{0, 1, 29, 30} {
		c := cdr(fmt.Sprint("spend-", i), "Acme", rating.Outbound, "4412", "", 60+i)
		c.Start = day.AddDate(0, 0, -ago)
		cdrs = append(cdrs, c)
	}
	if _, err := s.PostCDRs("", cdrs); err != nil {
		t.Fatal(err)
	}
	tf, err := s.TenantDashboard()
	if err != nil {
		t.Fatal(err)
	}
	f := tf[0]
	if f.OutboundTable != "Sell Out" || len(f.Spend) != rating.SparkDays {
		t.Fatalf("figures %+v", f)
	}
	today := rating.StartOfDay(day, s.Location())
	days, err := s.DailyUsage(rating.TenantAccount, "Acme", today.AddDate(0, 0, 1-rating.SparkDays), today)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range days {
		if f.Spend[i] != d.Usage.Sell {
			t.Errorf("spend of %s: %s, DailyUsage %s", d.Day.Format("2006-01-02"), f.Spend[i], d.Usage.Sell)
		}
	}
	// 60 s, 61 s and 62 s at 0.06 a minute, per second; the CDR of 30 days
	// ago falls outside.
	if f.Spend[29] != mustMoney(t, "0.06") || f.Spend[28] != mustMoney(t, "0.061") || f.Spend[0] != mustMoney(t, "0.062") {
		t.Errorf("spend %v", f.Spend)
	}
}
