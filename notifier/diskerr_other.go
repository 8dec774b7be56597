//go:build !windows

package notifier

// The POSIX errnos in settings.go are the whole list here.
var noSpaceErrnos, readOnlyErrnos []error
