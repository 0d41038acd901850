package handlers

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"pbxbill/rating"
)

// try prices one call on table t as the rating endpoints do, and writes
// out which row of the week applied and why, and each step of DOMAIN.md's
// "Pricing one call leg" with its numbers.
func (u *ui) try(t rating.Table, number, duration, date, clock string) *tryResult {
	res := &tryResult{Number: number, Duration: duration, At: date, Time: clock}
	d := 60
	if duration != "" {
		n, err := strconv.Atoi(duration)
		if err != nil || n < 0 || n > maxPriceDuration {
			res.Error = fmt.Sprintf("duration %s: want whole seconds from 0 to %d", rating.Excerpt(duration), maxPriceDuration)
			return res
		}
		d = n
	}
	res.Duration = strconv.Itoa(d)
	at, err := parseTryAt(date, clock, u.loc, u.Now)
	if err != nil {
		res.Error = rating.ErrorMessage(err)
		return res
	}
	local := at.In(u.loc)
	res.When = local.Format("Mon 2006-01-02 15:04 MST")
	rr := u.Store.Rater().ResolveIn(t.Name, number, at)
	res.Normalised = rr.Number
	switch rr.Reason {
	case rating.ReasonInvalidNumber:
		res.Normalised, res.Error = "", rating.ErrorMessage(rr.Err())
		return res
	case rating.ReasonNoTable:
		res.Error = "the table has no rows yet"
		return res
	case rating.ReasonUnrated:
		res.Error = "no row matches " + rr.Number + ": the call is unrated, and would not be allowed"
		return res
	}
	rt := rr.Rate
	res.Rate = &rt
	res.Week = whyRow(&rt, res.When)
	q := rt.Price(d)
	res.Billed, res.Cost = q.Billed, q.Cost
	res.Steps = explain(&rt, d, q)
	return res
}

// whyRow says which row of its prefix's week applied to a call starting
// at when, and why; "" for a row without times of the week.
func whyRow(rt *rating.Rate, when string) string {
	w := rating.Week{Days: rt.Days, Hours: rt.Hours}
	switch {
	case !rt.Weekly:
		return ""
	case w.Timed():
		return fmt.Sprintf("The row for %s applies: the call starts %s, inside its times. It prices the whole call, however long.", w, when)
	}
	return fmt.Sprintf("The week's default row applies: no timed row of prefix %s covers %s.", rt.Prefix, when)
}

// explain spells out the arithmetic of pricing d seconds at rt.
func explain(rt *rating.Rate, d int, q rating.Quote) []string {
	i, s := rt.InitialIncrement, rt.Increment
	var steps []string
	if d == 0 || d <= rt.Grace {
		why := "d = 0: the call was not answered"
		if d > 0 {
			why = fmt.Sprintf("d = %d ≤ grace %d", d, rt.Grace)
		}
		return append(steps, why+", so the cost is 0, connect fee included, and b = 0.")
	}
	if d <= i {
		steps = append(steps, fmt.Sprintf("d = %d ≤ initial increment %d, so b = %d.", d, i, q.Billed))
	} else {
		steps = append(steps, fmt.Sprintf("b = %d + ⌈(%d − %d) / %d⌉ × %d = %d billed seconds.", i, d, i, s, s, q.Billed))
	}
	first := min(q.Billed, i)
	cf, ir, r := rt.ConnectFee.Decimal(), rt.InitialRate.Decimal(), rt.Rate.Decimal()
	raw := cf.Add(ir.Mul(decimal.NewFromInt(int64(first))).Add(r.Mul(decimal.NewFromInt(int64(q.Billed-first)))).
		DivRound(decimal.NewFromInt(60), 16))
	steps = append(steps, fmt.Sprintf("raw = %s + (%s × %d + %s × %d) / 60 = %s",
		cf, ir, first, r, q.Billed-first, raw.String()))
	rounded := roundAs(raw, rt.Decimals, rt.Rounding)
	steps = append(steps, fmt.Sprintf("rounded %s to %d decimals: %s", rt.Rounding, rt.Decimals, rounded.StringFixed(int32(rt.Decimals))))
	if rt.MinCost.Set() {
		steps = append(steps, fmt.Sprintf("min_cost %s: cost = max(%s, %s)", rt.MinCost, rounded.StringFixed(int32(rt.Decimals)), rt.MinCost))
	}
	if rt.MaxCost.Set() {
		steps = append(steps, fmt.Sprintf("max_cost %s: cost = min(…, %s)", rt.MaxCost, rt.MaxCost))
	}
	return append(steps, "cost = "+q.Cost.Fixed(rt.Decimals))
}

// roundAs rounds raw the way the table does; only for the explanation,
// the cost itself comes from rating.Rate.Price.
func roundAs(raw decimal.Decimal, places int, how rating.Rounding) decimal.Decimal {
	p := int32(places)
	switch how {
	case rating.Up:
		return raw.RoundCeil(p)
	case rating.Down:
		return raw.RoundFloor(p)
	}
	return raw.Round(p)
}
