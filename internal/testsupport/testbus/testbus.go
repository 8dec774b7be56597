// Package testbus starts a private D-Bus session bus for tests and captures
// the desktop notifications sent on it, by owning the
// org.freedesktop.Notifications name the way a notification daemon does.
package testbus

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Main runs a package's tests with a private session bus in *bus, for its
// TestMain; who names the tests in the message when no bus can start.
func Main(m *testing.M, who string, bus **Bus) {
	b, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s need a session bus: %v\n", who, err)
		os.Exit(1)
	}
	*bus = b
	code := m.Run()
	b.Close()
	os.Exit(code)
}

// Notification is one captured Notify call.
type Notification struct {
	ID       uint32 // the id the server gave, the same as Replaces when it replaced one
	Replaces uint32 // replaces_id: 0 for a new notification
	AppName  string
	Icon     string
	Summary  string
	Body     string
	Actions  []string // key, label, key, label...
	Hints    map[string]dbus.Variant
	Timeout  int32 // expire_timeout in ms: -1 the server's choice, 0 never
}

// Urgency is the urgency hint: 0 low, 1 normal, 2 critical.
func (n Notification) Urgency() byte {
	u, _ := n.Hints["urgency"].Value().(byte)
	return u
}

// Bus is a running private session bus with a notification server on it.
type Bus struct {
	Address string
	cmd     *exec.Cmd
	conn    *dbus.Conn
	dir     string

	mu     sync.Mutex
	got    []Notification
	notify chan struct{}
	nextID uint32
	fail   bool
	caps   []string
	// received is called with each notification once it is recorded and
	// before the sender gets its reply.
	received func(Notification)
}

// ErrNoDaemon means dbus-daemon is not installed.
var ErrNoDaemon = errors.New("dbus-daemon not found: install the dbus and dbus-bin packages (make deps-test)")

// Start runs dbus-daemon on a socket in a new temporary directory, sets
// DBUS_SESSION_BUS_ADDRESS for this process, and serves notifications. Call it
// from TestMain before anything in the process touches D-Bus: godbus caches
// the session bus connection for the life of the process.
func Start() (*Bus, error) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		return nil, ErrNoDaemon
	}
	dir, err := os.MkdirTemp("", "cashbell-bus-")
	if err != nil {
		return nil, err
	}
	addr := "unix:path=" + filepath.Join(dir, "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok || l == "" {
			_ = cmd.Process.Kill()
			return nil, errors.New("dbus-daemon printed no address")
		}
		addr = strings.TrimSpace(l)
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("dbus-daemon did not start in 5s")
	}
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	b := &Bus{Address: addr, cmd: cmd, dir: dir, notify: make(chan struct{}, 1)}
	if err := b.serve(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Listen serves notifications on a bus that is already running, such as a
// test's private desktop session; Close leaves that bus running.
func Listen(addr string) (*Bus, error) {
	b := &Bus{Address: addr, notify: make(chan struct{}, 1)}
	if err := b.serve(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bus) serve() error {
	conn, err := dbus.Connect(b.Address)
	if err != nil {
		return fmt.Errorf("connecting to the test bus: %w", err)
	}
	b.conn = conn
	if err := conn.Export(server{b}, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		return err
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("owning org.freedesktop.Notifications: %v (reply %v)", err, reply)
	}
	return nil
}

// Close stops the bus.
func (b *Bus) Close() {
	if b.conn != nil {
		b.conn.Close()
	}
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// Notifications returns every notification captured so far.
func (b *Bus) Notifications() []Notification {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Notification(nil), b.got...)
}

// Invoke is the user clicking a notification (key "default") or one of its
// buttons: the server emits ActionInvoked, as the specification says.
func (b *Bus) Invoke(id uint32, key string) error {
	return b.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", id, key)
}

// Forge emits ActionInvoked as another program on the bus could: from a
// connection of its own, not the notification server's.
func (b *Bus) Forge(id uint32, key string) error {
	conn, err := dbus.Connect(b.Address)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", id, key)
}

// OnScreen is what a person would see now: each notification as its last
// update left it, in the order they first appeared.
func (b *Bus) OnScreen() []Notification {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Notification
	at := map[uint32]int{}
	for _, n := range b.got {
		if i, ok := at[n.ID]; ok {
			out[i] = n
			continue
		}
		at[n.ID] = len(out)
		out = append(out, n)
	}
	return out
}

// Reset forgets the captured notifications.
func (b *Bus) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = nil
}

// SetCapabilities changes what the server says it can do (GetCapabilities);
// nil goes back to the default: body, icon-static and actions.
func (b *Bus) SetCapabilities(caps []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.caps = caps
}

// OnNotify calls f with each notification the server has recorded, before
// the sender hears back: a test can end the sender at the one moment when
// the notification is on the screen and the sender does not know it yet.
// nil stops the calls.
func (b *Bus) OnNotify(f func(Notification)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.received = f
}

// Fail makes the server refuse notifications, like a daemon in trouble.
func (b *Bus) Fail(fail bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = fail
}

// WaitFor waits until at least n notifications were captured, or the timeout.
func (b *Bus) WaitFor(n int, timeout time.Duration) []Notification {
	deadline := time.After(timeout)
	for {
		got := b.Notifications()
		if len(got) >= n {
			return got
		}
		select {
		case <-b.notify:
		case <-deadline:
			return got
		}
	}
}

type server struct{ b *Bus }

func (s server) Notify(appName string, replacesID uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.fail {
		return 0, dbus.MakeFailedError(errors.New("notification daemon is failing"))
	}
	// "If replaces_id is not 0, the returned value is the same value as
	// replaces_id" (Desktop Notifications Specification, Notify).
	id := replacesID
	if id == 0 {
		s.b.nextID++
		id = s.b.nextID
	}
	n := Notification{ID: id, Replaces: replacesID, AppName: appName, Icon: icon, Summary: summary, Body: body,
		Actions: actions, Hints: hints, Timeout: timeout}
	s.b.got = append(s.b.got, n)
	select {
	case s.b.notify <- struct{}{}:
	default:
	}
	if s.b.received != nil {
		s.b.received(n)
	}
	return id, nil
}

func (s server) GetCapabilities() ([]string, *dbus.Error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.caps != nil {
		return s.b.caps, nil
	}
	return []string{"body", "icon-static", "actions"}, nil
}

func (s server) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "cashbell-testbus", "cashbell", "1.0", "1.2", nil
}

func (s server) CloseNotification(id uint32) *dbus.Error { return nil }
