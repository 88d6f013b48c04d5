package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal. It draws nothing
// when its writer is not a terminal, so that logs and pipes stay clean. It
// shows only what happened: the count of removed records against the
// expired total counted before (which grows when more were removed than
// counted, since records expire meanwhile), never 100% before the last
// record is removed.
type progress struct {
	w     io.Writer
	on    bool
	total int // 0 when unknown: a counter instead of a bar
	last  time.Time
	pct   int // the percentage last drawn, -1 before the first
}

// newProgress returns a progress bar on w for total items (0: unknown).
func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, on: isTerminal(w), total: total, pct: -1}
}

// start draws the bar before the first batch.
func (p *progress) start() {
	if p.on {
		p.last = time.Now()
		p.draw(0)
	}
}

// update shows done items after a batch: whenever the percentage moves,
// otherwise at most ten times a second.
func (p *progress) update(done int) {
	if !p.on || (p.percent(done) == p.pct && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	p.draw(done)
}

// percent is the percentage drawn for done items: floored, so 100 only
// when done reaches the total; 0 without a total.
func (p *progress) percent(done int) int {
	if p.total == 0 {
		return 0
	}
	return done * 100 / max(p.total, done)
}

func (p *progress) draw(done int) {
	const width = 30
	if p.total == 0 {
		fmt.Fprintf(p.w, "\r%d removed", done)
		return
	}
	p.pct = p.percent(done)
	p.total = max(p.total, done)
	n := done * width / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3d%%", strings.Repeat("#", n), strings.Repeat(".", width-n), done, p.total, p.pct)
}

// done draws the final state and ends the line.
func (p *progress) done(done int) {
	if !p.on {
		return
	}
	p.draw(done)
	fmt.Fprintln(p.w)
}
