//go:build windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/go-ole/go-ole"
	"github.com/go-ole/go-ole/oleutil"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// approvedKey is where Task Manager's Startup apps page records, under
// HKEY_CURRENT_USER, a Startup folder item the user turned off; the
// shortcut itself stays in the folder.
const approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\StartupFolder`

// Entry is a shortcut in the user's Startup folder, which Windows opens
// when this user logs in. The user can see it there, and remove it.
type Entry struct {
	Dir         string                 // the Startup folder; the user's own (FOLDERID_Startup) by default
	ApprovedKey string                 // Task Manager's on/off switches; approvedKey by default
	Name        string                 // the shortcut's name, without ".lnk"
	Exec        func() (string, error) // the program to start; os.Executable by default
}

// New returns the entry; configHome is unused on Windows, and the shortcut
// is named after the app, as the user sees it in the Startup folder.
func New(configHome, appID string) *Entry {
	dir, _ := windows.KnownFolderPath(windows.FOLDERID_Startup, 0)
	return &Entry{Dir: dir, ApprovedKey: approvedKey, Name: "Cashbell", Exec: os.Executable}
}

func (e *Entry) file() string { return e.Name + ".lnk" }

// Enabled reports whether Cashbell starts at login: the shortcut is there
// and Task Manager has not turned it off.
func (e *Entry) Enabled() bool {
	if e.Dir == "" {
		return false
	}
	if _, err := os.Stat(filepath.Join(e.Dir, e.file())); err != nil {
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
	b, _, err := k.GetBinaryValue(e.file())
	return err == nil && len(b) > 0 && b[0]&1 == 1
}

// Set writes or removes the shortcut. Writing it also clears Task Manager's
// switch, so that turning it on here turns it on.
func (e *Entry) Set(on bool) error {
	if e.Dir == "" {
		return errors.New("Windows did not say where this user's Startup folder is")
	}
	if err := deleteValue(e.ApprovedKey, e.file()); err != nil {
		return err
	}
	path := filepath.Join(e.Dir, e.file())
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	exe, err := e.Exec()
	if err != nil {
		return fmt.Errorf("finding Cashbell's program file: %w", err)
	}
	if err := os.MkdirAll(e.Dir, 0o700); err != nil {
		return err
	}
	return writeShortcut(path, exe)
}

// writeShortcut saves a .lnk at path that starts target, through the
// shell's own WScript.Shell object (COM without cgo, by go-ole), so that
// the file is whatever Explorer itself would write.
func writeShortcut(path, target string) (err error) {
	runtime.LockOSThread() // COM's apartment belongs to the thread
	defer runtime.UnlockOSThread()
	if err := ole.CoInitializeEx(0, ole.COINIT_APARTMENTTHREADED); err != nil {
		var oleErr *ole.OleError
		if !errors.As(err, &oleErr) || oleErr.Code() != 1 { // S_FALSE: already initialised here
			return fmt.Errorf("starting COM: %w", err)
		}
	}
	defer ole.CoUninitialize()
	unknown, err := oleutil.CreateObject("WScript.Shell")
	if err != nil {
		return fmt.Errorf("making a shortcut: %w", err)
	}
	defer unknown.Release()
	shell, err := unknown.QueryInterface(ole.IID_IDispatch)
	if err != nil {
		return fmt.Errorf("making a shortcut: %w", err)
	}
	defer shell.Release()
	made, err := oleutil.CallMethod(shell, "CreateShortcut", path)
	if err != nil {
		return fmt.Errorf("making a shortcut: %w", err)
	}
	link := made.ToIDispatch()
	defer link.Release()
	for _, p := range [][2]string{{"TargetPath", target}, {"WorkingDirectory", filepath.Dir(target)}, {"Description", "Cashbell: Stripe sales notifications"}} {
		if _, err := oleutil.PutProperty(link, p[0], p[1]); err != nil {
			return fmt.Errorf("making a shortcut (%s): %w", p[0], err)
		}
	}
	if _, err := oleutil.CallMethod(link, "Save"); err != nil {
		return fmt.Errorf("saving the shortcut in the Startup folder: %w", err)
	}
	return nil
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
