package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// What the tenant and provider pages share: the ledger, the top-up and
// adjustment form, and the 30-day chart.

// ledgerPerPage is how many ledger entries an account page shows at once.
const ledgerPerPage = 20

// creditForm is the top-up / adjustment form, as typed.
type creditForm struct {
	Amount, Kind, Note string
	// Token is the form's one-time token: the store posts a form once,
	// however many times it is sent (a double click, a reload).
	Token  string
	Errors formErrors
}

// newFormToken is a random one-time token for a money form.
func newFormToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// accountPart is the account half of a tenant or provider page.
type accountPart struct {
	Ledger     []rating.Entry
	LedgerNext string // the cursor of the next ledger page; "" on the last
	From, To   string // the ledger's date filter, as typed
	Error      string // a refused date filter
	Credit     creditForm
	Chart      chart
	Decimals   int
}

// loadAccount reads the ledger page of ?after= and the 30-day chart.
func (u *ui) loadAccount(r *http.Request, accountType, name string, decimals int, cf *creditForm) (accountPart, error) {
	a := accountPart{Decimals: decimals, Credit: creditForm{Kind: rating.Topup, Token: newFormToken(), Errors: formErrors{}}}
	if cf != nil {
		a.Credit = *cf
	}
	q := r.URL.Query()
	a.From, a.To = q.Get("from"), q.Get("to")
	from, err := parseBound("from", a.From, u.loc, false)
	if err == nil {
		var to time.Time
		if to, err = parseBound("to", a.To, u.loc, true); err == nil {
			a.Ledger, a.LedgerNext, err = u.Store.Ledger(accountType, name, from, to, q.Get("after"), ledgerPerPage)
		}
	}
	if code := rating.ErrorCode(err); code == rating.EInvalid {
		a.Error = rating.ErrorMessage(err)
	} else if err != nil {
		return a, err
	}
	to := u.today()
	days, err := u.Store.DailyUsage(accountType, name, to.AddDate(0, 0, -29), to)
	if err != nil {
		return a, err
	}
	var ts []time.Time
	spend := make([]rating.Money, len(days))
	for i, d := range days {
		ts = append(ts, d.Day)
		if accountType == rating.TenantAccount {
			spend[i] = d.Usage.Sell
		} else {
			spend[i] = d.Usage.Buy
		}
	}
	what := "spend"
	if accountType == rating.ProviderAccount {
		what = "cost"
	}
	places := min(decimals, 2)
	a.Chart = lineChart(ts, []string{"Daily " + what + " (" + u.currency + ")"}, [][]int64{moneyPoints(spend, places)},
		u.moneyUnit(places), u.moneyUnit(places), nil, moneySpan(places))
	return a, nil
}

// today is midnight today in the installation's zone.
func (u *ui) today() time.Time {
	n := u.Now().In(u.loc)
	return rating.StartOfDay(n, u.loc)
}

// credit posts the top-up / adjustment form. A refused one re-renders the
// account page with the form as typed.
func (u *ui) credit(accountType string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := mux.Vars(r)["name"]
		f := creditForm{Amount: strings.TrimSpace(r.PostFormValue("amount")), Kind: r.PostFormValue("kind"),
			Note: strings.TrimSpace(r.PostFormValue("note")), Token: r.PostFormValue("token"), Errors: formErrors{}}
		back := "/tenants/"
		if accountType == rating.ProviderAccount {
			back = "/providers/"
		}
		back += url.PathEscape(name)
		amount, err := rating.ParseMoney(f.Amount)
		if f.Amount == "" {
			err = rating.Invalidf("amount", "amount: required")
		}
		var e rating.Entry
		if err == nil {
			e, err = u.postCredit(r, f.Token, accountType, name, amount, f.Kind, f.Note)
		}
		if code := rating.ErrorCode(err); code == rating.EConflict && f.Token != "" {
			return u.redirect(w, r, back, "ok", "This form had been sent already and was posted then; the second sending posted nothing.")
		} else if code == rating.EInvalid {
			f.Errors.add(err, "amount", "note", "kind")
			return u.renderAccount(w, r, accountType, name, http.StatusBadRequest, &f)
		} else if err != nil {
			return err
		}
		dec := u.accountDecimals(accountType, name)
		article := "a "
		if e.Kind == rating.Adjustment {
			article = "an "
		}
		return u.redirect(w, r, back, "ok", "Posted "+article+e.Kind+" of "+e.Amount.Fixed(dec)+" "+u.currency+
			" to "+name+"; the balance is now "+e.Balance.Fixed(dec)+" "+u.currency+".")
	}
}

// renderAccount re-renders a tenant or provider page.
func (u *ui) renderAccount(w http.ResponseWriter, r *http.Request, accountType, name string, status int, cf *creditForm) error {
	if accountType == rating.TenantAccount {
		t, err := u.Store.Tenant(name)
		if err != nil {
			return err
		}
		return u.renderTenant(w, r, t, status, newTenantForm(t), cf)
	}
	p, err := u.Store.Provider(name)
	if err != nil {
		return err
	}
	return u.renderProvider(w, r, p, status, newProviderForm(p), cf)
}

// accountDecimals shows an account's money with the decimals of its
// outbound table, the one that prices most of its calls.
func (u *ui) accountDecimals(accountType, name string) int {
	if accountType == rating.TenantAccount {
		if t, err := u.Store.Tenant(name); err == nil {
			return u.tableDecimals(t.OutboundTable)
		}
	} else if p, err := u.Store.Provider(name); err == nil {
		return u.tableDecimals(p.OutboundTable)
	}
	return defaultDecimals
}

// tableChoices lists the names of the tables of each kind, for the
// selects of the tenant and provider forms.
func (u *ui) tableChoices() (map[string][]string, error) {
	out := map[string][]string{}
	for _, k := range rating.Kinds {
		ts, err := u.Store.RateTables(k)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, t := range ts {
			names = append(names, t.Name)
		}
		out[k.String()] = names
	}
	return out, nil
}

// recentCDRs lists an account's latest CDRs.
func (u *ui) recentCDRs(f rating.CDRFilter) ([]rating.CDR, error) {
	cdrs, _, err := u.Store.CDRs(f, "", 10)
	return cdrs, err
}
