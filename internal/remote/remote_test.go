package remote_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/remote"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier"
)

type poller struct{ reloads, kicks int }

func (p *poller) Reload()        { p.reloads++ }
func (p *poller) PollNow(string) { p.kicks++ }

// The windows' calls cross the socket and come back as they went: accounts,
// keys for checking and adding, events with their details, settings, the
// month's sums, and the tray's commands in order.
func TestTheWindowsCallsCrossTheSocket(t *testing.T) {
	w := testworld.New(t)
	changed := 0
	p := &poller{}
	srv, err := remote.Listen(filepath.Join(t.TempDir(), "run", "windows.sock"), &remote.Backend{
		Registry: w.Reg, Store: w.Store, Poller: p, Keys: accounts.OpenVault(filepath.Join(t.TempDir(), "keys.json"), true),
		Changed: func() { changed++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ctx := context.Background()

	// Without the token, nothing is served.
	if conn, err := net.Dial("unix", env[remote.EnvAddr]); err == nil {
		_, _ = conn.Write([]byte("not-the-token\n"))
		buf := make([]byte, 1)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Read(buf); err == nil {
			t.Fatal("served without the token")
		}
		conn.Close()
	}
	bad, err := remote.Dial(ctx, env[remote.EnvAddr], "0123")
	if err == nil {
		if _, err := bad.List(ctx); err == nil {
			t.Fatal("a wrong token was served")
		}
	}

	c, err := remote.Dial(ctx, env[remote.EnvAddr], env[remote.EnvToken])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	acct := w.Sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme"})
	key, _ := accounts.ParseKey(w.Sim.NewKey(acct, false, stripesim.Restricted, stripesim.PermEventRead, stripesim.PermBalanceRead))
	rep, err := c.Check(ctx, key, "")
	if err != nil || !rep.Usable() || len(rep.MissingNames()) == 0 {
		t.Fatalf("check: %v %+v", err, rep)
	}
	res, err := c.Add(ctx, accounts.AddRequest{Key: key, Name: "Acme over the wire"})
	if err != nil || res.Account.Name != "Acme over the wire" || changed != 1 {
		t.Fatalf("add: %v %+v (changed %d)", err, res.Account, changed)
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
	evs := []notifier.Event{{ID: "evt_1", Type: "charge.succeeded", Created: now.Unix(), Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)}}
	if _, err := w.Store.Ingest(ctx, res.Account.ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.SaveDetails(ctx, res.Account.ID, "ch_1", notifier.Details{Fee: 172, Net: 4728, NetCur: "usd"}); err != nil {
		t.Fatal(err)
	}
	page, _, err := c.Page(ctx, notifier.Query{Limit: 10})
	if err != nil || len(page) != 1 || string(page[0].Object) != string(evs[0].Object) {
		t.Fatalf("page: %v %+v", err, page)
	}
	details, err := c.Details(ctx, page)
	if err != nil || details[0].Net != 4728 {
		t.Fatalf("details: %v %+v", err, details)
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
	c.PollNow(res.Account.ID)
	if p.reloads != 1 || p.kicks != 1 {
		t.Fatalf("poller %+v", p)
	}
	if c.Where() == "" || c.Summary(list) == "" {
		t.Fatal("where keys are kept is not said")
	}

	// Commands arrive in order, only those after the windows' start.
	srv.Send(remote.Command{Kind: remote.Changed})
	start := srv.Resume() // as when the windows process starts
	srv.Send(remote.Command{Kind: remote.ShowActivity, Account: "acct_x"})
	srv.Send(remote.Command{Kind: remote.ShowPrefs, NoTray: true})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmds := c.Commands(cctx, start)
	for _, want := range []remote.Command{{Kind: remote.ShowActivity, Account: "acct_x", Seq: start + 1}, {Kind: remote.ShowPrefs, NoTray: true, Seq: start + 2}} {
		select {
		case got := <-cmds:
			if got != want {
				t.Fatalf("command %+v, want %+v", got, want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no command %+v", want)
		}
	}

	// The windows may leave only when they have done every command; after
	// that, a command is refused, so that the tray starts new windows
	// instead of handing it to a process on its way out.
	if c.Leave(ctx, start+1) {
		t.Fatal("left with a command not done")
	}
	if !srv.Send(remote.Command{Kind: remote.Changed}) || c.Leave(ctx, start+2) {
		t.Fatal("left with a command sent after it was read")
	}
	if !c.Leave(ctx, start+3) {
		t.Fatal("not let go with every command done")
	}
	if srv.Send(remote.Command{Kind: remote.ShowPrefs}) {
		t.Fatal("a command was handed to windows that are leaving")
	}
	if seq := srv.Resume(); seq != start+3 || !srv.Send(remote.Command{Kind: remote.ShowPrefs}) {
		t.Fatalf("new windows are not served (they read after %d)", seq)
	}
	// The tray going away is a Quit.
	srv.Close()
	for _, want := range []remote.CommandKind{remote.Changed, remote.ShowPrefs, remote.Quit} {
		select {
		case got := <-cmds:
			if got.Kind != want {
				t.Fatalf("after the tray closed: %+v, want %s", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the windows were not told the tray is gone")
		}
	}
	if _, err := c.List(ctx); !errors.Is(err, remote.ErrTrayGone) && err == nil {
		t.Fatalf("a call to a closed tray: %v", err)
	}
}
