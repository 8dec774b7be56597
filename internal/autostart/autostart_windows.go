//go:build windows

package autostart

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows/registry"
)

const (
	// runKey lists, under HKEY_CURRENT_USER, the programs Windows starts
	// when this user logs in.
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey is where Task Manager's Startup apps page records an entry
	// the user turned off; the Run value itself stays.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Entry is a value in HKCU\…\CurrentVersion\Run whose data is the command
// line Windows runs at login.
type Entry struct {
	Key         string                 // under HKEY_CURRENT_USER; runKey by default
	ApprovedKey string                 // Task Manager's on/off switches; approvedKey by default
	Name        string                 // the value's name: the app ID
	Exec        func() (string, error) // the program to start; os.Executable by default
}

// New returns the entry; configHome is unused on Windows.
func New(configHome, appID string) *Entry {
	return &Entry{Key: runKey, ApprovedKey: approvedKey, Name: appID, Exec: os.Executable}
}

// Enabled reports whether Cashbell starts at login: the Run value is there
// and Task Manager has not turned it off.
func (e *Entry) Enabled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, e.Key, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(e.Name); err != nil {
		return false
	}
	return !e.turnedOff()
}

// turnedOff tells an entry switched off in Task Manager: its StartupApproved
// value starts with an odd byte (02 on, 03 off).
func (e *Entry) turnedOff() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, e.ApprovedKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(e.Name)
	return err == nil && len(b) > 0 && b[0]&1 == 1
}

// Set writes or removes the entry. Writing it also clears Task Manager's
// switch, so that turning it on here turns it on.
func (e *Entry) Set(on bool) error {
	if err := deleteValue(e.ApprovedKey, e.Name); err != nil {
		return err
	}
	if !on {
		return deleteValue(e.Key, e.Name)
	}
	exe, err := e.Exec()
	if err != nil {
		return fmt.Errorf("finding Cashbell's program file: %w", err)
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, e.Key, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	// A Windows path cannot hold a quote, so quoting it is enough.
	return k.SetStringValue(e.Name, `"`+exe+`"`)
}

// deleteValue removes a value, and is content when it or its key is absent.
func deleteValue(key, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
