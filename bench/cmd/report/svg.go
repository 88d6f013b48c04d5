package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// A chart is a horizontal grouped bar chart: one group of bars per label,
// one bar per series. It renders to a self-contained SVG with the standard
// library only.
type chart struct {
	title    string
	subtitle string
	series   []string
	groups   []group
	log      bool    // logarithmic value axis
	ref      float64 // a reference line at this value (0: none)
	refLabel string
	format   func(float64) string // value labels
}

type group struct {
	label  string
	values []float64 // one per series; NaN: no bar
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

const (
	chartWidth = 820
	labelWidth = 170
	rightPad   = 80
	barHeight  = 13
	barGap     = 2
	groupGap   = 12
	topPad     = 70
	bottomPad  = 40
)

func (c chart) svg() string {
	lo, hi := c.bounds()
	plotW := float64(chartWidth - labelWidth - rightPad)
	x := func(v float64) float64 {
		if c.log {
			return labelWidth + (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*plotW
		}
		return labelWidth + (v-lo)/(hi-lo)*plotW
	}
	groupH := len(c.series)*(barHeight+barGap) + groupGap
	height := topPad + len(c.groups)*groupH + bottomPad
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", esc(c.title))
	if c.subtitle != "" {
		fmt.Fprintf(&b, `<text x="10" y="36" fill="#555">%s</text>`+"\n", esc(c.subtitle))
	}
	// legend
	lx := 10.0
	for i, s := range c.series {
		fmt.Fprintf(&b, `<rect x="%.1f" y="46" width="10" height="10" fill="%s"/><text x="%.1f" y="55">%s</text>`+"\n", lx, palette[i%len(palette)], lx+14, esc(s))
		lx += 26 + 7*float64(len(s))
	}
	// grid and ticks
	plotTop, plotBottom := float64(topPad-6), float64(height-bottomPad)
	for _, t := range c.ticks(lo, hi) {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", xx, plotTop, xx, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`+"\n", xx, plotBottom+14, esc(c.format(t)))
	}
	if c.ref > 0 && c.ref >= lo && c.ref <= hi {
		xx := x(c.ref)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000" stroke-dasharray="4,3"/>`+"\n", xx, plotTop, xx, plotBottom)
		if c.refLabel != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", xx, plotBottom+28, esc(c.refLabel))
		}
	}
	// bars
	y := float64(topPad)
	for _, g := range c.groups {
		gh := float64(len(c.series)*(barHeight+barGap) - barGap)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", labelWidth-8, y+gh/2, esc(g.label))
		for i, v := range g.values {
			by := y + float64(i*(barHeight+barGap))
			if math.IsNaN(v) {
				continue
			}
			vv := math.Max(v, lo)
			w := x(math.Min(vv, hi)) - labelWidth
			if w < 1 {
				w = 1
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
				labelWidth, by, w, barHeight, palette[i%len(palette)], esc(c.series[i]), esc(c.format(v)))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", labelWidth+w+4, by+barHeight/2.0, esc(c.format(v)))
		}
		y += float64(groupH)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// bounds returns the value axis range.
func (c chart) bounds() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, g := range c.groups {
		for _, v := range g.values {
			if math.IsNaN(v) || (c.log && v <= 0) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if c.ref > 0 {
		lo, hi = math.Min(lo, c.ref), math.Max(hi, c.ref)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0.1, 10
	}
	if c.log {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)+0.15))
		return lo, hi
	}
	lo = 0
	step := niceStep(hi / 5)
	hi = math.Ceil(hi*1.12/step) * step
	if hi == 0 {
		hi = 1
	}
	return lo, hi
}

func (c chart) ticks(lo, hi float64) []float64 {
	var out []float64
	if c.log {
		for t := lo; t <= hi*1.0001; t *= 10 {
			out = append(out, t)
		}
		return out
	}
	step := niceStep(hi / 5)
	for t := lo; t <= hi*1.0001; t += step {
		out = append(out, t)
	}
	return out
}

func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	switch f := x / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

func esc(s string) string { return html.EscapeString(s) }

// formatRatio prints a ratio such as 0.93×, 2.4× or 1200×.
func formatRatio(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f×", v)
	case v >= 10:
		return fmt.Sprintf("%.1f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func formatCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
