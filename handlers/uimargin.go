package handlers

import (
	"net/http"

	"pbxbill/rating"
)

// marginsPage is the data of a sell table's margins page.
type marginsPage struct {
	pageBase
	Table     rating.Table
	Margins   []rating.Margin
	Negative  int // how many rows sell below the cheapest carrier
	Uncarried int // how many rows no active carrier takes
}

// marginsPage shows each destination of a sell table beside the cheapest
// active carrier's buy rate for the same numbers, the worst first: what an
// operator checks after a carrier's new deck, and before a price list.
func (u *ui) marginsPage(w http.ResponseWriter, r *http.Request) error {
	_, tb, err := u.pageTable(r)
	if err != nil {
		return err
	}
	p := marginsPage{pageBase: u.base(w, r, "Margins of "+tb.Name, "rates-"+tb.Kind.String()), Table: tb}
	if p.Margins, err = u.margins(tb.Name); err != nil {
		return err
	}
	for i := range p.Margins {
		switch m := &p.Margins[i]; {
		case m.Buy == nil:
			p.Uncarried++
		case m.Margin < 0:
			p.Negative++
		}
	}
	return u.render(w, http.StatusOK, "margins", p)
}
