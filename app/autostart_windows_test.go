//go:build windows

package app

import (
	"path/filepath"
	"testing"

	winreg "golang.org/x/sys/windows/registry"

	"github.com/cashbell/cashbell/internal/autostart"
)

// testAutostart is a shortcut in the test's own folder, with Task Manager's
// switches under a scratch registry key, never the user's own.
func testAutostart(t testing.TB, dir string) *autostart.Entry {
	base := `Software\Cashbell\test\` + filepath.Base(dir)
	t.Cleanup(func() {
		for _, k := range []string{base + `\Approved`, base, `Software\Cashbell\test`} {
			_ = winreg.DeleteKey(winreg.CURRENT_USER, k)
		}
	})
	return &autostart.Entry{Dir: filepath.Join(dir, "Startup"), ApprovedKey: base + `\Approved`, Name: "Cashbell",
		Exec: func() (string, error) { return `C:\Windows\System32\notepad.exe`, nil }}
}
