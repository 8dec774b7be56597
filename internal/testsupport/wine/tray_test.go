//go:build linux

package wine_test

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/notifier/store"
)

// display starts Xvfb for Wine to draw on and returns its DISPLAY.
func display(t *testing.T) string {
	t.Helper()
	r, w, _ := os.Pipe()
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatalf("Xvfb: %v (make deps-test installs it)", err)
	}
	w.Close()
	t.Cleanup(func() { _ = testproc.Stop(t, x, syscall.SIGTERM, 3*time.Second) })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb gave no display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// xwindow is a mapped X window: its id and where it is on the screen.
type xwindow struct {
	id         string
	x, y, w, h int
}

// windows lists the mapped windows whose name contains name, through
// xdotool.
func (w *windows) xwindows(name string) []xwindow {
	out, _ := w.x("search", "--onlyvisible", "--name", name)
	var found []xwindow
	for _, id := range strings.Fields(out) {
		geo, _ := w.x("getwindowgeometry", "--shell", id)
		v := map[string]int{}
		for _, kv := range strings.Fields(geo) {
			k, val, _ := strings.Cut(kv, "=")
			v[k], _ = strconv.Atoi(val)
		}
		found = append(found, xwindow{id, v["X"], v["Y"], v["WIDTH"], v["HEIGHT"]})
	}
	return found
}

func (w *windows) x(args ...string) (string, error) {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = w.env
	out, err := cmd.Output()
	return string(out), err
}

// waitWindow waits for a mapped window whose name contains name.
func (w *windows) waitWindow(name string, d time.Duration, logs *testproc.Buffer) xwindow {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, win := range w.xwindows(name) {
			if win.w > 1 && win.h > 1 {
				return win
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no window %q within %s\n%s", name, d, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shot is a window's picture, as a person would see it.
func (w *windows) shot(win xwindow) image.Image {
	w.t.Helper()
	cmd := exec.Command("import", "-window", win.id, "png:-")
	cmd.Env = w.env
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("screenshot of %s: %v", win.id, err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		w.t.Fatal(err)
	}
	return img
}

// menuItem opens the tray icon's menu with a right click and clicks the
// item fromBottom pixels above the menu's bottom edge.
func (w *windows) menuItem(sysTray xwindow, fromBottom int, logs *testproc.Buffer) {
	w.t.Helper()
	before := map[string]bool{}
	for _, win := range w.xwindows("") {
		before[win.id] = true
	}
	if _, err := w.x("mousemove", strconv.Itoa(sysTray.x+9), strconv.Itoa(sysTray.y+9), "click", "3"); err != nil {
		w.t.Fatal(err)
	}
	var menu xwindow
	for deadline := time.Now().Add(10 * time.Second); menu.id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, win := range w.xwindows("") {
			if !before[win.id] && win.w > 50 && win.h > 50 {
				menu = win
			}
		}
	}
	if menu.id == "" {
		w.t.Fatalf("the tray's menu did not open\n%s", logs.String())
	}
	if _, err := w.x("mousemove", strconv.Itoa(menu.x+30), strconv.Itoa(menu.y+menu.h-fromBottom), "click", "1"); err != nil {
		w.t.Fatal(err)
	}
}

// colours counts the distinct colours of an image: a window that drew
// nothing has one or two.
func colours(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	return len(seen)
}

// The tray app on Windows, under Wine's system tray on Xvfb: its icon
// shows, commands reach it through its named pipe while it runs, a second
// cashbell.exe hands it the window instead of starting twice, Preferences
// draws (Fyne over Wine's OpenGL on Mesa), and Quit from its menu ends it
// with exit code 0, the store closed and whole.
func TestTheTrayUnderWine(t *testing.T) {
	w := newWindows(t)
	w.env = append(w.env, "DISPLAY="+display(t), "CASHBELL_VERBOSE=1")
	acct := w.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Tray Shop"})
	key := w.sim.NewKey(acct, true, stripesim.Restricted, stripesim.AllPermissions...)
	w.sim.Generator(acct, true, 3).Sale(stripesim.Sale{Amount: 2500, Currency: "usd", Email: "ana@example.com"})
	if code, out, errOut := w.run(key, "accounts", "add"); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	id := acct + "-live"

	logs := &testproc.Buffer{}
	tray := w.command("cashbell.exe")
	tray.Stdout, tray.Stderr = logs, logs
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tray.Wait() }()
	defer func() {
		if tray.ProcessState == nil {
			_ = tray.Process.Kill()
		}
	}()
	testproc.WaitFor(t, logs, "first import", 60*time.Second)
	sysTray := w.waitWindow("Wine System Tray", 30*time.Second, logs)
	if n := colours(w.shot(sysTray)); n < 4 {
		t.Fatalf("the tray shows no icon (%d colours)\n%s", n, logs.String())
	}

	// While it runs, commands are served by it through its named pipe.
	if code, out, errOut := w.run("", "accounts", "list"); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("accounts list while the tray runs: exit %d\n%s%s", code, out, errOut)
	}
	// Preferences from the tray's menu (a right click on the icon; the item
	// two above Quit, past a separator), drawn by the UI process,
	// which reaches the tray through the pipe.
	w.menuItem(sysTray, 37, logs)
	prefs := w.waitWindow("Cashbell Preferences", 60*time.Second, logs)
	if n := colours(w.shot(prefs)); n < 8 {
		t.Fatalf("Preferences drew nothing (%d colours)\n%s", n, logs.String())
	}
	// Wine's tray is at the top left, where Preferences opened over it:
	// with no window manager, the test moves it aside.
	if _, err := w.x("windowmove", prefs.id, "300", "200"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// A second launch hands over and ends.
	second := w.command("cashbell.exe")
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running; its window was brought forward") {
		t.Fatalf("second launch: %v\n%s", err, out)
	}
	if !strings.Contains(logs.String(), "kind=prefs") {
		t.Fatalf("the UI process got no Preferences command:\n%s", logs.String())
	}
	// Quit, the menu's last item.
	w.menuItem(sysTray, 10, logs)
	if err := testproc.Within(t, done, 30*time.Second, "Cashbell quitting from its menu"); err != nil || tray.ProcessState.ExitCode() != 0 {
		t.Fatalf("Quit: %v (exit %d)\n%s", err, tray.ProcessState.ExitCode(), logs.String())
	}
	// The store was closed whole: it opens at once, with the account and
	// its sale.
	store, err := store.Open(filepath.Join(appData(t), "cashbell.db"), store.OpenOptions{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the store after Quit: %v", err)
	}
	n, err := store.Count(context.Background(), id)
	store.Close()
	if err != nil || n == 0 {
		t.Fatalf("the store after Quit holds %d events of %s: %v", n, id, err)
	}
	if code, out, errOut := w.run("", "accounts", "remove", id); code != 0 {
		t.Fatalf("remove: exit %d\n%s%s", code, out, errOut)
	}
}
