package handlers

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"pbxbill/rating"
)

// cdrsPerPage is how many CDRs the CDR browser shows at once.
const cdrsPerPage = 50

// usagePage is the data of the CDR browser and its Unrated view.
type usagePage struct {
	pageBase
	Tenant, Provider, Status, From, To string
	Kind, Number                       string
	Tenants, Providers                 []string
	Rows                               []cdrRow
	Totals                             rating.CDRTotals
	Dec                                int // the decimals money is shown with
	// The export and paging links, with the filter. Built here, as
	// URLs: a query string given to the template in an href would be
	// escaped whole, '=' and '&' included, and filter nothing.
	ExportURL, OlderURL, NewerURL template.URL
	Error                         string
	// Rejected are the newest lines of a followed CDR file that the
	// store refused; they bill nothing until they are fixed and uploaded.
	Rejected []rating.RejectedLine
}

func (u *ui) usagePage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := usagePage{pageBase: u.base(w, r, "Usage", "usage"), Tenant: q.Get("tenant"), Provider: q.Get("provider"),
		Status: q.Get("status"), From: q.Get("from"), To: q.Get("to"), Kind: q.Get("kind"), Number: q.Get("number"),
		Dec: defaultDecimals}
	if p.Status == rating.Unrated {
		p.Title, p.Section = "Unrated CDRs", "unrated"
	}
	keep := url.Values{}
	for _, k := range []string{"tenant", "provider", "status", "kind", "number", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	p.ExportURL = template.URL("/usage/export?" + keep.Encode())
	ts, err := u.Store.Tenants()
	if err != nil {
		return err
	}
	for _, t := range ts {
		p.Tenants = append(p.Tenants, t.Name)
	}
	ps, err := u.Store.Providers()
	if err != nil {
		return err
	}
	for _, pr := range ps {
		p.Providers = append(p.Providers, pr.Name)
	}
	if p.Rejected, err = u.Store.RejectedLines(rejectedOnUsage); err != nil {
		return err
	}
	status := http.StatusOK
	f, err := u.cdrFilter(r)
	if rating.ErrorCode(err) == rating.EInvalid {
		p.Error, status = rating.ErrorMessage(err), http.StatusBadRequest
	} else if err != nil {
		return err
	} else if page, err := u.Store.CDRPage(f, q.Get("after"), q.Get("before"), cdrsPerPage); err != nil {
		if rating.ErrorCode(err) != rating.EInvalid {
			return err
		}
		p.Error, status = rating.ErrorMessage(err), http.StatusBadRequest
	} else {
		for i := range page.CDRs {
			p.Rows = append(p.Rows, u.cdrRow(&page.CDRs[i]))
		}
		if p.Totals, err = u.Store.CDRTotals(f); err != nil {
			return err
		}
		if page.Older != "" {
			keep.Set("after", page.Older)
			p.OlderURL = template.URL("/usage?" + keep.Encode())
			keep.Del("after")
		}
		if page.Newer != "" {
			keep.Set("before", page.Newer)
			p.NewerURL = template.URL("/usage?" + keep.Encode())
		}
		if f.Tenant != "" {
			if t, err := u.Store.Tenant(f.Tenant); err == nil {
				p.Dec = u.tableDecimals(t.OutboundTable)
			}
		}
	}
	return u.render(w, status, "usage", p)
}

// exportCDRs downloads what the CDR browser's filter selects, as CSV.
func (u *ui) exportCDRs(w http.ResponseWriter, r *http.Request) error {
	f, err := u.cdrFilter(r)
	if err != nil {
		return err
	}
	return u.server.exportCDRs(w, f)
}

// rerate prices the unrated CDRs (or those of a range) again.
func (u *ui) rerate(w http.ResponseWriter, r *http.Request) error {
	// u.form has parsed the form; the filter reads it as a query.
	fr := r.Clone(r.Context())
	fr.URL.RawQuery = r.PostForm.Encode()
	f, err := u.cdrFilter(fr)
	if err != nil {
		return err
	}
	back := "/usage?" + fr.URL.RawQuery
	done, err := u.rerateCDRs(fr, f)
	if err == errRerateWhich {
		return u.redirect(w, r, back, "error", "Say which CDRs to re-rate: the unrated ones, or a From/To range.")
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, back, "ok", fmt.Sprintf("Re-rated: %d newly rated, %d corrected, %d unchanged.",
		done.Rated, done.Corrected, done.Unchanged))
}

// uploadPage is the data of the CDR file upload form.
type uploadPage struct {
	pageBase
	Format, Kind string
	Error        string
	Lines        []rating.LineError
}

func (u *ui) uploadPage(w http.ResponseWriter, r *http.Request) error {
	p := uploadPage{pageBase: u.base(w, r, "Upload CDRs", "upload"), Format: string(rating.Asterisk)}
	return u.render(w, http.StatusOK, "upload", p)
}

// uploadCDRs imports an Asterisk or FreeSWITCH CDR file through the API's
// one import (importPBXFile): all or nothing, and a second upload of the
// same file changes nothing.
func (u *ui) uploadCDRs(w http.ResponseWriter, r *http.Request) error {
	p := uploadPage{pageBase: u.base(w, r, "Upload CDRs", "upload"), Format: r.PostFormValue("format"), Kind: r.PostFormValue("kind")}
	fail := func(msg string, lines []rating.LineError) error {
		p.Error, p.Lines = msg, lines
		return u.render(w, http.StatusBadRequest, "upload", p)
	}
	format := rating.PBXFormat(p.Format)
	if format != rating.Asterisk && format != rating.FreeSWITCH {
		return fail("Format: choose Asterisk or FreeSWITCH.", nil)
	}
	var kind rating.Kind
	if p.Kind != "" {
		var err error
		if kind, err = rating.ParseKind(p.Kind); err != nil {
			return fail(rating.ErrorMessage(err), nil)
		}
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		if isTooLarge(err) {
			return tooLarge(u.csvLimit)
		}
		return fail("Choose a CDR file to upload.", nil)
	}
	defer file.Close()
	posted, skipped, err := u.importPBXFile(file, "", format, kind, u.loc)
	if re := (*rating.Error)(nil); errors.As(err, &re) && re.Code == rating.EInvalid {
		return fail(hdr.Filename+" was rejected, and nothing was stored: "+re.Message, re.Lines)
	} else if err != nil {
		return err
	}
	msg := fmt.Sprintf("Imported %s: %d rated, %d duplicate, %d unrated, %d internal calls skipped.",
		hdr.Filename, posted.Rated, posted.Duplicate, posted.Unrated, skipped)
	target := "/usage"
	if posted.Unrated > 0 {
		target = "/usage?status=unrated"
		msg += " Fix the tenants or rates of the unrated ones, then re-rate them."
	}
	return u.redirect(w, r, target, "ok", strings.TrimSpace(msg))
}

// cdrRow is a CDR as the browser shows it: with the destination of the row
// that priced it, and its margin.
type cdrRow struct {
	rating.CDR
	Destination string
	URL         template.URL // its own page
}

// Margin is the call's margin (rating.CDR.Margin), for the templates,
// which hold rows by value.
func (r cdrRow) Margin() rating.Money { return r.CDR.Margin() }

func (u *ui) cdrRow(c *rating.CDR) cdrRow {
	row := cdrRow{CDR: *c,
		URL: template.URL("/usage/cdr?" + url.Values{"node": {c.Node}, "id": {c.ID}}.Encode())}
	if c.RateTable != "" {
		if res := u.Store.Rater().ResolveIn(c.RateTable, c.Number, c.Start); res.Rated() && res.Rate.Prefix == c.Prefix {
			row.Destination = res.Rate.Destination
		}
	}
	return row
}

// cdrPage is one CDR with its arithmetic, as "Try a number" spells it out.
type cdrPage struct {
	pageBase
	CDR   cdrRow
	Rate  *rating.Rate // the row that applies now for its start; nil: none
	Steps []string
	Same  bool // the row prices it as it was billed
	Dec   int
}

// cdrDetail shows one CDR: what was stored, and the arithmetic of its
// price with the row in force for its start, as the tables are now.
func (u *ui) cdrDetail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := u.Store.CDR(q.Get("node"), q.Get("id"))
	if err != nil {
		return err
	}
	p := cdrPage{pageBase: u.base(w, r, "CDR "+c.ID, "usage"), CDR: u.cdrRow(&c), Dec: u.tableDecimals(c.RateTable)}
	if c.RateTable != "" {
		if res := u.Store.Rater().ResolveIn(c.RateTable, c.Number, c.Start); res.Rated() {
			rt := res.Rate
			p.Rate = &rt
			quote := rt.Price(c.Duration)
			p.Steps = explain(&rt, c.Duration, quote)
			p.Same = quote.Cost == c.Cost && quote.Billed == c.Billed
		}
	}
	return u.render(w, http.StatusOK, "cdr", p)
}
