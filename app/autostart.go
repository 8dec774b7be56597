package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cashbell/cashbell/internal/cli"
)

// autostart manages the XDG autostart entry that starts Cashbell at login.
type autostart struct {
	path string // ~/.config/autostart/io.cashbell.app.desktop
	exec func() (string, error)
}

func newAutostart() *autostart {
	return &autostart{path: filepath.Join(cli.ConfigHome(os.Getenv), "autostart", ID+".desktop"), exec: os.Executable}
}

func (a *autostart) enabled() bool {
	_, err := os.Stat(a.path)
	return err == nil
}

func (a *autostart) set(on bool) error {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return errors.New("start at login is only available on Linux for now; add Cashbell to your login items by hand")
	}
	if !on {
		if err := os.Remove(a.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	exe, err := a.exec()
	if err != nil {
		return fmt.Errorf("finding Cashbell's program file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o755); err != nil {
		return err
	}
	entry := strings.Join([]string{
		"[Desktop Entry]",
		"Type=Application",
		"Name=Cashbell",
		"Comment=Rings when your Stripe accounts make money",
		"Exec=" + quoteExec(exe),
		"Icon=" + ID,
		"Terminal=false",
		"X-GNOME-Autostart-enabled=true",
		"",
	}, "\n")
	return os.WriteFile(a.path, []byte(entry), 0o644)
}

// quoteExec quotes a path for the Exec key of a desktop entry.
func quoteExec(p string) string {
	if !strings.ContainsAny(p, " \t\"'\\$`") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`)
	return `"` + r.Replace(p) + `"`
}
