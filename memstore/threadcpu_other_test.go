//go:build !linux

package memstore

import "time"

// threadCPU returns 0: the thread's CPU clock is read on Linux only.
func threadCPU() time.Duration { return 0 }
