package rating

import "testing"

// The billing state, DOMAIN.md's rules in order: the first that matches
// wins.
func TestTenantState(t *testing.T) {
	for _, c := range []struct {
		rule                       string
		mode, status               string
		balance, limit, low, avail string
		want                       State
	}{
		{"suspended, whatever the money", Prepaid, Suspended, "100", "0", "1", "100", StateSuspended},
		{"suspended before blocked", Postpaid, Suspended, "-100", "10", "1", "-90", StateSuspended},
		{"prepaid at 0 is blocked", Prepaid, Active, "0", "0", "1", "0", StateBlocked},
		{"prepaid below 0 is blocked", Prepaid, Active, "-0.01", "0", "0", "-0.01", StateBlocked},
		{"a prepaid tenant's limit counts for nothing", Prepaid, Active, "0", "50", "1", "0", StateBlocked},
		{"postpaid: balance + credit limit", Postpaid, Active, "-40", "50", "5", "10", StateOK},
		{"postpaid at its limit is blocked", Postpaid, Active, "-50", "50", "5", "0", StateBlocked},
		{"below the threshold is low", Prepaid, Active, "4.99", "0", "5", "4.99", StateLow},
		{"at the threshold is ok", Prepaid, Active, "5", "0", "5", "5", StateOK},
		{"postpaid low", Postpaid, Active, "-48", "50", "5", "2", StateLow},
		{"blocked before low", Prepaid, Active, "0", "0", "5", "0", StateBlocked},
		{"no threshold: ok down to blocked", Prepaid, Active, "0.00000001", "0", "0", "0.00000001", StateOK},
	} {
		tn := Tenant{Name: "t", BillingMode: c.mode, Status: c.status, Balance: mustMoney(t, c.balance),
			CreditLimit: mustMoney(t, c.limit), LowBalanceThreshold: mustMoney(t, c.low)}
		if got := tn.Available(); got != mustMoney(t, c.avail) {
			t.Errorf("%s: available %s, want %s", c.rule, got, c.avail)
		}
		if got := tn.State(); got != c.want {
			t.Errorf("%s: state %s, want %s", c.rule, got, c.want)
		}
	}
}
