//go:build unix

package poller_test

import (
	"os"
	"syscall"
)

// diskUse is the disk space a file takes: bbolt's file has holes.
func diskUse(info os.FileInfo) int64 { return info.Sys().(*syscall.Stat_t).Blocks * 512 }
