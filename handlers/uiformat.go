package handlers

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"pbxbill/rating"
)

// defaultDecimals shows an account's money when it has no rate table to
// take the decimals from: the tables' own default.
const defaultDecimals = 4

// shownAmount is what the money functions of the templates show: a
// rate row's price (rating.Amount) or any other amount (rating.Money).
type shownAmount interface {
	Set() bool
	String() string
	Fixed(places int) string
}

// funcs are the template functions. They close over the installation's
// currency and zone, which are fixed when the database is created, so the
// templates can be parsed once at start.
func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		// money shows an amount with the currency and the decimals given:
		// "12.3400 EUR"; an unset amount is a dash.
		"money": func(a shownAmount, decimals int) string {
			if !a.Set() {
				return "—"
			}
			return a.Fixed(decimals) + " " + u.currency
		},
		// price shows a rate: every decimal it has, at least the table's.
		"price": func(a shownAmount, decimals int) string {
			if !a.Set() {
				return "—"
			}
			places := decimals
			if s := a.String(); strings.Contains(s, ".") {
				places = max(places, len(s)-strings.IndexByte(s, '.')-1)
			}
			return a.Fixed(places) + " " + u.currency
		},
		// fixed is the bare number at the decimals given, for a column
		// whose header names the currency.
		"fixed": func(a shownAmount, decimals int) string {
			if !a.Set() {
				return "—"
			}
			return a.Fixed(decimals)
		},
		// amount is the bare number, for form values and CSV.
		"amount": func(a shownAmount) string { return a.String() },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(u.loc).Format("2006-01-02 15:04")
		},
		"day":       func(t time.Time) string { return t.In(u.loc).Format(time.DateOnly) },
		"pe":        url.PathEscape,
		"num":       showNumber,
		"pct":       showRatio,
		"secs":      optSeconds,
		"lower":     strings.ToLower,
		"kindTitle": kindTitle,
		"rateURL":   tableURL,
		"effective": effString,
		"tdec":      u.tableDecimals,
		"dict":      dict,
		"why":       reasonText,
		"currency":  func() string { return u.currency },
		"list":      func(v ...string) []string { return v },
		"minutes":   minutesOf,
	}
}

// showNumber shows an optional figure of the dashboards.
func showNumber(n *json.Number) string {
	if n == nil {
		return "—"
	}
	return n.String()
}

// showRatio shows a ratio such as ASR or utilisation as a percentage.
func showRatio(n *json.Number) string {
	if n == nil {
		return "—"
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return n.String()
	}
	return d.Mul(decimal.NewFromInt(100)).StringFixed(1) + "%"
}

// reasonText says a CDR's unrated reason, or an authorization's refusal,
// as an operator would: what is missing, and where to fix it.
func reasonText(reason string) string {
	switch reason {
	case rating.UnratedUnknownTenant:
		return "no tenant has this accountcode"
	case rating.UnratedNoTable:
		return "the tenant has no rate table of this kind"
	case rating.UnratedInvalidNumber:
		return "the number is not a phone number"
	case rating.UnratedNoRate, rating.ReasonUnrated:
		return "no rate row matches the number"
	case rating.ReasonBlockedDestination:
		return "the destination is blocked"
	case rating.ReasonTooManyCalls:
		return "the tenant has its most calls in progress"
	case rating.ReasonSpendLimit:
		return "the tenant's daily spend limit is reached"
	case rating.ReasonInsufficientCredit:
		return "not enough credit for the first block"
	case rating.ReasonSuspended:
		return "the tenant is suspended"
	case rating.ReasonBlocked:
		return "the tenant has no credit left"
	}
	return reason
}

// showRunway shows a runway in days; past a year it says so, since a
// postpaid tenant that spends little has a runway of thousands of days,
// which reads as a mistake.
func showRunway(n *json.Number) string {
	if n == nil {
		return "—"
	}
	if d, err := decimal.NewFromString(n.String()); err == nil && d.GreaterThan(decimal.NewFromInt(365)) {
		return "> 1 year"
	}
	return n.String() + " days"
}

// optSeconds shows a row's optional integer, -1 meaning "the default".
func optSeconds(v int) string {
	if v < 0 {
		return ""
	}
	return itoa(v)
}

func itoa(v int) string { return decimal.NewFromInt(int64(v)).String() }

// kindTitle is the admin manual's name of each rate page.
func kindTitle(k rating.Kind) string {
	switch k {
	case rating.Outbound:
		return "Outbound Call Rates"
	case rating.Inbound:
		return "Inbound Call Rates"
	case rating.Conference:
		return "Conference Rooms Rates"
	}
	return ""
}

// tableDecimals is the decimals of the named table, defaultDecimals when
// there is none: an account's money is shown as its prices are.
func (u *ui) tableDecimals(name string) int {
	if name == "" {
		return defaultDecimals
	}
	if idx := u.Store.Rater().Book.Get(name); idx != nil {
		return idx.Table().Decimals
	}
	return defaultDecimals
}

// formErrors holds a form's messages, by field; "" is the form's own.
type formErrors map[string]string

// add files err under the field it concerns (rating.Error's Field, or the
// column of each CSV line error) when the form has that field, and as the
// form's own message otherwise.
func (e formErrors) add(err error, fields ...string) {
	p := problemOf(err)
	if len(p.Lines) > 0 {
		for _, l := range p.Lines {
			if _, dup := e[l.Column]; !dup {
				e[l.Column] = l.Message
			}
		}
		return
	}
	if p.Field != "" && slices.Contains(fields, p.Field) {
		e[p.Field] = p.Message
		return
	}
	e[""] = p.Message
}

// dict builds a map from key, value pairs, to hand a partial more than
// one value.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: want key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, errors.New("dict: keys are strings")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
