//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package filestore

// noFollow is 0 where the syscall package has no O_NOFOLLOW; New refuses to
// run on these systems anyway (no flock), and opens are checked with Lstat.
const noFollow = 0
