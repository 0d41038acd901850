package store

import (
	"reflect"
	"testing"

	"pbxbill/rating"
)

func TestProviderCRUD(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "buy", rating.Outbound)
	mustTable(t, s, "did", rating.Inbound)
	p := must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier1",
		OutboundTable: "buy", Balance: rating.MoneyOf(99)}))
	if p.Balance.Sign() != 0 || p.Status != rating.Active || p.Created.IsZero() {
		t.Errorf("created %+v", p)
	}
	_, err := s.CreateProvider(rating.Provider{Name: "Carrier"})
	wantCode(t, err, rating.EConflict, `provider "Carrier" already exists`)
	_, err = s.CreateProvider(rating.Provider{Name: "X", InboundTable: "buy"})
	wantCode(t, err, rating.EInvalid, `inbound_rate_table "buy"`, "outbound")
	_, err = s.CreateProvider(rating.Provider{Name: "X", OutboundTable: "nope"})
	wantCode(t, err, rating.EInvalid, `outbound_rate_table "nope": no such rate table`)
	_, err = s.Provider("X")
	wantCode(t, err, rating.ENotFound, `provider "X" not found`)
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Alpha"}))

	must[rating.Entry](t)(s.Credit(rating.ProviderAccount, "Carrier", rating.MoneyOf(300), rating.Topup, ""))
	up := must[rating.Provider](t)(s.UpdateProvider("Carrier", func(p *rating.Provider) error {
		p.Name, p.Balance, p.InboundTable = "Carrier Two", rating.Money{}, "did"
		return nil
	}))
	if up.Balance != rating.MoneyOf(300) || up.InboundTable != "did" || up.Trunk != "carrier1" {
		t.Errorf("updated %+v", up)
	}
	_, err = s.UpdateProvider("Carrier Two", func(p *rating.Provider) error { p.Name = "Alpha"; return nil })
	wantCode(t, err, rating.EConflict, `"Alpha"`)
	var names []string
	for _, x := range must[[]rating.Provider](t)(s.Providers()) {
		names = append(names, x.Name)
	}
	if !reflect.DeepEqual(names, []string{"Alpha", "Carrier Two"}) {
		t.Errorf("providers %v", names)
	}

	wantCode(t, s.DeleteProvider("Carrier Two"), rating.EConflict, "suspend it instead")
	if err := s.DeleteProvider("Alpha"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteProvider("Alpha"), rating.ENotFound, `"Alpha"`)
}
