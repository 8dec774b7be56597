//go:build linux || freebsd || netbsd || openbsd

package desktop

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"

	"github.com/cashbell/cashbell/internal/safetext"
)

// capsFor is how long the notification server's capabilities are trusted
// before they are asked again (a desktop can swap its notification daemon).
const capsFor = time.Minute

// Desktop delivers notifications over org.freedesktop.Notifications on the
// session bus, through github.com/esiqveland/notify, and hears which ones
// the user clicked (ActionInvoked).
type Desktop struct {
	// SoundFile is the bell a notification with Sound asks the server to
	// play (the sound-file hint), where the server lists "sound".
	SoundFile string
	// NoUI: no Activity window to show (headless), so a burst's
	// button says it opens the account in Stripe, which is what it does.
	NoUI bool

	mu      sync.Mutex
	conn    *dbus.Conn
	owner   string // the unique name of the notification service, "" when none
	caps    []string
	capsAt  time.Time
	shown   map[uint32]Notification // by the server's id, for its actions
	order   []uint32
	actions chan Action
}

// remembered is how many notifications' actions are kept; older ones have
// long left the screen.
const remembered = 200

// New returns the desktop's notification sink; it connects on first use.
func New() *Desktop {
	return &Desktop{shown: map[uint32]Notification{}, actions: make(chan Action, 8)}
}

// Actions receives the notifications the user clicked, while Cashbell runs.
func (d *Desktop) Actions() <-chan Action { return d.actions }

// Ready connects to the session bus and reads the server's capabilities, so
// that Notify, which deliver calls right after marking events as told, has
// nothing left to do but write.
func (d *Desktop) Ready(context.Context) error {
	_, _, err := d.session()
	return err
}

// Notify shows n. A D-Bus call cannot be cancelled once sent.
func (d *Desktop) Notify(ctx context.Context, n Notification) (uint32, error) {
	return showAsync(ctx, "showing a notification (is a notification service running?)", func() (uint32, error) { return d.send(n) })
}

func (d *Desktop) send(n Notification) (uint32, error) {
	conn, caps, err := d.session()
	if err != nil {
		return 0, err
	}
	id, err := notify.SendNotification(conn, d.note(n, caps))
	if err == nil && id != 0 {
		d.remember(id, n)
	}
	if err == nil && n.Sound && d.SoundFile != "" && !slices.Contains(caps, "sound") {
		// The server plays no sounds: the desktop's own player rings.
		go func() { _ = play(context.Background(), d.SoundFile) }()
	}
	return id, err
}

// note is n as the notification server is asked to show it.
func (d *Desktop) note(n Notification, caps []string) notify.Notification {
	body := n.Body
	if slices.Contains(caps, "body-markup") {
		// The server reads the body as markup: text written by customers
		// must show as written, never as bold, links or images.
		body = safetext.EscapeMarkup(body)
	}
	note := notify.Notification{
		AppName: "Cashbell", ReplacesID: n.Replaces, AppIcon: iconPath(n.Icon), Summary: n.Title, Body: body,
		ExpireTimeout: notify.ExpireTimeoutSetByNotificationServer,
		Hints:         map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant("io.cashbell.app")},
	}
	if slices.Contains(caps, "actions") && (n.URL != "" || n.Burst) {
		// "default" is the notification itself, clicked; the button says
		// where it leads (Desktop Notifications Specification, actions).
		label := "Open in Stripe"
		if n.Burst && !d.NoUI {
			label = "Show in Activity"
		}
		note.Actions = []notify.Action{{Key: "default", Label: label}, {Key: "open", Label: label}}
	}
	if len(n.Events) > 0 {
		// A vendor hint ("x-" prefixed, Desktop Notifications
		// Specification, hints): servers ignore it, and anyone reading the
		// bus (dbus-monitor, the soak test) sees which events were told.
		note.AddHint(notify.Hint{ID: EventsHint, Variant: dbus.MakeVariant(n.Events)})
	}
	if n.Sound && d.SoundFile != "" && slices.Contains(caps, "sound") {
		note.AddHint(notify.Hint{ID: "sound-file", Variant: dbus.MakeVariant(iconPath(d.SoundFile))})
	}
	if n.Urgent {
		// Critical notifications "should not automatically expire" (the
		// Desktop Notifications Specification, urgency levels); 0 asks the
		// same of servers that read the timeout instead.
		note.SetUrgency(notify.UrgencyCritical)
		note.ExpireTimeout = notify.ExpireTimeoutNever
	} else {
		note.SetUrgency(notify.UrgencyNormal)
	}
	return note
}

func (d *Desktop) remember(id uint32, n Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.shown[id]; !ok {
		d.order = append(d.order, id)
	}
	d.shown[id] = n
	if len(d.order) > remembered {
		delete(d.shown, d.order[0])
		d.order = d.order[1:]
	}
}

// The notification service's well-known name, and the bus's own.
const (
	notifications = "org.freedesktop.Notifications"
	busDaemon     = "org.freedesktop.DBus"
)

// listen hears ActionInvoked and NotificationClosed from the current owner
// of org.freedesktop.Notifications only: anything on the session bus can
// emit a signal, and a forged click must not open pages. The owner's
// unique name is followed through NameOwnerChanged, in the match rules and
// in the handler. The caller holds d.mu.
func (d *Desktop) listen(conn *dbus.Conn) error {
	if err := conn.AddMatchSignal(dbus.WithMatchSender(busDaemon), dbus.WithMatchInterface(busDaemon),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, notifications)); err != nil {
		return err
	}
	// Signals are heard before the owner is asked, so that a change in
	// between is not lost.
	signals := make(chan *dbus.Signal, 64)
	conn.Signal(signals)
	go func() {
		for sig := range signals {
			d.signal(conn, sig)
		}
	}()
	// No owner yet: the service is started by the first notification.
	_ = conn.BusObject().Call(busDaemon+".GetNameOwner", 0, notifications).Store(&d.owner)
	matchOwner(conn, "", d.owner)
	return nil
}

// follow listens to the notification service's new owner instead of the
// old; the old one's ids mean nothing to the new. A first owner (the
// service started by Cashbell's first notification) keeps what was shown.
func (d *Desktop) follow(conn *dbus.Conn, from, owner string) {
	d.mu.Lock()
	old := d.owner
	if from != old && old != "" {
		d.mu.Unlock()
		return // an older change, come late: the owner is already newer
	}
	d.owner = owner
	if old != "" && old != owner {
		d.shown, d.order = map[uint32]Notification{}, nil
	}
	d.mu.Unlock()
	matchOwner(conn, old, owner)
}

// matchOwner moves the match rules of the service's signals from the old
// owner to the new.
func matchOwner(conn *dbus.Conn, old, owner string) {
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		rule := func(sender string) []dbus.MatchOption {
			return []dbus.MatchOption{dbus.WithMatchSender(sender), dbus.WithMatchObjectPath("/org/freedesktop/Notifications"),
				dbus.WithMatchInterface(notifications), dbus.WithMatchMember(member)}
		}
		if old != "" {
			_ = conn.RemoveMatchSignal(rule(old)...)
		}
		if owner != "" {
			_ = conn.AddMatchSignal(rule(owner)...)
		}
	}
}

func (d *Desktop) signal(conn *dbus.Conn, sig *dbus.Signal) {
	if sig == nil || len(sig.Body) < 2 {
		return
	}
	if sig.Name == busDaemon+".NameOwnerChanged" && len(sig.Body) == 3 {
		name, _ := sig.Body[0].(string)
		from, _ := sig.Body[1].(string)
		owner, _ := sig.Body[2].(string)
		if sig.Sender == busDaemon && name == notifications {
			d.follow(conn, from, owner)
		}
		return
	}
	// The match rules already name the owner, but the connection is the
	// process's shared one: other code's rules may let other senders in.
	d.mu.Lock()
	fromOwner := d.owner != "" && sig.Sender == d.owner
	d.mu.Unlock()
	id, ok := sig.Body[0].(uint32)
	if !fromOwner || !ok || sig.Path != "/org/freedesktop/Notifications" {
		return
	}
	switch sig.Name {
	case notifications + ".ActionInvoked":
		key, _ := sig.Body[1].(string)
		d.mu.Lock()
		n, ok := d.shown[id]
		d.mu.Unlock()
		if !ok || key != "default" && key != "open" {
			return
		}
		select {
		case d.actions <- Action{Notification: n, Key: key}:
		default: // nobody is listening (a command, not the app)
		}
	case notifications + ".NotificationClosed":
		d.mu.Lock()
		delete(d.shown, id)
		d.mu.Unlock()
	}
}

// session returns the session bus and the server's capabilities.
func (d *Desktop) session() (*dbus.Conn, []string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		conn, err := dbus.SessionBus()
		if err != nil {
			return nil, nil, err
		}
		if err := d.listen(conn); err != nil {
			return nil, nil, err
		}
		d.conn = conn
	}
	if time.Since(d.capsAt) > capsFor {
		caps, err := notify.GetCapabilities(d.conn)
		if err != nil {
			return nil, nil, err
		}
		d.caps, d.capsAt = caps, time.Now()
	}
	return d.conn, d.caps, nil
}

// iconPath is an absolute path, as the specification asks of app_icon.
func iconPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
