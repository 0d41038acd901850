package store

import (
	"reflect"
	"testing"

	"pbxbill/rating"
)

func TestTenantCRUD(t *testing.T) {
	s := MustOpen(t)
	tn := must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", Balance: rating.MoneyOf(500), CreditLimit: rating.MoneyOf(10)}))
	if tn.AccountCode != "Acme" || tn.Balance.Sign() != 0 || tn.BillingMode != rating.Prepaid ||
		tn.Status != rating.Active || tn.Created.IsZero() {
		t.Errorf("created %+v", tn)
	}
	if got := must[rating.Tenant](t)(s.Tenant("Acme")); !reflect.DeepEqual(got, tn) {
		t.Errorf("read back %+v, created %+v", got, tn)
	}
	_, err := s.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "other"})
	wantCode(t, err, rating.EConflict, `tenant "Acme" already exists`)
	_, err = s.CreateTenant(rating.Tenant{Name: "Beta", AccountCode: "Acme"})
	wantCode(t, err, rating.EConflict, `accountcode "Acme"`, `"Acme"`)
	_, err = s.CreateTenant(rating.Tenant{Name: "Bad", BillingMode: "free"})
	wantCode(t, err, rating.EInvalid, "billing_mode")
	_, err = s.CreateTenant(rating.Tenant{Name: ""})
	wantCode(t, err, rating.EInvalid, "name")

	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Beta", AccountCode: "1002"}))
	var names []string
	for _, x := range must[[]rating.Tenant](t)(s.Tenants()) {
		names = append(names, x.Name)
	}
	if !reflect.DeepEqual(names, []string{"Acme", "Beta"}) {
		t.Errorf("tenants %v", names)
	}
	if got := must[rating.Tenant](t)(s.TenantByAccountCode("1002")); got.Name != "Beta" {
		t.Errorf("by accountcode: %s", got.Name)
	}
	if got := must[rating.Tenant](t)(s.TenantByAccountCode("Beta")); got.Name != "Beta" {
		t.Errorf("by name fallback: %s", got.Name)
	}
	_, err = s.TenantByAccountCode("9999")
	wantCode(t, err, rating.ENotFound, "9999")
	_, err = s.Tenant("Nobody")
	wantCode(t, err, rating.ENotFound, `tenant "Nobody" not found`)
}

func TestTenantTables(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "out", rating.Outbound)
	mustTable(t, s, "in", rating.Inbound)
	mustTable(t, s, "conf", rating.Conference)
	_, err := s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "X"})
	wantCode(t, err, rating.EInvalid, `outbound_rate_table "X": no such rate table`)
	_, err = s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "in"})
	wantCode(t, err, rating.EInvalid, `outbound_rate_table "in"`, "inbound")
	_, err = s.CreateTenant(rating.Tenant{Name: "A", ConferenceTable: "out"})
	wantCode(t, err, rating.EInvalid, `conference_rate_table "out"`, "outbound")
	tn := must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A", OutboundTable: "out",
		InboundTable: "in", ConferenceTable: "conf"}))
	if tn.TableFor(rating.Conference) != "conf" {
		t.Errorf("created %+v", tn)
	}
	_, err = s.UpdateTenant("A", func(t *rating.Tenant) error { t.InboundTable = "conf"; return nil })
	wantCode(t, err, rating.EInvalid, `inbound_rate_table "conf"`, "conference")
}

func TestUpdateTenant(t *testing.T) {
	s := MustOpen(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Beta", AccountCode: "2000"}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(700), rating.Topup, ""))

	up := must[rating.Tenant](t)(s.UpdateTenant("Acme", func(t *rating.Tenant) error {
		t.Name, t.Balance, t.CreditLimit, t.BillingMode = "Acme Ltd", rating.MoneyOf(1_000_000), rating.MoneyOf(50), rating.Postpaid
		return nil
	}))
	if up.Name != "Acme Ltd" || up.AccountCode != "Acme" || up.Balance != rating.MoneyOf(700) || up.CreditLimit != rating.MoneyOf(50) {
		t.Errorf("updated %+v: want the new name, the old accountcode and the stored balance", up)
	}
	if _, err := s.Tenant("Acme"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("old name still found: %v", err)
	}
	if got := must[rating.Tenant](t)(s.TenantByAccountCode("Acme")); got.Name != "Acme Ltd" {
		t.Errorf("accountcode finds %q", got.Name)
	}

	_, err := s.UpdateTenant("Acme Ltd", func(t *rating.Tenant) error { t.Name = "Beta"; return nil })
	wantCode(t, err, rating.EConflict, `"Beta"`)
	_, err = s.UpdateTenant("Acme Ltd", func(t *rating.Tenant) error { t.AccountCode = "2000"; return nil })
	wantCode(t, err, rating.EConflict, `"2000"`, `"Beta"`)
	_, err = s.UpdateTenant("Acme Ltd", func(t *rating.Tenant) error { t.Status = "gone"; return nil })
	wantCode(t, err, rating.EInvalid, "status")
	_, err = s.UpdateTenant("Nobody", func(*rating.Tenant) error { return nil })
	wantCode(t, err, rating.ENotFound, `"Nobody"`)

	must[rating.Tenant](t)(s.UpdateTenant("Acme Ltd", func(t *rating.Tenant) error { t.AccountCode = "1001"; return nil }))
	if got := must[rating.Tenant](t)(s.TenantByAccountCode("1001")); got.Name != "Acme Ltd" {
		t.Errorf("new accountcode finds %q", got.Name)
	}
	if _, err := s.TenantByAccountCode("Acme"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("old accountcode still found: %v", err)
	}
	// The freed accountcode can be taken by another tenant.
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Gamma", AccountCode: "Acme"}))
}

func TestDeleteTenant(t *testing.T) {
	s := MustOpen(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Quiet", AccountCode: "q"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Busy"}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Busy", rating.MoneyOf(1), rating.Topup, ""))

	wantCode(t, s.DeleteTenant("Busy"), rating.EConflict, `"Busy"`, "suspend it instead")
	if err := s.DeleteTenant("Quiet"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteTenant("Quiet"), rating.ENotFound, `tenant "Quiet" not found`)
	// Name and accountcode are free again.
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Quiet2", AccountCode: "q"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Quiet"}))
}

// A name that is also another tenant's accountcode: rating requests look
// names up first, CDRs accountcodes.
func TestTenantByNameAndByAccountCode(t *testing.T) {
	s := MustOpen(t)
	if _, err := s.CreateTenant(rating.Tenant{Name: "7001", AccountCode: "first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(rating.Tenant{Name: "Second", AccountCode: "7001"}); err != nil {
		t.Fatal(err)
	}
	if got := must[rating.Tenant](t)(s.TenantByName("7001")); got.Name != "7001" {
		t.Errorf("by name: %q", got.Name)
	}
	if got := must[rating.Tenant](t)(s.TenantByAccountCode("7001")); got.Name != "Second" {
		t.Errorf("by accountcode: %q", got.Name)
	}
	if got := must[rating.Tenant](t)(s.TenantByName("first")); got.Name != "7001" {
		t.Errorf("by name, falling back to the accountcode: %q", got.Name)
	}
	if _, err := s.TenantByName("nobody"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("unknown: %v", err)
	}
}
