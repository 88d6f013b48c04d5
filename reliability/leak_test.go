package reliability_test

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goroutines returns the stacks of all goroutines by ID.
func goroutines() map[int]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[int]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		// "goroutine 123 [running]:\n..."
		head, _, _ := strings.Cut(string(g), " [")
		id, err := strconv.Atoi(strings.TrimPrefix(head, "goroutine "))
		if err == nil {
			out[id] = string(g)
		}
	}
	return out
}

// leakCheck remembers the goroutines alive now; its check reports the
// goroutines started since that are still alive, after waiting up to wait
// for them to end (connections closing, pools winding down).
type leakCheck struct{ before map[int]string }

func startLeakCheck() leakCheck { return leakCheck{before: goroutines()} }

// leaked returns the stacks of goroutines started since startLeakCheck that
// are alive after at most wait.
func (l leakCheck) leaked(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var extra []string
		for id, stack := range goroutines() {
			if _, ok := l.before[id]; ok || ignorable(stack) {
				continue
			}
			extra = append(extra, stack)
		}
		if len(extra) == 0 || time.Now().After(deadline) {
			return extra
		}
		time.Sleep(20 * time.Millisecond) // poll: goroutines end asynchronously
	}
}

// ignorable reports the goroutine calling goroutines(), the only one
// running.
func ignorable(stack string) bool {
	first, _, _ := strings.Cut(stack, "\n")
	return strings.Contains(first, "[running]")
}

// check fails t for goroutines that outlive the test's resources.
func (l leakCheck) check(t *testing.T, wait time.Duration) int {
	t.Helper()
	extra := l.leaked(wait)
	if len(extra) > 0 {
		n := min(len(extra), 5)
		t.Errorf("%d goroutines leaked (alive %v after everything was closed); %d of them:\n%s",
			len(extra), wait, n, strings.Join(extra[:n], "\n\n"))
	}
	return len(extra)
}
