//go:build unix

package testproc

import (
	"os/signal"
	"syscall"
)

// limitFileSize caps the size of files this process may write
// (RLIMIT_FSIZE); a write past it fails with EFBIG instead of SIGXFSZ.
func limitFileSize(n uint64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}
