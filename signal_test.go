package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
)

// exitWithin is how soon Cashbell must be gone after SIGINT or SIGTERM.
const exitWithin = 6 * time.Second

// hangingNotifications owns the notification service on the desktop's bus
// and never answers: a notification daemon that is stuck.
type hangingNotifications struct {
	calls   atomic.Int64
	release chan struct{}
}

func (h *hangingNotifications) Notify(appName string, replacesID uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	h.calls.Add(1)
	<-h.release
	return 1, nil
}

func (h *hangingNotifications) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body"}, nil
}

func (d *desktop) hangNotifications(t *testing.T) *hangingNotifications {
	t.Helper()
	conn, err := dbus.Connect(d.busAddress())
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingNotifications{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release); conn.Close() })
	if err := conn.Export(h, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the notification service: %v %v", reply, err)
	}
	return h
}

func (d *desktop) busAddress() string {
	for _, kv := range d.env {
		if v, ok := strings.CutPrefix(kv, "DBUS_SESSION_BUS_ADDRESS="); ok {
			return v
		}
	}
	return ""
}

// Cashbell ends within a few seconds of SIGINT or SIGTERM whatever it is
// doing: parked with no window, with a window shown, after a window was
// shown and closed, halfway through a poll, and while a notification daemon
// does not answer. Each state is tried several times on a -race build
// (CASHBELL_SIGNAL_REPEATS sets how many).
func TestSignalsEndCashbellInEveryState(t *testing.T) {
	repeats := 2
	if n, err := strconv.Atoi(os.Getenv("CASHBELL_SIGNAL_REPEATS")); err == nil && n > 0 {
		repeats = n
	}
	d := startDesktop(t)
	sim := d.addAccounts(t, 1, 2)
	bin := buildBinary(t, "-race")
	notifications := d.hangNotifications(t)
	gen := sim.Generator(sim.AccountIDs()[0], false, 7)

	start := func(t *testing.T, args ...string) (*exec.Cmd, chan error, *testproc.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Env = d.env
		logs := &testproc.Buffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			select {
			case <-done:
			case <-time.After(exitWithin):
			}
		})
		d.trayMenu(t, cmd.Process.Pid) // up and polling
		return cmd, done, logs
	}
	states := []struct {
		name  string
		args  []string
		setup func(t *testing.T, pid int)
	}{
		{"parked", nil, func(t *testing.T, pid int) { time.Sleep(300 * time.Millisecond) }},
		{"window shown", nil, func(t *testing.T, pid int) {
			d.click(t, pid, "Preferences…")
			d.waitVisible(t, "Cashbell Preferences", true)
		}},
		{"window closed after shown", nil, func(t *testing.T, pid int) {
			d.click(t, pid, "Activity…")
			d.waitVisible(t, "Cashbell Activity", true)
			d.xdotool(t, "windowfocus", "--sync", d.windowID(t, "Cashbell Activity"))
			d.xdotool(t, "key", "ctrl+w")
			d.waitVisible(t, "Cashbell Activity", false)
			time.Sleep(300 * time.Millisecond) // parked again
		}},
		{"mid-poll", []string{"--interval", "100ms"}, func(t *testing.T, pid int) {
			sim.Inject(fakestripe.Fault{Kind: fakestripe.Slow, Delay: time.Minute, Path: "/v1/events", Times: -1})
			t.Cleanup(sim.ClearFaults)
			time.Sleep(400 * time.Millisecond)
		}},
		{"mid-notification", []string{"--interval", "100ms"}, func(t *testing.T, pid int) {
			before := notifications.calls.Load()
			gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
			for deadline := time.Now().Add(10 * time.Second); notifications.calls.Load() == before; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no notification was sent")
				}
			}
		}},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			for i := range repeats {
				sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[i%2]
				cmd, done, logs := start(t, st.args...)
				st.setup(t, cmd.Process.Pid)
				sent := time.Now()
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-done:
					done <- err
					if err != nil {
						t.Fatalf("run %d, %s: exit %v\n%s", i+1, sig, err, logs.String())
					}
					if strings.Contains(logs.String(), "DATA RACE") {
						t.Fatalf("run %d: a data race\n%s", i+1, logs.String())
					}
				case <-time.After(exitWithin):
					_ = cmd.Process.Signal(syscall.SIGQUIT)
					time.Sleep(500 * time.Millisecond)
					t.Fatalf("run %d: still running %s after %s\n%s", i+1, exitWithin, sig, logs.String())
				}
				t.Logf("run %d: %s ended it in %s", i+1, sig, time.Since(sent).Round(time.Millisecond))
			}
		})
	}
}
