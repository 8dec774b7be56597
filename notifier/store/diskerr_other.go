//go:build !windows

package store

// The POSIX errnos in settings.go are the whole list here.
var noSpaceErrnos, readOnlyErrnos []error
