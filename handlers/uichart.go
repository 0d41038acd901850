package handlers

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"pbxbill/rating"
)

// Charts are drawn on the server as SVG shapes whose coordinates the
// templates place into <svg>: no script, and nothing to load.

// chart is one SVG chart: polylines over a plot area, with labels.
type chart struct {
	W, H   int
	Series []series
	Labels []label
	Grid   []float64 // y of the horizontal grid lines
	Empty  bool      // every value is zero: the template says so
}

// series is one polyline; Class picks its colour in the stylesheet.
type series struct {
	Name   string
	Class  string
	Points string
	Total  string
}

// label is a text placed on the chart.
type label struct {
	X, Y   float64
	Text   string
	Anchor string // start, middle or end
}

// sparkline draws values as a small line with no axes, hi at the top: the
// Tenants Dashboard gives every row the same hi, so that two lines of the
// same height mean the same spend.
func sparkline(values []int64, hi int64) chart {
	c := chart{W: 96, H: 28}
	c.Series = []series{{Class: "s0", Points: points(values, 1, 1, 94, 26, max(hi, maxOf(values)))}}
	c.Empty = maxOf(values) == 0 && minOf(values) == 0
	return c
}

// lineChart draws one line per named series over days, with the largest
// value and the first and last day labelled. unit formats the y labels.
// An all-zero chart spans minSpan, so its axis reads 0 to a round unit.
func lineChart(days []time.Time, names []string, values [][]int64, unit func(int64) string, minSpan int64) chart {
	const w, h, left, right, top, bottom = 640, 220, 70, 10, 10, 28
	c := chart{W: w, H: h}
	var all []int64
	for _, v := range values {
		all = append(all, v...)
	}
	hi, lo := maxOf(all), min(minOf(all), 0)
	if hi == lo {
		hi = lo + max(minSpan, 1)
		c.Empty = true
	}
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	for i, v := range values {
		var total int64
		for _, x := range v {
			total += x
		}
		c.Series = append(c.Series, series{Name: names[i], Class: "s" + strconv.Itoa(i%6),
			Points: pointsRange(v, left, top, pw, ph, lo, hi), Total: unit(total)})
	}
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(top) + ph*(1-f)
		c.Grid = append(c.Grid, y)
		v := lo + int64(f*float64(hi-lo))
		c.Labels = append(c.Labels, label{X: left - 6, Y: y + 4, Text: unit(v), Anchor: "end"})
	}
	if len(days) > 0 {
		c.Labels = append(c.Labels,
			label{X: left, Y: h - 8, Text: days[0].Format("Jan 2"), Anchor: "start"},
			label{X: w - right, Y: h - 8, Text: days[len(days)-1].Format("Jan 2"), Anchor: "end"})
	}
	return c
}

func points(v []int64, x0, y0, w, h float64, hi int64) string {
	return pointsRange(v, x0, y0, w, h, min(minOf(v), 0), max(hi, 1))
}

// pointsRange maps v onto the box, lo at the bottom and hi at the top.
func pointsRange(v []int64, x0, y0, w, h float64, lo, hi int64) string {
	b := make([]byte, 0, 12*len(v)) // "123.4,56.7 " fits most points
	span := float64(hi - lo)
	if span <= 0 {
		span = 1
	}
	for i, x := range v {
		px := x0
		if len(v) > 1 {
			px += w * float64(i) / float64(len(v)-1)
		}
		py := y0 + h*(1-float64(x-lo)/span)
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendFloat(b, px, 'f', 1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, py, 'f', 1, 64)
	}
	return string(b)
}

func maxOf(v []int64) int64 {
	var m int64
	for i, x := range v {
		if i == 0 || x > m {
			m = x
		}
	}
	return m
}

func minOf(v []int64) int64 {
	var m int64
	for i, x := range v {
		if i == 0 || x < m {
			m = x
		}
	}
	return m
}

// The minimum span of an empty chart of minutes: one minute.
const minutesSpan = 60

// moneyPoints turns a series of money into chart values in units of
// 10^-places of the currency (places ≤ 2: what the charts show). An int64
// of those holds ±9·10^16 of the currency, past the 10^15 DOMAIN.md asks
// for, where one of 10^-8 units holds only ±9·10^10. Each point is the step
// of the running total rounded once, so the points add up to the exact
// total rounded to places, which is what the legend shows; a point is
// within one unit of its day. A running total past ±2^61 units (2·10^16 of
// the currency in hundredths) is drawn at that edge: a picture, not a
// figure, and far beyond what a day of calls costs.
func moneyPoints(v []rating.Money, places int) []int64 {
	const edge = 1 << 61
	out := make([]int64, len(v))
	var sum rating.Money
	var prev int64
	for i, m := range v {
		sum = sum.Add(m)
		cur, ok := sum.Scaled(places)
		if !ok || cur > edge || cur < -edge {
			cur = int64(sum.Sign()) * edge
		}
		out[i], prev = cur-prev, cur
	}
	return out
}

// moneySpan is one currency unit in the units of moneyPoints: the minimum
// span of an empty money chart.
func moneySpan(places int) int64 {
	s := int64(1)
	for range places {
		s *= 10
	}
	return s
}

// moneyUnit labels a chart axis of values from moneyPoints(…, places) in
// the installation currency.
func (u *ui) moneyUnit(places int) func(int64) string {
	return func(v int64) string { return decimal.New(v, -int32(places)).StringFixed(int32(places)) }
}

// minutesUnit labels an axis of seconds as minutes.
func minutesUnit(v int64) string { return strconv.FormatInt(v/60, 10) + " min" }
