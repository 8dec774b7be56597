package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
)

// desktop is a private X display and session bus for the real binary.
type desktop struct {
	env     []string
	bus     *dbus.Conn
	home    string
	addr    string
	watcher *fakeWatcher
	logs    *testproc.Buffer // what the last launched Cashbell wrote, for failures
	xvfb    int              // its process id
}

func need(t testing.TB, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make deps-test` (it installs xvfb, dbus and xdotool)", tool)
		}
	}
}

func startDesktop(t testing.TB) *desktop {
	t.Helper()
	need(t, "Xvfb", "dbus-daemon", "xdotool")
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	run := filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR=" + run, "LANG=en_US.UTF-8", "NO_AT_BRIDGE=1", "CASHBELL_KEYRING=file", "PATH=" + os.Getenv("PATH")}

	r, w, _ := os.Pipe()
	// -noreset: Xvfb otherwise resets when its last client leaves, and a
	// client connecting during the reset can be refused ("Failed to open
	// display"); the tray process holds no X connection, so that happens.
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// SIGTERM lets Xvfb remove its lock file and socket; a display number
	// left with stale ones is taken by the next test's Xvfb.
	t.Cleanup(func() { _ = testproc.Stop(t, x, syscall.SIGTERM, 3*time.Second) })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb gave no display: %v", err)
	}
	env = append(env, "DISPLAY=:"+strings.TrimSpace(line))
	xvfb := x.Process.Pid

	addr := "unix:path=" + filepath.Join(dir, "bus")
	b := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr)
	b.Env = env
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Process.Kill(); _ = b.Wait() })
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr)
	var conn *dbus.Conn
	for start := time.Now(); ; {
		if conn, err = dbus.Connect(addr); err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("session bus: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	d := &desktop{env: env, bus: conn, home: home, addr: addr, xvfb: xvfb}
	d.startWatcher(t)
	return d
}

// startDesktopWithoutTray is a desktop like GNOME without the AppIndicator
// extension: no StatusNotifierWatcher, so tray icons show nowhere.
func startDesktopWithoutTray(t testing.TB) *desktop {
	d := startDesktop(t)
	d.watcher.stop()
	return d
}

// fakeWatcher is a StatusNotifierWatcher, the service tray hosts run: it
// records the items that register with it.
type fakeWatcher struct {
	conn *dbus.Conn
	mu   sync.Mutex
	got  []string // the senders' unique names
}

func (w *fakeWatcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, string(sender))
	return nil
}

func (w *fakeWatcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (w *fakeWatcher) registered() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

func (w *fakeWatcher) stop() { w.conn.Close() }

// startWatcher runs a StatusNotifierWatcher on the desktop's bus, on a
// connection of its own so that it can go away.
func (d *desktop) startWatcher(t testing.TB) *fakeWatcher {
	t.Helper()
	conn, err := dbus.Connect(d.addr)
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWatcher{conn: conn}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the watcher's name: %v %v", reply, err)
	}
	t.Cleanup(func() { conn.Close() })
	d.watcher = w
	return w
}

func buildBinary(t testing.TB, flags ...string) string {
	t.Helper()
	key := strings.Join(flags, " ")
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[key]; ok {
		return bin
	}
	// Linking takes seconds even with a warm cache, so each binary is built
	// once per run; TestMain removes the folder.
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "cashbell-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir = dir
	}
	bin := filepath.Join(built.dir, fmt.Sprintf("cashbell-%d", len(built.bins)))
	if !slices.Contains(flags, "nogui") {
		flags = append([]string{"-tags", "migrated_fynedo"}, flags...) // as make build does
	}
	out, err := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	built.bins[key] = bin
	return bin
}

// built holds the binaries buildBinary made in this run.
var built = struct {
	sync.Mutex
	dir  string
	bins map[string]string
}{bins: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

type menuItem struct {
	id    int32
	label string
}

// trayMenu reads the tray menu of process pid over com.canonical.dbusmenu,
// waiting up to 10 s for it.
func (d *desktop) trayMenu(t testing.TB, pid int) []menuItem {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, err := d.readMenu(pid)
		if err == nil && len(items) > 0 {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tray menu from process %d: %v", pid, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readMenu reads the tray menu once.
func (d *desktop) readMenu(pid int) ([]menuItem, error) {
	name := "org.kde.StatusNotifierItem-" + itoa(pid) + "-1"
	var rev uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	err := d.bus.Object(name, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &layout)
	if err != nil {
		return nil, err
	}
	var items []menuItem
	var visit func(children []dbus.Variant)
	visit = func(children []dbus.Variant) {
		for _, c := range children {
			fields, ok := c.Value().([]any)
			if !ok || len(fields) != 3 {
				continue
			}
			id, _ := fields[0].(int32)
			props, _ := fields[1].(map[string]dbus.Variant)
			label, _ := props["label"].Value().(string)
			// dbusmenu doubles an underscore that is not an access key.
			items = append(items, menuItem{id, strings.ReplaceAll(label, "__", "_")})
			if kids, ok := fields[2].([]dbus.Variant); ok {
				visit(kids)
			}
		}
	}
	visit(layout.Children)
	return items, nil
}

// trayTooltip reads the title of the tray item's tooltip.
func (d *desktop) trayTooltip(t testing.TB, pid int) string {
	t.Helper()
	v, err := d.bus.Object("org.kde.StatusNotifierItem-"+itoa(pid)+"-1", "/StatusNotifierItem").
		GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil {
		t.Fatalf("tooltip: %v", err)
	}
	fields, ok := v.Value().([]any)
	if !ok || len(fields) != 4 {
		t.Fatalf("tooltip is not (sa(iiay)ss): %v", v)
	}
	title, _ := fields[2].(string)
	return title
}

// click reads the menu afresh (ids change when the menu is rebuilt) and clicks an item.
func (d *desktop) click(t testing.TB, pid int, label string) {
	t.Helper()
	// systray adds items one at a time, so a menu read early may not have
	// the item yet; and a menu rebuilt (new ids) as the click arrives drops
	// it, as it would a user's, so then the click is made again.
	var seen []menuItem
	clicked := int32(-1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if clicked < 0 {
			seen = d.trayMenu(t, pid)
		} else if items, err := d.readMenu(pid); err == nil && len(items) > 0 {
			seen = items
		} else {
			return // the app went away with the click (Quit)
		}
		id, found := int32(-1), false
		for _, it := range seen {
			if it.label == label {
				id, found = it.id, true
				break
			}
		}
		switch {
		case !found && clicked >= 0:
			return // the click took effect and its item went
		case !found:
			continue
		case id == clicked:
			return // the item the click went to is still there
		}
		call := d.bus.Object("org.kde.StatusNotifierItem-"+itoa(pid)+"-1", "/StatusNotifierMenu").
			Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(0))
		if call.Err != nil {
			if clicked >= 0 {
				return // the app went away with the click (Quit)
			}
			t.Fatalf("click %q: %v", label, call.Err)
		}
		clicked = id
		time.Sleep(100 * time.Millisecond)
	}
	if clicked < 0 {
		t.Fatalf("no menu item %q in %+v", label, seen)
	}
}

func (d *desktop) visible(name string) bool {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", name)
	cmd.Env = d.env
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out)) != ""
}

func (d *desktop) waitVisible(t testing.TB, name string, want bool) {
	t.Helper()
	// The UI process starts GL under Xvfb; a 10 s deadline was missed
	// once in CI, with the other packages' tests on both cores.
	deadline := time.Now().Add(30 * time.Second)
	for d.visible(name) != want {
		if time.Now().After(deadline) {
			logs := ""
			if d.logs != nil {
				logs = d.logs.String()
			}
			_, err := os.Stat(fmt.Sprintf("/proc/%d", d.xvfb))
			t.Fatalf("window %q visible=%v, want %v (Xvfb running: %v)\n%s", name, !want, want, err == nil, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// windowID finds a window by its title.
func (d *desktop) windowID(t testing.TB, name string) string {
	t.Helper()
	cmd := exec.Command("xdotool", "search", "--name", name)
	cmd.Env = d.env
	out, err := cmd.Output()
	if err != nil || len(strings.Fields(string(out))) == 0 {
		t.Fatalf("no window %q: %v", name, err)
	}
	return strings.Fields(string(out))[0]
}

func (d *desktop) xdotool(t testing.TB, args ...string) {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = d.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v %s", args, err, out)
	}
}

// addAccounts starts a simulator for the app, with n accounts of events
// each events old, and adds them through the CLI as a user would.
func (d *desktop) addAccounts(t testing.TB, n, events int) *fakestripe.Stripe {
	t.Helper()
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	d.env = append(d.env, "CASHBELL_API_BASE="+sim.URL)
	getenv := func(k string) string {
		for _, kv := range d.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	for i := range n {
		id := sim.CreateAccount(stripesim.AccountSpec{DisplayName: fmt.Sprintf("Shop %02d", i)})
		g := sim.Generator(id, false, uint64(i))
		for range events {
			g.Random()
		}
		key := sim.NewKey(id, false, stripesim.Restricted, stripesim.AllPermissions...)
		var errOut bytes.Buffer
		if code := cli.Main(context.Background(), cli.Env{Args: []string{"accounts", "add"}, Stdin: strings.NewReader(key),
			Stdout: &bytes.Buffer{}, Stderr: &errOut, Getenv: getenv}); code != 0 {
			t.Fatal(errOut.String())
		}
	}
	return sim
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// The real binary under Xvfb: the tray menu is read and clicked over D-Bus,
// Preferences opens from it, and Quit exits cleanly.
func TestTrayMenuOverDBus(t *testing.T) {
	d := startDesktop(t)
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = d.env
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := cmd.Process.Pid

	items := d.trayMenu(t, pid)
	var labels []string
	for _, it := range items {
		labels = append(labels, it.label)
	}
	joined := strings.Join(labels, "|")
	for _, want := range []string{"Today", "No accounts yet — add one in Preferences", "Pause notifications", "Activity…", "Preferences…", "Quit"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("menu lacks %q: %v", want, labels)
		}
	}
	// First launch without accounts opens Preferences; closing hides it.
	d.waitVisible(t, "Cashbell Preferences", true)
	d.xdotool(t, "windowunmap", d.windowID(t, "Cashbell Preferences"))
	d.waitVisible(t, "Cashbell Preferences", false)

	// A second launch brings the running instance's window forward and exits.
	second := exec.CommandContext(ctx, bin)
	second.Env = d.env
	out2, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out2), "already running") {
		t.Fatalf("second launch: %v\n%s", err, out2)
	}
	d.waitVisible(t, "Cashbell Preferences", true)
	d.xdotool(t, "windowunmap", d.windowID(t, "Cashbell Preferences"))
	d.waitVisible(t, "Cashbell Preferences", false)

	d.click(t, pid, "Preferences…")
	d.waitVisible(t, "Cashbell Preferences", true)
	d.click(t, pid, "Activity…")
	d.waitVisible(t, "Cashbell Activity", true)

	d.click(t, pid, "Quit")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after Quit: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after Quit\n%s", logs.String())
	}
}

// An app with accounts starts as a tray icon alone, with no Fyne driver in
// the tray process (see app/run_tray.go). Tray clicks must still open
// windows, and both Quit and SIGTERM must still end it cleanly.
func TestIdleAppWakesForTheTray(t *testing.T) {
	d := startDesktop(t)
	d.addAccounts(t, 1, 3)
	bin := buildBinary(t)
	start := func() (*exec.Cmd, chan error, *testproc.Buffer) {
		cmd := exec.Command(bin)
		cmd.Env = d.env
		logs := &testproc.Buffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d.logs = logs
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done, logs
	}
	exited := func(done chan error, logs *testproc.Buffer, what string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after %s: %v\n%s", what, err, logs.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("still running 10s after %s\n%s", what, logs.String())
		}
	}
	hasLabel := func(pid int, prefix string) bool {
		for _, it := range d.trayMenu(t, pid) {
			if strings.HasPrefix(it.label, prefix) {
				return true
			}
		}
		return false
	}
	waitLabel := func(pid int, prefix string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !hasLabel(pid, prefix); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("tray menu never showed %q: %v", prefix, d.trayMenu(t, pid))
			}
		}
	}

	cmd, done, logs := start()
	waitLabel(cmd.Process.Pid, "Shop 00")
	// The tray app holds the store; the commands go through it.
	for _, args := range [][]string{{"events", "--limit", "2"}, {"accounts", "list"}} {
		c := exec.Command(bin, args...)
		c.Env = d.env
		out, err := c.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Shop 00") && !strings.Contains(string(out), "acct_") {
			t.Fatalf("cashbell %s while the tray app runs: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	time.Sleep(500 * time.Millisecond) // long enough for the loop to park
	if d.visible("Cashbell Preferences") {
		t.Fatal("Preferences opened at start although an account exists")
	}
	d.click(t, cmd.Process.Pid, "For 1 hour")
	waitLabel(cmd.Process.Pid, "Notifications paused until")
	if tip := d.trayTooltip(t, cmd.Process.Pid); !strings.HasPrefix(tip, "Cashbell: notifications paused until") {
		t.Errorf("tray tooltip %q, want it to say notifications are paused", tip)
	}
	d.click(t, cmd.Process.Pid, "Preferences…")
	d.waitVisible(t, "Cashbell Preferences", true)
	d.click(t, cmd.Process.Pid, "Quit")
	exited(done, logs, "Quit")

	cmd, done, logs = start()
	waitLabel(cmd.Process.Pid, "Notifications paused until")
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited(done, logs, "SIGTERM")
}

// Without a session bus there is no tray to reach Cashbell from: it says so,
// keeps Preferences open, and still quits cleanly.
func TestWithoutASessionBusPreferencesStaysOpen(t *testing.T) {
	d := startDesktop(t)
	d.addAccounts(t, 1, 1) // with an account, only the missing tray opens Preferences
	bin := buildBinary(t)
	var env []string
	for _, kv := range d.env {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = append(env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	d.waitVisible(t, "Cashbell Preferences", true)
	if err := testproc.Stop(t, cmd, syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("exit without a bus: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "no tray icon; Preferences stays open instead") {
		t.Errorf("no word about the missing tray:\n%s", logs.String())
	}
}

// A new user's first demo sale rings at once, not at the demo's next tick
// and the poller's after it (15 s by default): the demo account's first
// import is silent, and the sale follows it.
func TestTheFirstDemoSaleRingsAtOnce(t *testing.T) {
	d := startDesktop(t)
	var addr string
	for _, kv := range d.env {
		if v, ok := strings.CutPrefix(kv, "DBUS_SESSION_BUS_ADDRESS="); ok {
			addr = v
		}
	}
	notes, err := testbus.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer notes.Close()
	bin := buildBinary(t)
	start := time.Now()
	_, logs := d.launch(t, bin, d.env, "--demo")
	got := notes.WaitFor(1, 10*time.Second)
	if len(got) == 0 || !strings.HasPrefix(got[0].Summary, "New sale · ") || !strings.HasSuffix(got[0].Summary, " — Demo Shop") {
		t.Fatalf("no demo sale within 10 s: %+v\n%s", got, logs.String())
	}
	t.Logf("the first demo sale rang %v after start", time.Since(start).Round(10*time.Millisecond))
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("the first demo sale took %v", took)
	}
}

// Under the C locale (C.UTF-8 is the default of many services and
// containers), or with no locale at all, Cashbell starts in English without
// Fyne's locale complaint.
func TestTheCLocaleStartsQuietly(t *testing.T) {
	d := startDesktop(t)
	d.addAccounts(t, 1, 1) // a tray alone: Fyne's init runs in every process of this binary
	var env []string
	for _, kv := range d.env {
		name, _, _ := strings.Cut(kv, "=")
		if name != "LANG" && name != "LANGUAGE" && !strings.HasPrefix(name, "LC_") {
			env = append(env, kv)
		}
	}
	for _, locale := range [][]string{{"LANG=C"}, {"LANG=C.UTF-8"}, {"LC_ALL=POSIX"}, nil} {
		t.Run(cmp.Or(strings.Join(locale, ""), "none"), func(t *testing.T) {
			cmd, logs := d.launch(t, buildBinary(t), append(slices.Clone(env), locale...))
			d.trayMenu(t, cmd.Process.Pid) // up and running, past Fyne's start
			if strings.Contains(logs.String(), "locale") {
				t.Fatalf("a locale complaint:\n%s", logs.String())
			}
		})
	}
}

// On a desktop without a tray host (GNOME without the AppIndicator
// extension) Cashbell opens Preferences, which says what to install, and
// logs it once; when a host appears later the item registers with it.
func TestWithoutATrayHostPreferencesSaysWhatToDo(t *testing.T) {
	d := startDesktopWithoutTray(t)
	d.addAccounts(t, 1, 1) // with an account, only the missing tray opens Preferences
	_, logs := d.launch(t, buildBinary(t), d.env)
	d.waitVisible(t, "Cashbell Preferences", true)
	if n := strings.Count(logs.String(), "no tray host"); n != 1 {
		t.Fatalf("told %d times that there is no tray host:\n%s", n, logs.String())
	}
	w := d.startWatcher(t)
	for deadline := time.Now().Add(10 * time.Second); len(w.registered()) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the item never registered with the new watcher\n%s", logs.String())
		}
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "a tray host appeared"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher's arrival went unnoticed\n%s", logs.String())
		}
	}
}

// Windows are drawn by a process of their own that ends soon after the
// last window closes (its GL driver and font caches go with it), and the
// next click starts another.
func TestTheWindowsProcessEndsWithTheLastWindow(t *testing.T) {
	d := startDesktop(t)
	d.addAccounts(t, 1, 1)
	cmd, logs := d.launch(t, buildBinary(t), d.env)
	children := func() []string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		return strings.Fields(string(b))
	}
	d.click(t, cmd.Process.Pid, "Preferences…")
	d.waitVisible(t, "Cashbell Preferences", true)
	first := children()
	if len(first) != 1 {
		t.Fatalf("%d child processes with Preferences open, want the UI process", len(first))
	}
	d.xdotool(t, "windowfocus", "--sync", d.windowID(t, "Cashbell Preferences"))
	d.xdotool(t, "key", "ctrl+w")
	d.waitVisible(t, "Cashbell Preferences", false)
	for deadline := time.Now().Add(15 * time.Second); len(children()) > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the UI process still runs 15 s after its last window closed\n%s", logs.String())
		}
	}
	d.click(t, cmd.Process.Pid, "Activity…")
	d.waitVisible(t, "Cashbell Activity", true)
	if again := children(); len(again) != 1 || again[0] == first[0] {
		t.Fatalf("child processes %v after %v ended, want a new UI process", again, first)
	}
}

// A tray host that goes away (the AppIndicator extension turned off, the
// panel restarting for good) leaves no icon, so Preferences opens and says
// so, once.
func TestATrayHostThatGoesAwayOpensPreferences(t *testing.T) {
	d := startDesktop(t)
	d.addAccounts(t, 1, 1)
	cmd, logs := d.launch(t, buildBinary(t), d.env)
	d.trayMenu(t, cmd.Process.Pid)
	if d.visible("Cashbell Preferences") {
		t.Fatal("Preferences opened while the tray icon was shown")
	}
	// A panel that restarts is back in a moment: no window, nothing said.
	d.watcher.conn.Close()
	time.Sleep(500 * time.Millisecond)
	d.startWatcher(t)
	time.Sleep(2500 * time.Millisecond) // past the grace a host has to come back
	if d.visible("Cashbell Preferences") || strings.Contains(logs.String(), "no tray host") {
		t.Fatalf("a tray host that came back within the grace opened Preferences\n%s", logs.String())
	}
	d.watcher.conn.Close()
	d.waitVisible(t, "Cashbell Preferences", true)
	if n := strings.Count(logs.String(), "no tray host"); n != 1 {
		t.Fatalf("told %d times that there is no tray host:\n%s", n, logs.String())
	}
}

// launch starts the binary on the desktop; it is stopped with SIGTERM, and
// must stop, when the test ends. Its stderr is in the returned buffer.
func (d *desktop) launch(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, *testproc.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	logs := &testproc.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.logs = logs
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		testproc.Within(t, done, 10*time.Second, "cashbell stopping")
	})
	return cmd, logs
}

// The real binary, its tray read over com.canonical.dbusmenu while events
// stream in: the Pause submenu keeps its id and its three items, as the
// host's open menu needs (a menu built again under it showed it empty).
func TestPauseSubmenuWhileEventsArrive(t *testing.T) {
	d := startDesktop(t)
	sim := d.addAccounts(t, 2, 1)
	bin := buildBinary(t)
	cmd := exec.Command(bin)
	cmd.Env = d.env
	logs := &testproc.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	pauseID := func() int32 {
		for _, it := range d.trayMenu(t, pid) {
			if it.label == "Pause notifications" {
				return it.id
			}
		}
		return -1
	}
	children := func(id int32) int {
		var rev uint32
		var layout struct {
			ID       int32
			Props    map[string]dbus.Variant
			Children []dbus.Variant
		}
		name := "org.kde.StatusNotifierItem-" + itoa(pid) + "-1"
		if err := d.bus.Object(name, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.GetLayout", 0, id, int32(-1), []string{}).Store(&rev, &layout); err != nil {
			return -1
		}
		return len(layout.Children)
	}
	// Past the first imports, the menu settles into its shape.
	time.Sleep(3 * time.Second)
	id := pauseID()
	if id < 0 || children(id) != 3 {
		t.Fatalf("pause item %d with %d children\n%s", id, children(id), logs.String())
	}
	ids := sim.AccountIDs()
	for i := range 20 {
		g := sim.Generator(ids[i%len(ids)], false, uint64(100+i))
		if i%4 == 3 {
			g.FailedCharge(g.RandomSale(), "Your card was declined.")
		} else {
			g.Sale(g.RandomSale())
		}
		poll := exec.Command(bin, "check-now") // the running Cashbell polls now
		poll.Env = d.env
		if out, err := poll.CombinedOutput(); err != nil {
			t.Fatalf("check-now: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond) // the tray's menu follows
		if n := children(id); n != 3 {
			t.Fatalf("after %d events the pause submenu (id %d) has %d items; the menu's pause item is now %d", i+1, id, n, pauseID())
		}
	}
	if got := pauseID(); got != id {
		t.Fatalf("the menu was built again: the pause item went from id %d to %d", id, got)
	}
}
