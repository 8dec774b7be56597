//go:build windows

package store

import "golang.org/x/sys/windows"

// Windows reports a full or read-only disk with its own codes, which match
// none of the POSIX errnos (syscall.ENOSPC and the like are invented there).
var (
	noSpaceErrnos  = []error{windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL}
	readOnlyErrnos = []error{windows.ERROR_WRITE_PROTECT, windows.ERROR_ACCESS_DENIED}
)
