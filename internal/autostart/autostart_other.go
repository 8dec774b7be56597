//go:build !(linux || freebsd || netbsd || openbsd || windows)

package autostart

import "errors"

// Entry would start Cashbell at login; this platform has no support yet.
type Entry struct{}

// New returns the entry.
func New(configHome, appID string) *Entry { return &Entry{} }

// Enabled reports whether Cashbell starts at login.
func (e *Entry) Enabled() bool { return false }

// Set would write or remove the entry.
func (e *Entry) Set(on bool) error {
	return errors.New("start at login is not available on this system yet; add Cashbell to your login items by hand")
}
