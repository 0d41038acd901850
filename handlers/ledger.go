package handlers

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// ledgers is what the credit and ledger endpoints and pages ask of the
// store.
type ledgers interface {
	Credit(accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error)
	// CreditOnce posts at most once for a key (a form's one-time token,
	// an Idempotency-Key), checked in the entry's transaction.
	CreditOnce(key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error)
	Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error)
}

// creditIn is the body of POST /tenants/{name}/credits and
// /providers/{name}/credits.
type creditIn struct {
	Amount json.RawMessage `json:"amount"`
	Kind   string          `json:"kind"`
	Note   string          `json:"note"`
}

// creditOut answers a credit: the ledger entry and the new balance.
type creditOut struct {
	Entry   rating.Entry `json:"entry"`
	Balance rating.Money `json:"balance"`
}

// credit posts a topup or an adjustment to an account of accountType. The
// store enforces the sign rules: a topup is positive, an adjustment is not
// zero and has a note.
func (s *server) credit(accountType string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in creditIn
		if err := s.decode(w, r, &in); err != nil {
			return err
		}
		if in.Amount == nil {
			return rating.Invalidf("amount", "amount: required")
		}
		amount, err := money("amount", in.Amount)
		if err != nil {
			return err
		}
		e, err := s.postCredit(r, r.Header.Get("Idempotency-Key"), accountType, mux.Vars(r)["name"], amount, in.Kind, in.Note)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, creditOut{Entry: e, Balance: e.Balance})
	}
}

// postCredit is the one credit of the API's POST and the admin's credit
// form, which only render its entry: a topup unless kind says otherwise.
// rating.ValidateCredit, which Store.Credit applies, checks the amount,
// the kind and the note.
//
// A key, when given, makes the post happen at most once (Store.CreditOnce).
func (s *server) postCredit(r *http.Request, key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	if kind == "" {
		kind = rating.Topup
	}
	return s.store(r).CreditOnce(key, accountType, name, amount, kind, note)
}

// ledger lists an account's entries, newest first, paged with ?after= and
// ?limit=, between ?from= and ?to=.
func (s *server) ledger(accountType string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := mux.Vars(r)["name"]
		q := r.URL.Query()
		loc := s.Store.Location()
		from, err := parseBound("from", q.Get("from"), loc, false)
		if err != nil {
			return err
		}
		to, err := parseBound("to", q.Get("to"), loc, true)
		if err != nil {
			return err
		}
		if !from.IsZero() && !to.IsZero() && !from.Before(to) {
			return rating.Invalidf("from", "from %s is after to %s", rating.Excerpt(q.Get("from")), rating.Excerpt(q.Get("to")))
		}
		n, err := limit(r)
		if err != nil {
			return err
		}
		// The store lists nothing for an unknown account; the caller should
		// hear that the account does not exist instead.
		if accountType == rating.TenantAccount {
			_, err = s.Store.Tenant(name)
		} else {
			_, err = s.Store.Provider(name)
		}
		if err != nil {
			return err
		}
		entries, next, err := s.Store.Ledger(accountType, name, from, to, q.Get("after"), n)
		if err != nil {
			return err
		}
		return replyList(w, entries, next)
	}
}

// parseBound parses a from or to bound: a date, which is midnight in loc
// and for to includes that whole day, or an RFC 3339 instant, which to
// includes. It returns the store's half-open bound: from ≤ t < to.
func parseBound(field, v string, loc *time.Location, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := rating.ParseDate(v, loc); err == nil {
		if end {
			t = rating.DayStart(t.In(loc).Year(), t.In(loc).Month(), t.In(loc).Day()+1, loc)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, rating.Invalidf(field, "%s %s: want YYYY-MM-DD or an RFC 3339 time", field, rating.Excerpt(v))
	}
	if end {
		t = t.Add(time.Nanosecond)
	}
	return t, nil
}
