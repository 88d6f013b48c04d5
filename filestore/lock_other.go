//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package filestore

import (
	"errors"
	"os"
)

// haveFlock is false where the syscall package has no flock(2): New refuses
// to run rather than give up the cross-process compare-and-set silently.
const haveFlock = false

func tryLockFile(*os.File) (bool, error) {
	return false, errors.New("flock is not available on this system")
}
