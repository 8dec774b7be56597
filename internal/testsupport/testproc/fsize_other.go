//go:build !unix

package testproc

import (
	"errors"
	"runtime"
)

// limitFileSize would cap the size of files this process may write; only
// Unix has RLIMIT_FSIZE.
func limitFileSize(uint64) error {
	return errors.New("no RLIMIT_FSIZE on " + runtime.GOOS)
}
