package main

import (
	"fmt"
	"strings"
	"time"

	"pbxbill/rating"
)

// The Docs Demo records that -demo seeds. The README's examples use them.
const (
	demoPrepaid      = "Docs Demo Prepaid"
	demoPostpaid     = "Docs Demo Postpaid"
	demoOutbound     = "Docs Demo Outbound"
	demoInbound      = "Docs Demo Inbound"
	demoConference   = "Docs Demo Conference Rooms"
	demoCarrierA     = "Docs Demo Carrier A"
	demoCarrierB     = "Docs Demo Carrier B"
	demoCarrierABuy  = "Docs Demo Carrier A Buy"
	demoCarrierBBuy  = "Docs Demo Carrier B Buy"
	demoCarrierAIn   = "Docs Demo Carrier A Inbound Buy"
	demoOpeningNote  = "Docs Demo opening balance"
	demoPrepaidCode  = "docs-demo-prepaid"
	demoPostpaidCode = "docs-demo-postpaid"
)

// demoRow is one rate row written as a deck would have it: an empty field
// leaves the row's value to the table's default, as an empty CSV cell does.
type demoRow struct {
	prefix, destination, rate string
	incr                      string // "initial/increment" in seconds, e.g. "30/6"
	connectFee, minCost       string
	grace                     int
	from                      time.Time // zero: always
	days, hours               string    // times of the week, as a deck writes them
}

// demoTable is a table's settings and its rows.
type demoTable struct {
	table rating.Table
	rows  []demoRow
}

// seedDemo creates the Docs Demo tables, providers and tenants through the
// store's public API, as an administrator would. now dates the one future
// price change, which starts on the first day of the next month.
func seedDemo(st backend, now time.Time) error {
	loc := st.Location()
	n := now.In(loc)
	change := rating.DayStart(n.Year(), n.Month()+1, 1, loc)
	for _, dt := range demoTables(st.Currency(), change) {
		if _, err := st.CreateRateTable(dt.table); err != nil {
			return fmt.Errorf("rate table %s: %w", dt.table.Name, err)
		}
		rows, err := demoRows(dt.rows)
		if err != nil {
			return fmt.Errorf("rate table %s: %w", dt.table.Name, err)
		}
		if err := st.ReplaceRates(dt.table.Name, rows); err != nil {
			return fmt.Errorf("rate table %s: %w", dt.table.Name, err)
		}
	}
	for _, p := range []struct {
		provider rating.Provider
		topup    string
	}{
		{rating.Provider{Name: demoCarrierA, Trunk: "carrier-a", Status: rating.Active,
			OutboundTable: demoCarrierABuy, InboundTable: demoCarrierAIn}, "500.00"},
		{rating.Provider{Name: demoCarrierB, Trunk: "carrier-b", Status: rating.Active,
			OutboundTable: demoCarrierBBuy}, "250.00"},
	} {
		if _, err := st.CreateProvider(p.provider); err != nil {
			return fmt.Errorf("provider %s: %w", p.provider.Name, err)
		}
		if err := demoCredit(st, rating.ProviderAccount, p.provider.Name, p.topup); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		tenant                   rating.Tenant
		limit, threshold, credit string
	}{
		{rating.Tenant{Name: demoPrepaid, AccountCode: demoPrepaidCode, BillingMode: rating.Prepaid,
			Status: rating.Active, OutboundTable: demoOutbound, InboundTable: demoInbound,
			ConferenceTable: demoConference}, "0", "5.00", "25.00"},
		{rating.Tenant{Name: demoPostpaid, AccountCode: demoPostpaidCode, BillingMode: rating.Postpaid,
			Status: rating.Active, OutboundTable: demoOutbound, InboundTable: demoInbound}, "500.00", "50.00", ""},
	} {
		var err error
		if t.tenant.CreditLimit, err = rating.ParseMoney(t.limit); err != nil {
			return err
		}
		if t.tenant.LowBalanceThreshold, err = rating.ParseMoney(t.threshold); err != nil {
			return err
		}
		if _, err := st.CreateTenant(t.tenant); err != nil {
			return fmt.Errorf("tenant %s: %w", t.tenant.Name, err)
		}
		if t.credit != "" {
			if err := demoCredit(st, rating.TenantAccount, t.tenant.Name, t.credit); err != nil {
				return err
			}
		}
	}
	return seedDemoSchedules(st, now)
}

// demoCredit posts an opening topup, through the ledger like any other.
func demoCredit(st backend, account, name, amount string) error {
	a, err := rating.ParseMoney(amount)
	if err != nil {
		return err
	}
	if _, err := st.Credit(account, name, a, rating.Topup, demoOpeningNote); err != nil {
		return fmt.Errorf("%s %s: topup %s: %w", account, name, amount, err)
	}
	return nil
}

// demoRows turns the demo rows into rating rows.
func demoRows(in []demoRow) ([]rating.Row, error) {
	out := make([]rating.Row, 0, len(in))
	for _, d := range in {
		rate, err := rating.ParseAmount(d.rate)
		if err != nil {
			return nil, fmt.Errorf("prefix %s: rate: %w", d.prefix, err)
		}
		r := rating.NewRow(d.prefix, rate)
		r.Destination = d.destination
		if d.incr != "" {
			i, s, ok := strings.Cut(d.incr, "/")
			if _, err := fmt.Sscan(i, &r.InitialIncrement); err != nil || !ok {
				return nil, fmt.Errorf("prefix %s: increments %q: want initial/increment", d.prefix, d.incr)
			}
			if _, err := fmt.Sscan(s, &r.Increment); err != nil {
				return nil, fmt.Errorf("prefix %s: increments %q: want initial/increment", d.prefix, d.incr)
			}
		}
		for _, f := range []struct {
			s string
			v *rating.Amount
		}{{d.connectFee, &r.ConnectFee}, {d.minCost, &r.MinCost}} {
			if f.s == "" {
				continue
			}
			if *f.v, err = rating.ParseAmount(f.s); err != nil {
				return nil, fmt.Errorf("prefix %s: %w", d.prefix, err)
			}
		}
		if d.grace > 0 {
			r.Grace = d.grace
		}
		r.EffectiveFrom = d.from
		if r.Days, err = rating.ParseDays(d.days); err != nil {
			return nil, fmt.Errorf("prefix %s: %w", d.prefix, err)
		}
		if r.Hours, err = rating.ParseHours(d.hours); err != nil {
			return nil, fmt.Errorf("prefix %s: %w", d.prefix, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// demoTables is the demo's rate tables. Sell prices sit above every
// carrier's buy price for the same prefix, so the margins are positive;
// the two carriers each win some destinations, so LCR has something to
// sort. change is when France Mobile gets cheaper.
func demoTables(currency string, change time.Time) []demoTable {
	table := func(name string, k rating.Kind, decimals int, r rating.Rounding, i, s int) rating.Table {
		t := rating.NewTable(name, k, currency)
		t.Decimals, t.Rounding, t.InitialIncrement, t.Increment = decimals, r, i, s
		return t
	}
	tables := []demoTable{
		{table(demoOutbound, rating.Outbound, 4, rating.HalfUp, 60, 60), []demoRow{
			{prefix: "1", destination: "United States and Canada", rate: "0.0100", incr: "1/1"},
			{prefix: "1800", destination: "United States Toll-Free", rate: "0", incr: "1/1"},
			{prefix: "31", destination: "Netherlands Fixed", rate: "0.0180", incr: "1/1"},
			{prefix: "316", destination: "Netherlands Mobile", rate: "0.0700", incr: "1/1", connectFee: "0.0150"},
			{prefix: "32", destination: "Belgium Fixed", rate: "0.0190", incr: "1/1"},
			{prefix: "324", destination: "Belgium Mobile", rate: "0.0750", incr: "1/1"},
			{prefix: "33", destination: "France Fixed", rate: "0.0140", incr: "1/1"},
			{prefix: "336", destination: "France Mobile", rate: "0.0450", incr: "1/1"},
			{prefix: "336", destination: "France Mobile", rate: "0.0390", incr: "1/1", from: change},
			{prefix: "337", destination: "France Mobile", rate: "0.0450", incr: "1/1"},
			{prefix: "34", destination: "Spain Fixed", rate: "0.0160", incr: "30/6"},
			{prefix: "346", destination: "Spain Mobile", rate: "0.0550", incr: "30/6"},
			{prefix: "347", destination: "Spain Mobile", rate: "0.0550", incr: "30/6"},
			{prefix: "351", destination: "Portugal Fixed", rate: "0.0220", incr: "30/6"},
			{prefix: "3519", destination: "Portugal Mobile", rate: "0.0600", incr: "30/6"},
			{prefix: "353", destination: "Ireland Fixed", rate: "0.0200", incr: "1/1"},
			{prefix: "3538", destination: "Ireland Mobile", rate: "0.0800", incr: "1/1"},
			{prefix: "39", destination: "Italy Fixed", rate: "0.0150", incr: "30/6"},
			{prefix: "393", destination: "Italy Mobile", rate: "0.0600", incr: "30/6"},
			{prefix: "41", destination: "Switzerland Fixed", rate: "0.0300"},
			{prefix: "417", destination: "Switzerland Mobile", rate: "0.2000", connectFee: "0.0500"},
			{prefix: "43", destination: "Austria Fixed", rate: "0.0200"},
			{prefix: "436", destination: "Austria Mobile", rate: "0.0800"},
			{prefix: "44", destination: "United Kingdom Fixed", rate: "0.0120", incr: "1/1", grace: 5},
			{prefix: "447", destination: "United Kingdom Mobile", rate: "0.0450", incr: "30/6", connectFee: "0.0100"},
			{prefix: "44800", destination: "United Kingdom Freephone", rate: "0", incr: "1/1"},
			{prefix: "44808", destination: "United Kingdom Freephone", rate: "0", incr: "1/1"},
			{prefix: "449", destination: "United Kingdom Premium Rate", rate: "1.2000", connectFee: "0.2500"},
			{prefix: "45", destination: "Denmark", rate: "0.0200", incr: "1/1"},
			{prefix: "46", destination: "Sweden Fixed", rate: "0.0170", incr: "1/1"},
			{prefix: "467", destination: "Sweden Mobile", rate: "0.0500", incr: "1/1"},
			{prefix: "48", destination: "Poland", rate: "0.0250", incr: "30/6"},
			{prefix: "49", destination: "Germany Fixed", rate: "0.0150"},
			{prefix: "4915", destination: "Germany Mobile", rate: "0.0650"},
			{prefix: "4916", destination: "Germany Mobile", rate: "0.0650"},
			{prefix: "4917", destination: "Germany Mobile", rate: "0.0650"},
			{prefix: "55", destination: "Brazil", rate: "0.0400"},
			{prefix: "61", destination: "Australia Fixed", rate: "0.0300"},
			// Peak and off-peak: weekdays 08:00-18:00 in the installation's
			// zone at the peak rate, every other time at the week's default.
			{prefix: "614", destination: "Australia Mobile", rate: "0.0700", days: "mon-fri", hours: "08:00-18:00"},
			{prefix: "614", destination: "Australia Mobile", rate: "0.0550"},
			{prefix: "81", destination: "Japan", rate: "0.0600"},
			{prefix: "91", destination: "India", rate: "0.0250", incr: "1/1", minCost: "0.0500"},
			{prefix: "*", destination: "Rest of World", rate: "0.9900", connectFee: "0.1000"},
		}},
		// The operator pays the carrier for toll-free DIDs, so they cost
		// the tenant more than local geographic numbers.
		{table(demoInbound, rating.Inbound, 4, rating.HalfUp, 60, 60), []demoRow{
			{prefix: "0800", destination: "Freephone (national format)", rate: "0.0250", incr: "1/1"},
			{prefix: "1", destination: "United States and Canada Local", rate: "0.0040"},
			{prefix: "1800", destination: "United States Toll-Free", rate: "0.0200", incr: "1/1"},
			{prefix: "1866", destination: "United States Toll-Free", rate: "0.0200", incr: "1/1"},
			{prefix: "1877", destination: "United States Toll-Free", rate: "0.0200", incr: "1/1"},
			{prefix: "1888", destination: "United States Toll-Free", rate: "0.0200", incr: "1/1"},
			{prefix: "353", destination: "Ireland Geographic", rate: "0.0050"},
			{prefix: "3531", destination: "Ireland Dublin", rate: "0.0040"},
			{prefix: "3531800", destination: "Ireland Freephone", rate: "0.0450", incr: "1/1"},
			{prefix: "44", destination: "United Kingdom Geographic", rate: "0.0030"},
			{prefix: "44161", destination: "United Kingdom Manchester", rate: "0.0020"},
			{prefix: "4420", destination: "United Kingdom London", rate: "0.0020"},
			{prefix: "44800", destination: "United Kingdom Freephone", rate: "0.0250", incr: "1/1"},
			{prefix: "44808", destination: "United Kingdom Freephone", rate: "0.0250", incr: "1/1"},
			{prefix: "49", destination: "Germany Geographic", rate: "0.0030"},
			{prefix: "4930", destination: "Germany Berlin", rate: "0.0025"},
			{prefix: "49800", destination: "Germany Freephone", rate: "0.0300", incr: "1/1"},
			{prefix: "*", destination: "Other DIDs", rate: "0.0100"},
		}},
		{table(demoConference, rating.Conference, 4, rating.HalfUp, 60, 60), []demoRow{
			{prefix: "7", destination: "Internal Rooms", rate: "0"},
			{prefix: "8", destination: "Standard Rooms", rate: "0.0050"},
			{prefix: "89", destination: "Premium Rooms (recorded)", rate: "0.0150"},
			{prefix: "*", destination: "Other Rooms", rate: "0.0100"},
		}},
		// Carriers bill per second and round up, to 6 decimals.
		{table(demoCarrierABuy, rating.Outbound, 6, rating.Up, 1, 1), buyRows(
			"1", "0.0045", "1800", "0", "31", "0.0090", "316", "0.0500",
			"33", "0.0065", "336", "0.0300", "337", "0.0300",
			"34", "0.0070", "346", "0.0380", "347", "0.0380",
			"353", "0.0110", "3538", "0.0550", "39", "0.0070", "393", "0.0400",
			"41", "0.0150", "417", "0.1500",
			"44", "0.0060", "447", "0.0280", "44800", "0", "44808", "0", "449", "0.9500",
			"49", "0.0070", "4915", "0.0450", "4916", "0.0450", "4917", "0.0450",
			"61", "0.0180", "614", "0.0450", "91", "0.0150")},
		{table(demoCarrierBBuy, rating.Outbound, 6, rating.Up, 30, 6), buyRows(
			"1", "0.0040", "1800", "0", "32", "0.0110", "324", "0.0480", "33", "0.0060", "336", "0.0320", "337", "0.0320",
			"351", "0.0130", "3519", "0.0380", "43", "0.0110", "436", "0.0520",
			"44", "0.0055", "447", "0.0300", "44800", "0", "44808", "0", "45", "0.0120", "46", "0.0100", "467", "0.0300", "48", "0.0150",
			"49", "0.0080", "4915", "0.0420", "4916", "0.0420", "4917", "0.0420",
			"55", "0.0220", "61", "0.0200", "614", "0.0480", "81", "0.0350", "91", "0.0130")},
		{table(demoCarrierAIn, rating.Inbound, 6, rating.Up, 60, 60), buyRows(
			"0800", "0.0180", "1", "0.0015", "1800", "0.0150", "1866", "0.0150", "1877", "0.0150", "1888", "0.0150",
			"353", "0.0020", "3531800", "0.0350", "44", "0.0010", "4420", "0.0008",
			"44800", "0.0180", "44808", "0.0180", "49", "0.0010", "49800", "0.0220")},
	}
	// A buy row's destination is the sell row's of the same kind and prefix.
	dest := map[string]string{}
	for _, dt := range tables {
		for _, r := range dt.rows {
			if r.destination != "" {
				dest[dt.table.Kind.String()+r.prefix] = r.destination
			}
		}
	}
	for _, dt := range tables {
		for i := range dt.rows {
			if dt.rows[i].destination == "" {
				dt.rows[i].destination = dest[dt.table.Kind.String()+dt.rows[i].prefix]
			}
		}
	}
	return tables
}

// buyRows reads prefix, rate pairs: a carrier's deck gives little else.
func buyRows(pairs ...string) []demoRow {
	rows := make([]demoRow, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		rows = append(rows, demoRow{prefix: pairs[i], rate: pairs[i+1]})
	}
	return rows
}
