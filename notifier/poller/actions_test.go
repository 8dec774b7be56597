package poller_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/notifier/desktop"
)

// clicked waits for the desktop to hear a click.
func clicked(t *testing.T, w *world) desktop.Action {
	t.Helper()
	select {
	case a := <-w.desktop.Actions():
		return a
	case <-time.After(3 * time.Second):
		t.Fatal("no click heard")
	}
	return desktop.Action{}
}

// A notification leads somewhere: clicking it (the server's default action)
// or its "Open in Stripe" button is heard on the session bus, with the page
// of that payment in the account's mode; a burst leads to its account.
func TestClickingANotificationIsHeard(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	_, ch := w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w.poll(t)
	n := settle(1)[0]
	if strings.Join(n.Actions, "|") != "default|Open in Stripe|open|Open in Stripe" {
		t.Fatalf("actions %q", n.Actions)
	}
	if err := bus.Invoke(n.ID, "default"); err != nil {
		t.Fatal(err)
	}
	if a := clicked(t, w); a.Key != "default" || a.URL != "https://dashboard.stripe.com/test/payments/"+ch || a.Burst {
		t.Fatalf("click %+v", a)
	}
	if err := bus.Invoke(n.ID, "open"); err != nil {
		t.Fatal(err)
	}
	if a := clicked(t, w); a.Key != "open" || a.URL != "https://dashboard.stripe.com/test/payments/"+ch {
		t.Fatalf("button %+v", a)
	}
	// A second sale makes the notification a burst: it leads to Activity.
	w.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	w.poll(t)
	n = settle(2)[1]
	if n.Replaces == 0 || !strings.Contains(strings.Join(n.Actions, "|"), "Show in Activity") {
		t.Fatalf("burst %+v", n)
	}
	if err := bus.Invoke(n.ID, "default"); err != nil {
		t.Fatal(err)
	}
	if a := clicked(t, w); !a.Burst || a.Account != w.acct.ID {
		t.Fatalf("burst click %+v", a)
	}
	// Someone else's notification, or a made-up action, is not Cashbell's;
	// and a click forged by another program on the bus is not a click.
	_ = bus.Invoke(9999, "default")
	_ = bus.Invoke(n.ID, "delete-everything")
	for _, key := range []string{"default", "open"} {
		if err := bus.Forge(n.ID, key); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case a := <-w.desktop.Actions():
		t.Fatalf("heard %+v", a)
	case <-time.After(200 * time.Millisecond):
	}
}

// A sale rings through the notification's sound hint where the server plays
// sounds, and nowhere else; other kinds are silent unless switched on.
func TestASaleRingsWhereTheServerPlaysSounds(t *testing.T) {
	bus.SetCapabilities([]string{"body", "actions", "sound"})
	defer bus.SetCapabilities(nil)
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w.poll(t)
	if got := soundOf(settle(1)[0]); got != "/usr/share/sounds/cashbell-bell.wav" {
		t.Fatalf("sale sound %q", got)
	}
	bus.Reset()
	w.apart()
	w.gen.Payout(100000, "usd", false)
	w.poll(t)
	if got := soundOf(settle(1)[0]); got != "" {
		t.Fatalf("a payout rings: %q", got)
	}
	// Switched: payouts ring, sales do not.
	set, _ := w.store.Settings(t.Context())
	set.Sounds = map[string]bool{"payout": true, "sale": false}
	if err := w.store.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	bus.Reset()
	w.apart()
	w.gen.Payout(100000, "usd", false)
	w.poll(t)
	if got := soundOf(settle(1)[0]); got == "" {
		t.Fatal("a payout switched on is silent")
	}
	bus.Reset()
	w.apart()
	w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w.poll(t)
	if got := soundOf(settle(1)[0]); got != "" {
		t.Fatalf("a sale switched off rings: %q", got)
	}
	// A server that plays no sounds is not asked to.
	bus.SetCapabilities([]string{"body", "actions"})
	bus.Reset()
	w2 := newWorld(t, stripesim.AllPermissions)
	w2.poll(t)
	w2.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w2.poll(t)
	if got := soundOf(settle(1)[0]); got != "" {
		t.Fatalf("sound hint for a server without sounds: %q", got)
	}
	// There the desktop's own player rings it: libcanberra's, else
	// PipeWire's or PulseAudio's (a recording stand-in here).
	dir := t.TempDir()
	played := filepath.Join(dir, "played")
	script := "#!/bin/sh\necho \"$@\" >> " + played + "\n"
	if err := os.WriteFile(filepath.Join(dir, "canberra-gtk-play"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	bus.Reset()
	w2.apart()
	w2.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w2.poll(t)
	settle(1)
	waitFor(t, func() bool {
		got, _ := os.ReadFile(played)
		return strings.Contains(string(got), "--file=/usr/share/sounds/cashbell-bell.wav")
	})
}

func soundOf(n testbus.Notification) string {
	v, ok := n.Hints["sound-file"]
	if !ok {
		return ""
	}
	s, _ := v.Value().(string)
	return s
}
