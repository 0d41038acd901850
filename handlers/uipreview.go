package handlers

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"pbxbill/rating"
)

// A deck uploaded to replace a table is previewed first: the admin shows
// what it would change (the dry run of the API) and replaces only when the
// operator confirms. The file waits in $TMPDIR meanwhile, named by a random
// token that the confirm form sends back; an unconfirmed deck is removed
// after previewTTL.

const previewTTL = 30 * time.Minute

// pendingDecks are the previewed decks waiting for their confirmation.
type pendingDecks struct {
	mu    sync.Mutex
	decks map[string]pendingDeck
}

type pendingDeck struct {
	path, name, table string
	at                time.Time
}

// keep moves the previewed deck at path into the waiting list and answers
// its token; decks left past previewTTL are removed.
func (p *pendingDecks) keep(path, name, table string, now time.Time) string {
	token := newFormToken()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.decks == nil {
		p.decks = map[string]pendingDeck{}
	}
	for t, d := range p.decks {
		if now.Sub(d.at) > previewTTL {
			os.Remove(d.path)
			delete(p.decks, t)
		}
	}
	p.decks[token] = pendingDeck{path: path, name: name, table: table, at: now}
	return token
}

// take hands the deck of token over, once.
func (p *pendingDecks) take(token, table string, now time.Time) (pendingDeck, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.decks[token]
	if !ok || d.table != table || now.Sub(d.at) > previewTTL {
		return pendingDeck{}, false
	}
	delete(p.decks, token)
	return d, true
}

// deckPreview is what the table page shows of a previewed deck: the
// changes, and for a sell table how each shown change moves its margin
// against the cheapest active carrier.
type deckPreview struct {
	rating.DeckDiff
	Token, File string
	Margins     []previewMargin // one per shown change; nil for a carrier's table
}

// previewMargin is a shown change's margin now and after the upload.
type previewMargin struct {
	Carrier    string
	Now, After rating.Amount // NoAmount: no rate on that side, or no carrier
}

// shownChanges is how many changes a preview lists.
const shownChanges = 20

// previewMargins prices the shown changes of d against the cheapest active
// carriers, when t is a sell table: a carrier's own table has no margin.
func (u *ui) previewMargins(t rating.Table, d *rating.DeckDiff) ([]previewMargin, error) {
	users, err := u.Store.TableUsers(t.Name)
	if err != nil {
		return nil, err
	}
	for _, who := range users {
		if strings.HasPrefix(who, "provider ") {
			return nil, nil
		}
	}
	ps, err := u.Store.Providers()
	if err != nil {
		return nil, err
	}
	x := u.Store.Rater()
	c := x.Carriers(t.Kind, ps)
	now := u.Now()
	out := make([]previewMargin, 0, min(len(d.Changes), shownChanges))
	for _, ch := range d.Changes[:min(len(d.Changes), shownChanges)] {
		m := previewMargin{Now: rating.NoAmount, After: rating.NoAmount}
		if o := c.Cheapest(ch.Prefix, x.Local(now)); o != nil {
			m.Carrier, m.Now, m.After = o.Provider, rating.MarginOf(ch.OldRate, o), rating.MarginOf(ch.NewRate, o)
		}
		out = append(out, m)
	}
	return out, nil
}

// previewUpload keeps an uploaded deck aside and shows what replacing the
// table with it would change.
func (u *ui) previewUpload(w http.ResponseWriter, r *http.Request, k rating.Kind, t rating.Table, file io.Reader, name string) error {
	f, err := os.CreateTemp("", "pbxbill-deck-*.csv")
	if err != nil {
		return err
	}
	path := f.Name()
	_, err = io.Copy(f, file)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		if isTooLarge(err) {
			return tooLarge(u.csvLimit)
		}
		return err
	}
	in, err := os.Open(path)
	if err != nil {
		os.Remove(path)
		return err
	}
	d, err := u.previewDeck(t, in, "replace")
	in.Close()
	if err != nil {
		os.Remove(path)
		return u.rejectedDeck(w, r, k, t, name, err)
	}
	p := &deckPreview{DeckDiff: d, File: name}
	if p.Margins, err = u.previewMargins(t, &d); err != nil {
		os.Remove(path)
		return err
	}
	p.Token = u.decks.keep(path, name, t.Name, u.Now())
	return u.renderTable(w, r, k, t, http.StatusOK, tableState{Preview: p})
}

// confirmUpload replaces the table with the deck previewed under the
// form's token.
func (u *ui) confirmUpload(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	d, ok := u.decks.take(r.PostFormValue("deck"), t.Name, u.Now())
	if !ok {
		return u.redirect(w, r, tableURL(k, t.Name), "error", "That preview is no longer waiting (it was used, or is older than 30 minutes): upload the file again.")
	}
	defer os.Remove(d.path)
	f, err := os.Open(d.path)
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := u.importDeck(u.store(r), t, f, "replace")
	if err != nil {
		return u.rejectedDeck(w, r, k, t, d.name, err)
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", fmt.Sprintf("Replaced every row of %s with the %d rows of %s.", t.Name, out.Rows, d.name))
}
