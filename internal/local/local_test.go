//go:build unix

package local_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier/store"
)

// The helper modes of this test binary, run as another process (and, as
// root, as another user).
const envHelper = "CASHBELL_LOCAL_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(envHelper) {
	case "":
		os.Exit(m.Run())
	case "listen": // a squatter: listen, and say how many bytes anyone sent
		l, err := net.Listen("unix", os.Getenv("SOCK"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		os.Chmod(os.Getenv("SOCK"), 0o777)
		fmt.Println("listening")
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		fmt.Println("got", n)
		os.Exit(0)
	case "call": // a client: say whether the server answered
		_, err := local.NewClient(local.DialPath(os.Getenv("SOCK"))).RunCLI(context.Background(), local.CLIRequest{Args: []string{"x"}})
		fmt.Println("call:", err)
		os.Exit(0)
	case "serve": // a server that may open few files
		var lim syscall.Rlimit
		n, _ := strconv.ParseUint(os.Getenv("NOFILE"), 10, 64)
		lim.Cur, lim.Max = n, n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(1)
		}
		l, err := local.Listen(os.Getenv("SOCK"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		local.Serve(l, local.Backend{CLI: func(context.Context, local.CLIRequest) local.CLIReply {
			return local.CLIReply{Stdout: "served"}
		}})
		fmt.Println("listening")
		select {}
	}
}

// helper starts this test binary in a helper mode, as uid when not 0, and
// waits for its first line.
func helper(t *testing.T, mode string, uid int, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	exe := os.Args[0]
	if uid != 0 {
		// The other user must be able to run the binary.
		dir, err := os.MkdirTemp("", "cashbell-local-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o755)
		data, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		exe = filepath.Join(dir, "helper")
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envHelper+"="+mode)...)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

func line(t *testing.T, s *bufio.Scanner) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s.Scan()
		got <- s.Text()
	}()
	select {
	case l := <-got:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("the helper said nothing")
	}
	return ""
}

func asRoot(t *testing.T) {
	if os.Getuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("needs root, to be another user too (CI runs as root)")
	}
}

const otherUID = 4242

type poller struct{ reloads chan string }

func (p *poller) Reload() { p.reloads <- "" }

// The windows' calls cross the sockets they were handed and come back as
// they went: accounts, keys for checking and adding, events with their
// details, settings, the month's sums, and the tray's commands in order.
func TestTheUICallsCrossTheChannel(t *testing.T) {
	w := testworld.New(t)
	changed := make(chan struct{}, 10)
	p := &poller{reloads: make(chan string, 1)}
	srv := local.Serve(nil, local.Backend{Registry: w.Reg, Store: w.Store, Poller: p,
		Keys: accounts.OpenVault(filepath.Join(t.TempDir(), "keys.json"), true), Changed: func() { changed <- struct{}{} }})
	defer srv.Close()
	tray, child, err := local.Pair()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Attach(tray)
	handed, err := net.FileConn(child)
	child.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := local.NewHandedClient(handed)
	defer c.Close()
	ctx := context.Background()

	acct := w.Sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme"})
	key, _ := accounts.ParseKey(w.Sim.NewKey(acct, false, stripesim.Restricted, stripesim.PermEventRead, stripesim.PermBalanceTransactionRead))
	rep, err := c.Check(ctx, key, "")
	if err != nil || !rep.Usable() || len(rep.MissingNames()) == 0 {
		t.Fatalf("check: %v %+v", err, rep)
	}
	res, err := c.Add(ctx, accounts.AddRequest{Key: key, Name: "Acme over the wire"})
	if err != nil || res.Account.Name != "Acme over the wire" || len(changed) != 1 {
		t.Fatalf("add: %v %+v (changed %d)", err, res.Account, len(changed))
	}
	if _, err := c.Add(ctx, accounts.AddRequest{Key: key}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("adding twice: %v", err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != res.Account.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
	if a, err := c.SetMuted(ctx, res.Account.ID, true); err != nil || !a.Muted {
		t.Fatalf("mute: %v %+v", err, a)
	}
	now := time.Now()
	evs := []store.Event{{ID: "evt_1", Type: "charge.succeeded", Created: now.Unix(), Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)}}
	if _, err := w.Store.Ingest(ctx, res.Account.ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.SaveFacts(ctx, res.Account.ID, "ch_1", store.Facts{Fee: 172, Net: 4728, NetCur: "usd"}); err != nil {
		t.Fatal(err)
	}
	page, _, err := c.Page(ctx, store.Query{Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != "evt_1" || string(page[0].Object) != string(evs[0].Object) {
		t.Fatalf("page: %v %+v", err, page)
	}
	details, err := c.Facts(ctx, page)
	if err != nil || details[0].Net != 4728 {
		t.Fatalf("details: %v %+v", err, details)
	}
	if none, err := c.Facts(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("details of nothing: %v %+v", err, none)
	}
	days, err := c.SumDays(ctx, nil, now, 30)
	if err != nil || days.Total("usd", 1) != 4900 {
		t.Fatalf("days: %v %+v", err, days)
	}
	set, _ := c.Settings(ctx)
	set.Minimum = 5500
	if err := c.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Store.Settings(ctx); got.Minimum != 5500 {
		t.Fatalf("settings saved %+v", got)
	}
	c.Reload()
	select {
	case <-p.reloads:
	case <-time.After(3 * time.Second):
		t.Fatal("the poller was not asked")
	}
	if c.Where() == "" || c.Summary(list) == "" || c.KeyNote(accounts.StorageFile) == "" {
		t.Fatal("where keys are kept is not said")
	}

	// Commands arrive in order, only those after the windows' start, as
	// they are sent: nothing polls.
	srv.Send(local.Command{Kind: local.Changed})
	start := srv.Resume() // as when the UI process starts
	srv.Send(local.Command{Kind: local.ShowActivity, Account: "acct_x"})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmds := c.Commands(cctx, start)
	next := func() local.Command {
		select {
		case got := <-cmds:
			return got
		case <-time.After(3 * time.Second):
			t.Fatal("no command")
		}
		return local.Command{}
	}
	if got := next(); got != (local.Command{Kind: local.ShowActivity, Account: "acct_x", Seq: start + 1}) {
		t.Fatalf("command %+v", got)
	}
	sent := time.Now()
	srv.Send(local.Command{Kind: local.ShowPrefs, NoTray: true})
	if got := next(); got != (local.Command{Kind: local.ShowPrefs, NoTray: true, Seq: start + 2}) || time.Since(sent) > time.Second {
		t.Fatalf("command %+v after %s", got, time.Since(sent))
	}
	// Calls still go through while the stream is open on the same handed
	// connection: one given up on, a large answer, and one after both.
	gone, cancelGone := context.WithTimeout(ctx, time.Nanosecond)
	defer cancelGone()
	if _, err := c.List(gone); err == nil {
		t.Fatal("a call past its deadline was answered")
	}
	var big []store.Event
	for i := range 60 {
		big = append(big, store.Event{ID: fmt.Sprintf("evt_big%d", i), Type: "charge.succeeded", Created: now.Unix() - 1,
			Object: []byte(`{"id":"ch_big","amount":100,"currency":"usd","description":"` + strings.Repeat("x", 8000) + `"}`)})
	}
	if _, err := w.Store.Ingest(ctx, res.Account.ID, big, nil, false); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if page, _, err := c.Page(ctx, store.Query{Limit: 100}); err != nil || len(page) != 61 {
			t.Fatalf("a page of 480 KB: %v, %d events", err, len(page))
		}
	}
	if _, err := c.List(ctx); err != nil {
		t.Fatal(err)
	}

	// The windows may leave only when they have done every command.
	if c.Leave(ctx, start+1) {
		t.Fatal("left with a command not done")
	}
	if !srv.Send(local.Command{Kind: local.Changed}) || c.Leave(ctx, start+2) {
		t.Fatal("left with a command sent after it was read")
	}
	if !c.Leave(ctx, start+3) {
		t.Fatal("not let go with every command done")
	}
	if srv.Send(local.Command{Kind: local.ShowPrefs}) {
		t.Fatal("a command was handed to windows that are leaving")
	}
	if seq := srv.Resume(); seq != start+3 || !srv.Send(local.Command{Kind: local.ShowPrefs}) {
		t.Fatalf("new windows are not served (they read after %d)", seq)
	}
	// The tray going away is a Quit.
	srv.Close()
	for _, want := range []local.CommandKind{local.Changed, local.ShowPrefs, local.Quit} {
		if got := next(); got.Kind != want {
			t.Fatalf("after the tray closed: %+v, want %s", got, want)
		}
	}
	if _, err := c.List(ctx); !errors.Is(err, local.ErrGone) {
		t.Fatalf("a call to a closed tray: %v", err)
	}
}

func cliServer(t *testing.T, path, says string) {
	t.Helper()
	l, err := local.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := local.Serve(l, local.Backend{CLI: func(_ context.Context, req local.CLIRequest) local.CLIReply {
		return local.CLIReply{Stdout: says + ":" + strings.Join(req.Args, " ") + ":" + req.Stdin}
	}})
	t.Cleanup(srv.Close)
}

func run(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	c := local.NewClient(local.DialPath(path))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.RunCLI(ctx, local.CLIRequest{Args: args, Stdin: "rk_test_secret"})
	return r.Stdout, err
}

// Two Cashbells of one user with different config folders but one runtime
// folder each answer at their own socket; a socket that still answers is
// never taken over.
func TestTwoConfigFoldersDoNotMeet(t *testing.T) {
	dir := t.TempDir()
	run1, run2 := filepath.Join(dir, "run"), filepath.Join(dir, "run")
	os.Mkdir(run1, 0o700)
	a, err := local.Path(filepath.Join(dir, "a", "cashbell"), run1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := local.Path(filepath.Join(dir, "b", "cashbell"), run2)
	if a == b || filepath.Dir(a) != filepath.Join(run1, "cashbell") {
		t.Fatalf("paths %s and %s", a, b)
	}
	cliServer(t, a, "A")
	cliServer(t, b, "B")
	for path, want := range map[string]string{a: "A:accounts list:rk_test_secret", b: "B:accounts list:rk_test_secret"} {
		if got, err := run(t, path, "accounts", "list"); err != nil || got != want {
			t.Fatalf("%s answered %q, %v", path, got, err)
		}
	}
	if _, err := local.Listen(a); !errors.Is(err, local.ErrRunning) {
		t.Fatalf("a second listener at a live socket: %v", err)
	}
	if got, err := run(t, a, "x"); err != nil || got != "A:x:rk_test_secret" {
		t.Fatalf("the first Cashbell lost its socket: %q %v", got, err)
	}
}

// A runtime folder others can write, or a folder someone else made there,
// or a symlink, is not used: the socket goes to the config folder.
func TestAFolderOthersControlIsNotUsed(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config", "cashbell")
	for name, prepare := range map[string]func(run string) error{
		"a symlink to a folder": func(run string) error {
			os.Mkdir(filepath.Join(dir, "elsewhere"+filepath.Base(run)), 0o700)
			return os.Symlink(filepath.Join(dir, "elsewhere"+filepath.Base(run)), filepath.Join(run, "cashbell"))
		},
		"a file": func(run string) error { return os.WriteFile(filepath.Join(run, "cashbell"), nil, 0o600) },
	} {
		run := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.Mkdir(run, 0o1777)
		if err := prepare(run); err != nil {
			t.Fatal(err)
		}
		if p, err := local.Path(config, run); err != nil || filepath.Dir(p) != config {
			t.Fatalf("%s: %s %v", name, p, err)
		}
	}
	// A folder of ours left open is closed to others.
	run := filepath.Join(dir, "open")
	os.MkdirAll(filepath.Join(run, "cashbell"), 0o777)
	os.Chmod(filepath.Join(run, "cashbell"), 0o777)
	if p, err := local.Path(config, run); err != nil || filepath.Dir(p) != filepath.Join(run, "cashbell") {
		t.Fatalf("our own folder: %s %v", p, err)
	}
	if info, _ := os.Stat(filepath.Join(run, "cashbell")); info.Mode().Perm() != 0o700 {
		t.Fatalf("left open: %v", info.Mode())
	}
}

// XDG_RUNTIME_DIR pointed at /tmp, where another user made cashbell/ (0777)
// and listens: the command goes to the config folder, the squatter hears
// nothing, and a squatter's socket put where Cashbell looks is refused by
// its uid before anything is sent.
func TestAnotherUsersFolderAndSocketAreRefused(t *testing.T) {
	asRoot(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	shared := filepath.Join(dir, "tmp")
	os.Mkdir(shared, 0o1777)
	os.Chmod(shared, 0o1777)
	theirs := filepath.Join(shared, "cashbell")
	os.Mkdir(theirs, 0o777)
	os.Chmod(theirs, 0o777)
	os.Chown(theirs, otherUID, otherUID)
	config := filepath.Join(dir, "config", "cashbell")
	path, err := local.Path(config, shared)
	if err != nil || filepath.Dir(path) != config {
		t.Fatalf("socket at %s (%v), not in the config folder", path, err)
	}
	// The squatter listens where Cashbell would have, had it trusted the
	// folder; Cashbell's own socket is elsewhere and answers.
	squat, out := helper(t, "listen", otherUID, "SOCK="+filepath.Join(theirs, filepath.Base(path)))
	if l := line(t, out); l != "listening" {
		t.Fatal(l)
	}
	cliServer(t, path, "mine")
	if got, err := run(t, path, "accounts", "add"); err != nil || !strings.HasPrefix(got, "mine:") {
		t.Fatalf("%q %v", got, err)
	}
	// Its socket moved into a folder Cashbell trusts: the uid check
	// refuses it, and the key is never sent.
	ours := filepath.Join(dir, "ours")
	os.Mkdir(ours, 0o700)
	planted := filepath.Join(ours, "planted.sock")
	if err := os.Rename(filepath.Join(theirs, filepath.Base(path)), planted); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, planted, "accounts", "add"); !errors.Is(err, local.ErrNotYours) {
		t.Fatalf("talked to another user's socket: %v", err)
	}
	if l := line(t, out); l != "got 0" {
		t.Fatalf("the squatter %s", l)
	}
	squat.Wait()
	// And another user reaching Cashbell's socket is refused before a byte
	// is read.
	os.Chmod(path, 0o777)
	os.Chmod(config, 0o755)
	os.Chmod(filepath.Dir(config), 0o755)
	_, out = helper(t, "call", otherUID, "SOCK="+path)
	if l := line(t, out); !strings.HasPrefix(l, "call: ") || l == "call: <nil>" {
		t.Fatalf("another user was served: %s", l)
	}
}

// A request far over the cap is refused without being read whole, and the
// server goes on serving; a reply over the cap is refused by the client.
func TestOversizedMessagesAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	cliServer(t, path, "ok")
	conn, err := local.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const huge = 400 << 20
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	fmt.Fprintf(conn, "POST /v1/cli HTTP/1.1\r\nHost: cashbell\r\nContent-Length: %d\r\n\r\n", huge)
	// A gob message that says it is 400 MB long (a count of 4 bytes,
	// 0x19000000), which a decoder without a cap reads whole.
	conn.Write([]byte{0xfc, 0x19, 0x00, 0x00, 0x00})
	go func() {
		chunk := make([]byte, 1<<20)
		for range huge >> 20 {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a 400 MB request: %v %+v", err, resp)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<20 {
		t.Fatalf("the heap grew by %d MB", grew>>20)
	}
	if got, err := run(t, path, "still"); err != nil || got != "ok:still:rk_test_secret" {
		t.Fatalf("after the flood: %q %v", got, err)
	}
	// A server that answers far too much.
	big := filepath.Join(t.TempDir(), "big.sock")
	l, err := local.Listen(big)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}
	go hs.Serve(l)
	defer hs.Close()
	if _, err := run(t, big, "x"); err == nil {
		t.Fatal("a 64 MB answer was taken")
	}
}

// At a low descriptor limit, a flood of idle connections makes accept
// fail for a while; the loop waits and goes on, and a command is answered.
func TestAFloodAtTheDescriptorLimitIsOutlasted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RLIMIT_NOFILE as Linux has it")
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	_, out := helper(t, "serve", 0, "SOCK="+path, "NOFILE=24")
	if l := line(t, out); l != "listening" {
		t.Fatal(l)
	}
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for range 100 {
		c, err := net.Dial("unix", path)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	// Accept meets EMFILE; the flood then ends, as an attacker's or a
	// runaway script's does. An accept loop that ended on the first error
	// would never answer again.
	time.Sleep(300 * time.Millisecond)
	for _, c := range flood {
		c.Close()
	}
	start := time.Now()
	got, err := run(t, path, "accounts", "list")
	if err != nil || !strings.HasPrefix(got, "served") {
		t.Fatalf("after a flood of %d connections: %q %v", len(flood), got, err)
	}
	t.Logf("answered %s after a flood of %d connections", time.Since(start).Round(time.Millisecond), len(flood))
}
