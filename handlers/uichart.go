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
	Marks  []mark // a dot per day, with its value on hover
}

// mark is one point of a series, drawn as a dot with a <title>: a range of
// a day or two has no line to see, and a reader wants the day's figure.
type mark struct {
	X, Y  float64
	Title string
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

// lineChart draws one line per named series over days, a dot with its
// value on each day, the largest value and a few days labelled. unit
// formats the y labels, point each dot's value; totals, when given, are the
// legend's figures (the table's, so that the two agree), else the sums in
// unit. An all-zero chart spans minSpan, so its axis reads 0 to a round
// unit.
func lineChart(days []time.Time, names []string, values [][]int64, unit, point func(int64) string, totals []string, minSpan int64) chart {
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
		s := series{Name: names[i], Class: "s" + strconv.Itoa(i%6), Points: pointsRange(v, left, top, pw, ph, lo, hi)}
		if totals != nil {
			s.Total = totals[i]
		} else {
			var total int64
			for _, x := range v {
				total += x
			}
			s.Total = unit(total)
		}
		if !c.Empty {
			for j, x := range v {
				px, py := place(j, len(v), x, left, top, pw, ph, lo, hi)
				s.Marks = append(s.Marks, mark{X: px, Y: py, Title: names[i] + ", " + days[j].Format("Jan 2") + ": " + point(x)})
			}
		}
		c.Series = append(c.Series, s)
	}
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(top) + ph*(1-f)
		c.Grid = append(c.Grid, y)
		v := lo + int64(f*float64(hi-lo))
		c.Labels = append(c.Labels, label{X: left - 6, Y: y + 4, Text: unit(v), Anchor: "end"})
	}
	// About six days labelled along the axis, the first and the last always.
	n := len(days)
	step := max(1, (n+4)/5)
	for j := 0; j < n; j += step {
		if j > 0 && n-1-j < step/2 {
			break // too close to the last label
		}
		x, _ := place(j, n, 0, left, top, pw, ph, 0, 1)
		anchor := "middle"
		if j == 0 && n > 1 {
			anchor = "start"
		}
		c.Labels = append(c.Labels, label{X: x, Y: h - 8, Text: days[j].Format("Jan 2"), Anchor: anchor})
	}
	if n > 1 {
		c.Labels = append(c.Labels, label{X: w - right, Y: h - 8, Text: days[n-1].Format("Jan 2"), Anchor: "end"})
	}
	return c
}

// place is where value x of point i of n goes in the box: across evenly,
// a single point in the middle; lo at the bottom, hi at the top.
func place(i, n int, x int64, x0, y0, w, h float64, lo, hi int64) (float64, float64) {
	span := float64(hi - lo)
	if span <= 0 {
		span = 1
	}
	px := x0 + w/2
	if n > 1 {
		px = x0 + w*float64(i)/float64(n-1)
	}
	return px, y0 + h*(1-float64(x-lo)/span)
}

func points(v []int64, x0, y0, w, h float64, hi int64) string {
	return pointsRange(v, x0, y0, w, h, min(minOf(v), 0), max(hi, 1))
}

// pointsRange maps v onto the box, lo at the bottom and hi at the top.
func pointsRange(v []int64, x0, y0, w, h float64, lo, hi int64) string {
	b := make([]byte, 0, 12*len(v)) // "123.4,56.7 " fits most points
	for i, x := range v {
		px, py := place(i, len(v), x, x0, y0, w, h, lo, hi)
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

// minutesPoint shows a day's seconds as minutes, to the tenth.
func minutesPoint(v int64) string { return minutesOf(v) + " min" }

// minutesOf is seconds as minutes, to the tenth.
func minutesOf(seconds int64) string {
	return decimal.New(seconds, 0).Div(decimal.NewFromInt(60)).StringFixed(1)
}
