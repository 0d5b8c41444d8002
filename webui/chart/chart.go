// Package chart draws the small charts of the admin pages as SVG text on
// the server: a line over time (a modem's signal) and grouped bars per day
// (messages sent, delivered, failed, received). Pure functions of their
// input, no JavaScript and no external library; every label is escaped,
// so the output may be embedded in a page as markup. Colours come from
// CSS classes (series-0, series-1...) so the page's stylesheet decides.
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Point is one sample of a line: Gap marks a sample without a value (the
// line breaks there).
type Point struct {
	At  time.Time
	Y   float64
	Gap bool
}

// Line is a line chart over a time window.
type Line struct {
	// Title is the chart's accessible name.
	Title         string
	Width, Height int
	From, To      time.Time
	// YMin and YMax fix the vertical range (the signal's -113..-51 dBm).
	YMin, YMax float64
	// YTicks are the values labelled on the left; YUnit follows them.
	YTicks []float64
	YUnit  string
	// XTicks is the step of the time labels (e.g. 6 h); XFormat their
	// layout ("15:04").
	XTicks  time.Duration
	XFormat string
	Points  []Point
	// Empty is said when there is no point.
	Empty string
}

// Series is one set of bars.
type Series struct {
	Name   string
	Values []int
}

// Bars is a grouped bar chart: one group per category (a day), one bar
// per series in each group.
type Bars struct {
	Title         string
	Width, Height int
	Categories    []string
	// LabelEvery labels one category in so many (1: all), counted back
	// from the last.
	LabelEvery int
	Series     []Series
	Empty      string
}

const (
	padLeft   = 44
	padRight  = 8
	padTop    = 10
	padBottom = 22
)

type svg struct{ b strings.Builder }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func esc(t string) string { return html.EscapeString(t) }

// num formats a coordinate with at most one decimal, so the text is
// stable across platforms and small.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

func (s *svg) open(title string, w, h int) {
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, esc(title))
	s.f(`<title>%s</title>`, esc(title))
}

// SVG draws the line chart.
func (c Line) SVG() string {
	var s svg
	s.open(c.Title, c.Width, c.Height)
	x0, x1 := float64(padLeft), float64(c.Width-padRight)
	y0, y1 := float64(c.Height-padBottom), float64(padTop)
	span := c.To.Sub(c.From).Seconds()
	if span <= 0 {
		span = 1
	}
	yr := c.YMax - c.YMin
	if yr <= 0 {
		yr = 1
	}
	px := func(t time.Time) float64 { return x0 + (x1-x0)*t.Sub(c.From).Seconds()/span }
	py := func(v float64) float64 {
		v = min(max(v, c.YMin), c.YMax)
		return y0 - (y0-y1)*(v-c.YMin)/yr
	}
	s.f(`<g class="grid">`)
	for _, v := range c.YTicks {
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x0), num(py(v)), num(x1), num(py(v)))
	}
	s.f(`</g><g class="axis">`)
	for _, v := range c.YTicks {
		s.f(`<text x="%s" y="%s" text-anchor="end">%s%s</text>`, num(x0-4), num(py(v)+4), esc(num(v)), esc(c.YUnit))
	}
	if c.XTicks > 0 {
		for t := c.From.Truncate(c.XTicks).Add(c.XTicks); !t.After(c.To); t = t.Add(c.XTicks) {
			s.f(`<text x="%s" y="%d" text-anchor="middle">%s</text>`, num(px(t)), c.Height-6, esc(t.Format(c.XFormat)))
		}
	}
	s.f(`</g>`)
	var runs [][]Point
	var cur []Point
	for _, p := range c.Points {
		if p.Gap || p.At.Before(c.From) || p.At.After(c.To) {
			if len(cur) > 0 {
				runs = append(runs, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, p)
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	if len(runs) == 0 && c.Empty != "" {
		s.f(`<text class="empty" x="%s" y="%s" text-anchor="middle">%s</text>`, num((x0+x1)/2), num((y0+y1)/2), esc(c.Empty))
	}
	for _, r := range runs {
		if len(r) == 1 {
			s.f(`<circle class="series-0" cx="%s" cy="%s" r="2"/>`, num(px(r[0].At)), num(py(r[0].Y)))
			continue
		}
		s.f(`<polyline class="series-0" fill="none" points="`)
		for i, p := range r {
			if i > 0 {
				s.f(" ")
			}
			s.f("%s,%s", num(px(p.At)), num(py(p.Y)))
		}
		s.f(`"/>`)
	}
	// The latest reading is marked, so that a line only minutes long (a
	// modem just started) is still seen.
	if n := len(runs); n > 0 && len(runs[n-1]) > 1 {
		last := runs[n-1][len(runs[n-1])-1]
		s.f(`<circle class="series-0" cx="%s" cy="%s" r="2.5"/>`, num(px(last.At)), num(py(last.Y)))
	}
	s.f(`</svg>`)
	return s.b.String()
}

// NiceMax is the smallest of 1, 2, 5 × 10^n at or above v (at least 1),
// so that the bars' scale reads in round numbers.
func NiceMax(v int) int {
	if v <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

// SVG draws the bar chart.
func (c Bars) SVG() string {
	var s svg
	s.open(c.Title, c.Width, c.Height)
	x0, x1 := float64(padLeft), float64(c.Width-padRight)
	y0, y1 := float64(c.Height-padBottom), float64(padTop)
	top := 0
	for _, sr := range c.Series {
		for _, v := range sr.Values {
			top = max(top, v)
		}
	}
	scale := NiceMax(top)
	py := func(v int) float64 { return y0 - (y0-y1)*float64(v)/float64(scale) }
	ticks := []int{0, scale}
	if scale%2 == 0 {
		ticks = []int{0, scale / 2, scale}
	}
	s.f(`<g class="grid">`)
	for _, v := range ticks {
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x0), num(py(v)), num(x1), num(py(v)))
	}
	s.f(`</g><g class="axis">`)
	for _, v := range ticks {
		s.f(`<text x="%s" y="%s" text-anchor="end">%d</text>`, num(x0-4), num(py(v)+4), v)
	}
	n := len(c.Categories)
	every := max(c.LabelEvery, 1)
	group := (x1 - x0) / float64(max(n, 1))
	// Labels are counted back from the last category (today), so the
	// newest is always named and two labels never collide at the end.
	for i, cat := range c.Categories {
		if (n-1-i)%every == 0 {
			s.f(`<text x="%s" y="%d" text-anchor="middle">%s</text>`, num(x0+group*(float64(i)+0.5)), c.Height-6, esc(cat))
		}
	}
	s.f(`</g>`)
	if top == 0 && c.Empty != "" {
		s.f(`<text class="empty" x="%s" y="%s" text-anchor="middle">%s</text>`, num((x0+x1)/2), num((y0+y1)/2), esc(c.Empty))
	}
	k := max(len(c.Series), 1)
	bw := group * 0.8 / float64(k)
	for j, sr := range c.Series {
		s.f(`<g class="series-%d"><title>%s</title>`, j, esc(sr.Name))
		for i, v := range sr.Values {
			if i >= n || v <= 0 {
				continue
			}
			x := x0 + group*float64(i) + group*0.1 + bw*float64(j)
			s.f(`<rect x="%s" y="%s" width="%s" height="%s"><title>%s %s: %d</title></rect>`,
				num(x), num(py(v)), num(bw), num(y0-py(v)), esc(c.Categories[i]), esc(sr.Name), v)
		}
		s.f(`</g>`)
	}
	s.f(`</svg>`)
	return s.b.String()
}
