//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package filestore

import "syscall"

// noFollow are the open(2) flags added to every open of a file in the
// store: O_NOFOLLOW, so that a symbolic link planted in the directory is
// never followed out of it, and O_NONBLOCK, so that a FIFO planted there
// cannot make the open hang (it has no effect on regular files).
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
