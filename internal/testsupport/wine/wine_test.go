//go:build linux

package wine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/notifier"
)

const wine64 = "/usr/lib/wine/wine64"

// prefix is the Wine prefix of this run, made once by TestMain.
var prefix, bin string

func TestMain(m *testing.M) {
	bin = os.Getenv("CASHBELL_WINE_BIN")
	if bin == "" {
		fmt.Println("wine tests: set CASHBELL_WINE_BIN to the folder of cashbell.exe (make test-windows)")
		os.Exit(m.Run()) // each test skips
	}
	dir, err := os.MkdirTemp("", "cashbell-wine-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	prefix = filepath.Join(dir, "prefix")
	// The prefix lives on the Linux side and is removed from there: under
	// Wine 8, os.RemoveAll of a folder with files fails.
	out, err := exec.Command("bash", "../../../scripts/wine/prefix.sh", prefix).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "making a Wine prefix: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = exec.Command("/usr/lib/wine/wineserver", "-k").Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// windows is a Windows user's machine: the prefix, the simulator, and the
// binaries.
type windows struct {
	t   *testing.T
	sim *fakestripe.Stripe
	env []string
}

func newWindows(t *testing.T) *windows {
	if bin == "" {
		t.Skip("set CASHBELL_WINE_BIN (make test-windows)")
	}
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	return &windows{t: t, sim: sim, env: append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all",
		"CASHBELL_API_BASE="+sim.URL)}
}

// command is exe (cashbell-cli.exe or cashbell.exe) under Wine.
func (w *windows) command(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(wine64, append([]string{filepath.Join(bin, exe)}, args...)...)
	cmd.Env = w.env
	return cmd
}

// run runs the command line to its end.
func (w *windows) run(stdin string, args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	cmd := w.command("cashbell-cli.exe", args...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	err := testproc.Within(w.t, done, time.Minute, "cashbell-cli.exe "+strings.Join(args, " "))
	if err != nil && cmd.ProcessState == nil {
		w.t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// appData is the folder Cashbell keeps its files in on Windows.
func appData(t *testing.T) string {
	t.Helper()
	users, _ := filepath.Glob(filepath.Join(prefix, "drive_c", "users", "*", "AppData", "Roaming"))
	for _, u := range users {
		if !strings.Contains(u, "Public") {
			return filepath.Join(u, "Cashbell")
		}
	}
	t.Fatalf("no user folder in %s", prefix)
	return ""
}

type eventRow struct {
	ID, Account, Type, Notified string
}

// The command line on Windows: a key checked and added (kept in the
// Credential Manager, which Wine keeps in its registry, never in a file in
// the clear), accounts listed, sales polled by the headless runner and read
// through the running instance's named pipe, a hard kill and a restart
// that lose and repeat nothing, and the account removed.
func TestTheCommandLineUnderWine(t *testing.T) {
	w := newWindows(t)
	acct := w.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme Windows"})
	key := w.sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	gen := w.sim.Generator(acct, false, 7)

	code, out, errOut := w.run(key, "accounts", "check")
	if code != 0 || !strings.Contains(out, "Events (rak_event_read)") || !strings.Contains(out, "granted") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = w.run(key, "accounts", "add")
	id := acct + "-test"
	if code != 0 || !strings.Contains(out, "Added Acme Windows") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))
	code, out, _ = w.run("", "accounts", "list", "--json")
	var list []struct {
		ID         string `json:"id"`
		KeyStorage string `json:"key_storage"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("list: exit %d %v\n%s", code, err, out)
	}
	list = slices.DeleteFunc(list, func(a struct {
		ID         string `json:"id"`
		KeyStorage string `json:"key_storage"`
	}) bool {
		return a.ID != id
	})
	if len(list) != 1 {
		t.Fatalf("%s is not listed:\n%s", id, out)
	}
	// Where Windows keeps things: the store in %APPDATA%\Cashbell, the key
	// in the Credential Manager (Wine's is in the registry, encrypted) or,
	// where it refuses, keys.json; in the clear nowhere.
	dir := appData(t)
	if _, err := os.Stat(filepath.Join(dir, "cashbell.db")); err != nil {
		t.Fatalf("no store where Windows keeps it: %v", err)
	}
	query := exec.Command(wine64, "reg", "query", `HKCU\Software\Wine\Credential Manager`)
	query.Env = w.env
	reg, _ := query.Output()
	inCredMan := strings.Contains(string(reg), `Generic: Cashbell:`+id)

	_, fileErr := os.Stat(filepath.Join(dir, "keys.json"))
	if inCredMan == (fileErr == nil) || inCredMan != (list[0].KeyStorage == "keyring") {
		t.Fatalf("key in the Credential Manager %v, in keys.json %v, listed as %q", inCredMan, fileErr == nil, list[0].KeyStorage)
	}

	// Polling headless; the commands reach it through its named pipe.
	start := func() (*exec.Cmd, *testproc.Buffer, chan error) {
		logs := &testproc.Buffer{}
		cmd := w.command("cashbell-cli.exe", "run", "--headless", "--interval", "200ms")
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, logs, done
	}
	events := func() []eventRow {
		t.Helper()
		code, out, errOut := w.run("", "events", "--json", "--limit", "1000")
		var rows []eventRow
		if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
			t.Fatalf("events: exit %d %v\n%s%s", code, err, out, errOut)
		}
		return rows
	}
	waitEvents := func(want int, logs *testproc.Buffer) []eventRow {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows := events()
			told := !slices.ContainsFunc(rows, func(r eventRow) bool { return r.Notified == "pending" })
			if len(rows) >= want && told {
				return rows
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events stored\n%s", len(rows), want, logs.String())
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	cmd, logs, done := start()
	testproc.WaitFor(t, logs, "first import", 30*time.Second)
	for range 4 {
		gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com"})
	}
	listed := func() int { return len(w.sim.EventIDs(acct, false, notifier.ListedTypes()...)) }
	waitEvents(listed(), logs)
	if code, out, _ := w.run("", "check-now", "--account", id); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("check-now through the pipe: exit %d\n%s", code, out)
	}
	// Killed hard; sales go on meanwhile; started again.
	_ = cmd.Process.Signal(syscall.SIGKILL)
	testproc.Within(t, done, 10*time.Second, "the killed Cashbell ending")
	for range 3 {
		gen.Sale(stripesim.Sale{Amount: 1200, Currency: "eur", Email: "li@example.com"})
	}
	cmd, logs, done = start()
	testproc.WaitFor(t, logs, "cashbell running headless", 30*time.Second)
	rows := waitEvents(listed(), logs)
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.ID] {
			t.Fatalf("%s stored twice", r.ID)
		}
		seen[r.ID] = true
		if r.Notified == "pending" {
			t.Errorf("%s (%s) still waits to be told", r.ID, r.Type)
		}
	}
	for _, e := range w.sim.EventIDs(acct, false, notifier.ListedTypes()...) {
		if !seen[e] {
			t.Errorf("%s was lost", e)
		}
	}
	// Wine has no Windows Runtime for toasts: said once, and harmless
	// (every event above was stored and marked).
	testproc.WaitFor(t, logs, "notifications cannot be shown", 30*time.Second)
	if n := strings.Count(logs.String(), "notifications cannot be shown"); n != 1 {
		t.Errorf("the failing notifications were said %d times:\n%s", n, logs.String())
	}
	if code, out, errOut := w.run("", "accounts", "remove", id); code != 0 {
		t.Fatalf("remove through the pipe: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := w.run("", "accounts", "list"); code != 0 || strings.Contains(out, id) {
		t.Fatalf("after remove: exit %d\n%s", code, out)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	testproc.Within(t, done, 10*time.Second, "Cashbell ending")
	// Once Wine has written its registry out, the key is in the clear in
	// no file of the prefix's registry or of Cashbell's folder.
	flush := exec.Command("/usr/lib/wine/wineserver", "-k")
	flush.Env = w.env
	_ = flush.Run()
	secret := key[len(key)-20:]
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range append(files, filepath.Join(prefix, "user.reg"), filepath.Join(prefix, "system.reg")) {
		if data, _ := os.ReadFile(f); bytes.Contains(data, []byte(secret)) && !strings.HasSuffix(f, "keys.json") {
			t.Fatalf("the key is in the clear in %s", f)
		}
	}
}
