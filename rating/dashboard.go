package rating

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Usage is the roll-up of an account's CDRs over a day or a range of days.
type Usage struct {
	Attempts int64 `json:"attempts"`
	Answered int64 `json:"answered"` // legs with d > 0
	Seconds  int64 `json:"seconds"`  // Σd
	Billed   int64 `json:"billed_seconds"`
	Sell     Money `json:"sell"` // what tenants paid: charges and corrections
	Buy      Money `json:"buy"`  // what providers charged us
}

// Add adds o to u. A stored roll-up is within ±MaxMoney (store checks it),
// so sums of them cannot overflow.
func (u *Usage) Add(o Usage) {
	u.Attempts += o.Attempts
	u.Answered += o.Answered
	u.Seconds += o.Seconds
	u.Billed += o.Billed
	u.Sell = u.Sell.Add(o.Sell)
	u.Buy = u.Buy.Add(o.Buy)
}

// TenantFigures is one row of the Tenants Dashboard (DOMAIN.md).
type TenantFigures struct {
	Name          string       `json:"name"`
	BillingMode   string       `json:"billing_mode"`
	Balance       Money        `json:"balance"`
	CreditLimit   Money        `json:"credit_limit"`
	Available     Money        `json:"available"`
	State         State        `json:"state"`
	Exposure      Money        `json:"exposure"`
	Utilisation   *json.Number `json:"utilisation"` // exposure / credit_limit; null without a limit
	SpendToday    Money        `json:"spend_today"`
	SpendMonth    Money        `json:"spend_month"`
	AvgDailySpend Money        `json:"avg_daily_spend"` // over the 7 complete days before today
	RunwayDays    *json.Number `json:"runway_days"`     // null when nothing is spent
	CallsToday    int64        `json:"calls_today"`
	// CallsInProgress is the number of its open holds (an extension).
	CallsInProgress int `json:"calls_in_progress"`

	// What the admin's page draws besides: the table whose decimals its
	// amounts show in, and the spend of each of the SparkDays days to
	// today, oldest first.
	OutboundTable string  `json:"-"`
	Spend         []Money `json:"-"`
}

// SparkDays is how many days of spend a TenantFigures carries.
const SparkDays = 30

// NewTenantFigures derives a tenant's row from its record, today's and this
// month's usage, and its spend over the 7 complete days before today.
func NewTenantFigures(t *Tenant, today, month Usage, last7 Money) TenantFigures {
	f := TenantFigures{Name: t.Name, BillingMode: t.BillingMode, Balance: t.Balance,
		CreditLimit: t.CreditLimit, Available: t.Available(), State: t.State(), Exposure: t.Exposure(),
		SpendToday: today.Sell, SpendMonth: month.Sell, CallsToday: today.Attempts, OutboundTable: t.OutboundTable}
	if u, ok := t.Utilisation(); ok {
		f.Utilisation = number(u, 4)
	}
	avg := last7.Decimal().Div(decimal.NewFromInt(7)).Round(AmountDecimals)
	f.AvgDailySpend, _ = MoneyFromDecimal(avg)
	switch {
	case f.AvgDailySpend.Sign() <= 0:
	case f.Available.Sign() <= 0:
		f.RunwayDays = number(decimal.Zero, 1)
	default:
		// Rounded down: a runway is a promise, so never overstate it.
		f.RunwayDays = number(f.Available.Decimal().Div(avg).RoundFloor(1), 1)
	}
	return f
}

// ProviderFigures is one row of the Providers Dashboard (DOMAIN.md), or
// its totals row.
type ProviderFigures struct {
	Name       string       `json:"name,omitempty"`
	Balance    Money        `json:"balance"`
	Attempts   int64        `json:"attempts"`
	Answered   int64        `json:"answered"`
	ASR        *json.Number `json:"asr"`         // answered / attempts, a ratio
	ACDSeconds *json.Number `json:"acd_seconds"` // Σd / answered
	ACD        string       `json:"acd"`         // the same as m:ss
	Minutes    json.Number  `json:"minutes"`     // Σd / 60
	Cost       Money        `json:"cost"`
	Revenue    Money        `json:"revenue"`
	Margin     Money        `json:"margin"`
	MarginPct  *json.Number `json:"margin_pct"` // margin / revenue, in percent
}

// NewProviderFigures derives a row from a balance and the range's usage.
func NewProviderFigures(name string, balance Money, u Usage) ProviderFigures {
	f := ProviderFigures{Name: name, Balance: balance, Attempts: u.Attempts, Answered: u.Answered,
		Cost: u.Buy, Revenue: u.Sell, Margin: u.Sell.Sub(u.Buy),
		Minutes: *number(decimal.New(u.Seconds, 0).Div(decimal.NewFromInt(60)), 2)}
	if u.Attempts > 0 {
		f.ASR = number(decimal.NewFromInt(u.Answered).Div(decimal.NewFromInt(u.Attempts)), 4)
	}
	if u.Answered > 0 {
		acd := decimal.NewFromInt(u.Seconds).Div(decimal.NewFromInt(u.Answered)).Round(0)
		f.ACDSeconds = number(acd, 0)
		s := acd.IntPart()
		f.ACD = fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	if u.Sell.Sign() > 0 {
		f.MarginPct = number(f.Margin.Decimal().Div(u.Sell.Decimal()).Mul(decimal.NewFromInt(100)), 2)
	}
	return f
}

func number(d decimal.Decimal, places int32) *json.Number {
	n := json.Number(d.Round(places).StringFixed(places))
	return &n
}

// DayUsage is one day of an account's roll-up.
type DayUsage struct {
	Day   time.Time // the day's first instant in the installation's zone
	Usage Usage
}
