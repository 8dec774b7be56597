//go:build linux || freebsd || netbsd || openbsd

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Entry is an XDG autostart entry: a desktop file in
// $XDG_CONFIG_HOME/autostart that the session starts at login.
type Entry struct {
	Path string                 // …/autostart/io.cashbell.app.desktop
	Exec func() (string, error) // the program to start; os.Executable by default
}

// New returns the entry under configHome (XDG_CONFIG_HOME or ~/.config).
func New(configHome, appID string) *Entry {
	return &Entry{Path: filepath.Join(configHome, "autostart", appID+".desktop"), Exec: os.Executable}
}

// Enabled reports whether Cashbell starts at login.
func (e *Entry) Enabled() bool {
	_, err := os.Stat(e.Path)
	return err == nil
}

// Set writes or removes the entry.
func (e *Entry) Set(on bool) error {
	if !on {
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	exe, err := e.Exec()
	if err != nil {
		return fmt.Errorf("finding Cashbell's program file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(e.Path), 0o755); err != nil {
		return err
	}
	id := strings.TrimSuffix(filepath.Base(e.Path), ".desktop")
	entry := strings.Join([]string{
		"[Desktop Entry]",
		"Type=Application",
		"Name=Cashbell",
		"Comment=Rings when your Stripe accounts make money",
		"Exec=" + quoteExec(exe),
		"Icon=" + id,
		"Terminal=false",
		"X-GNOME-Autostart-enabled=true",
		"",
	}, "\n")
	return os.WriteFile(e.Path, []byte(entry), 0o644)
}

// quoteExec quotes a path for the Exec key of a desktop entry.
func quoteExec(p string) string {
	if !strings.ContainsAny(p, " \t\"'\\$`") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`)
	return `"` + r.Replace(p) + `"`
}
