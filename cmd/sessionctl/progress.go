package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal. It draws nothing
// when its writer is not a terminal, so that logs and pipes stay clean.
type progress struct {
	w     io.Writer
	on    bool
	total int // 0 when unknown: a counter instead of a bar
	last  time.Time
	drawn bool
}

// newProgress returns a progress bar on w for total items (0: unknown).
func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, on: isTerminal(w), total: total}
}

// update shows done items, at most ten times a second.
func (p *progress) update(done int) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw(done)
}

func (p *progress) draw(done int) {
	const width = 30
	if p.total > 0 {
		f := min(float64(done)/float64(p.total), 1)
		n := int(f * width)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", width-n), done, p.total, f*100)
	} else {
		fmt.Fprintf(p.w, "\r%d removed", done)
	}
	p.drawn = true
}

// done draws the final state and ends the line.
func (p *progress) done(done int) {
	if !p.on {
		return
	}
	p.draw(done)
	fmt.Fprintln(p.w)
}
