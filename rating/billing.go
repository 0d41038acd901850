package rating

import "time"

// Pricing is what pricing decided for one CDR: whether the tenant's side
// is rated, and why not, and the prices of both sides. The store keeps it
// with the CDR and decides nothing about it.
type Pricing struct {
	Rated        bool
	Reason       string // the unrated reason (UnratedNoRate, …), "" when rated
	Billed       int    // billed seconds
	Cost         Money  // the tenant's sell cost; NoMoney while unrated
	ProviderCost Money  // the provider's buy cost; NoMoney without a buy price
	Prefix       string
	Table        string
}

// Unpriced is the Pricing of a CDR that nothing has priced yet.
var Unpriced = Pricing{Cost: NoMoney, ProviderCost: NoMoney}

// tenantKnown reports whether the CDR's tenant was found: a rated CDR's
// always was, an unrated one's unless that is its reason.
func (p *Pricing) tenantKnown() bool { return p.Rated || p.Reason != UnratedUnknownTenant }

// PriceCDR prices one leg of d seconds that started at start (DOMAIN.md
// "Processing a CDR"): the tenant's side through the one resolution, the
// provider's from its table of the same kind for the same number. t or p
// nil: unknown, or no provider. An unrated leg charges nothing on either
// side.
func (x *Rater) PriceCDR(t *Tenant, p *Provider, k Kind, number string, start time.Time, d int) Pricing {
	out := Unpriced
	res := x.Resolve(t, k, number, start)
	if !res.Rated() {
		out.Reason = res.UnratedReason()
		return out
	}
	q := res.Rate.Price(d)
	out.Rated, out.Billed, out.Cost, out.Prefix, out.Table = true, q.Billed, q.Cost, res.Rate.Prefix, res.Table
	if p != nil {
		if table := p.TableFor(k); table != "" {
			if pr := x.ResolveIn(table, res.Number, start); pr.Rated() {
				out.ProviderCost = pr.Rate.Price(d).Cost
			}
		}
	}
	return out
}

// RerateOutcome is what re-pricing did to one CDR, as Rerated counts it.
type RerateOutcome int

// The outcomes of re-pricing a CDR.
const (
	RerateUnchanged RerateOutcome = iota
	RerateRated                   // an unrated CDR got a price
	RerateCorrected               // a rated CDR's price changed
)

// Reprice applies DOMAIN.md's re-rating rules to a CDR priced as was and
// priced again now. It answers what the CDR is to keep, the outcome, and
// whether anything is to be written; running it again on its own answer
// changes nothing.
//
// A rate that no longer exists keeps the price it gave, on the tenant's
// side and on the provider's alike: re-rating never refunds because a row
// was removed.
func Reprice(was, now Pricing) (Pricing, RerateOutcome, bool) {
	switch {
	case was.Rated && !now.Rated:
		return was, RerateUnchanged, false
	case !was.Rated && !now.Rated && was.Reason == now.Reason:
		return was, RerateUnchanged, false
	}
	if was.Rated && was.ProviderCost.Set() && !now.ProviderCost.Set() {
		now.ProviderCost = was.ProviderCost
	}
	if was == now {
		return was, RerateUnchanged, false
	}
	switch {
	case !was.Rated && now.Rated:
		return now, RerateRated, true
	case was.Rated && (now.Cost != was.Cost || now.ProviderCost != was.ProviderCost):
		return now, RerateCorrected, true
	}
	return now, RerateUnchanged, true // a new prefix or reason, the same money
}

// Bill is what one CDR writes when its prices go from was to now: the
// changes to the roll-ups of its day, on each side, and the ledger amounts
// (zero: no entry), of one kind.
type Bill struct {
	Tenant, Provider             Usage
	TenantAmount, ProviderAmount Money // signed ledger amounts: a charge is negative
	Kind                         string
}

// BillCDR is the bill of a CDR of d seconds whose prices go from was to now.
// A fresh CDR (was is Unpriced) counts as an attempt on its provider and,
// once its tenant is known, on its tenant; a re-priced one counts on the
// tenant when it finds the tenant for the first time. Its first charge is
// a charge; a change to a charged price is a correction. provider says
// whether the CDR has a provider at all.
func BillCDR(was, now Pricing, d int, fresh, provider bool) Bill {
	count := Usage{Attempts: 1, Seconds: int64(d)}
	if d > 0 {
		count.Answered = 1
	}
	money := Usage{Billed: int64(now.Billed - was.Billed),
		Sell: now.Cost.OrZero().Sub(was.Cost.OrZero()), Buy: now.ProviderCost.OrZero().Sub(was.ProviderCost.OrZero())}
	b := Bill{Kind: Correction}
	if !was.Rated {
		b.Kind = Charge
	}
	if now.tenantKnown() {
		b.Tenant = money
		if fresh || !was.tenantKnown() {
			b.Tenant.Add(count)
		}
		b.TenantAmount = money.Sell.Neg()
	}
	if provider {
		b.Provider = money
		if fresh {
			b.Provider.Add(count)
		}
		b.ProviderAmount = money.Buy.Neg()
	}
	return b
}

// Post is the one rule of every ledger entry, whatever posts it (a CDR's
// charge or correction, a top-up, an adjustment, a fee, a refill): the
// balance after it is the balance plus the amount, and it stays within
// ±MaxMoney, so that every sum of the ledger stays exact. It is false when
// the balance would leave that range; nothing may then be written.
func Post(balance, amount Money) (Money, bool) {
	after := balance.Add(amount)
	return after, after.InRange()
}

// PostEntry is Post for an entry of kind for ref ("" for none) on the
// account named account, with the error that refuses it.
func PostEntry(account string, balance, amount Money, kind, ref string) (Money, error) {
	after, ok := Post(balance, amount)
	if !ok {
		what := kind + " " + amount.String()
		if ref != "" {
			what += " for " + Excerpt(ref)
		}
		return after, Invalidf("amount", "%s: the balance of %q would be %s, beyond ±%s", what, account, after, MaxMoney)
	}
	return after, nil
}
