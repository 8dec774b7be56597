//go:build !unix

package poller_test

import "os"

// diskUse is the file's length where blocks are not reported.
func diskUse(info os.FileInfo) int64 { return info.Size() }
