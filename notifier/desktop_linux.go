//go:build linux || freebsd || netbsd || openbsd

package notifier

import (
	"context"
	"errors"
	"fmt"
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
	// NoWindows: no Activity window to show (headless), so a burst's
	// button says it opens the account in Stripe, which is what it does.
	NoWindows bool

	mu      sync.Mutex
	conn    *dbus.Conn
	caps    []string
	capsAt  time.Time
	shown   map[uint32]Notification // by the server's id, for its actions
	order   []uint32
	actions chan Action
}

// remembered is how many notifications' actions are kept; older ones have
// long left the screen.
const remembered = 200

var _ Sink = (*Desktop)(nil)

// NewDesktop returns the desktop's notification sink; it connects on first use.
func NewDesktop() *Desktop {
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

// Notify shows ns in order. Every call is written to the bus before any
// answer is awaited: events are marked as told just before, and a crash
// between the two loses what was not yet written. A D-Bus call cannot be
// cancelled once sent, so a notification service that hangs costs a
// goroutine, not the poller.
func (d *Desktop) Notify(ctx context.Context, ns ...Notification) ([]uint32, error) {
	type sent struct {
		ids []uint32
		err error
	}
	done := make(chan sent, 1)
	go func() {
		ids, err := d.send(ns)
		done <- sent{ids, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.ids, fmt.Errorf("showing a notification (is a notification service running?): %w", r.err)
		}
		return r.ids, nil
	case <-ctx.Done():
		return make([]uint32, len(ns)), ctx.Err()
	}
}

func (d *Desktop) send(ns []Notification) ([]uint32, error) {
	ids := make([]uint32, len(ns))
	conn, caps, err := d.session()
	if err != nil {
		return ids, err
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	calls := make([]*dbus.Call, len(ns))
	for i, n := range ns {
		note := d.note(n, caps)
		actions := []string{}
		for _, a := range note.Actions {
			actions = append(actions, a.Key, a.Label)
		}
		calls[i] = obj.Go("org.freedesktop.Notifications.Notify", 0, nil, note.AppName, note.ReplacesID, note.AppIcon,
			note.Summary, note.Body, actions, note.Hints, int32(note.ExpireTimeout.Milliseconds()))
	}
	var errs []error
	for i, c := range calls {
		<-c.Done
		if err := c.Store(&ids[i]); err != nil {
			errs = append(errs, err)
			continue
		}
		if ids[i] != 0 {
			d.remember(ids[i], ns[i])
		}
	}
	return ids, errors.Join(errs...)
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
		if n.Burst && !d.NoWindows {
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

// listen hears ActionInvoked and NotificationClosed for Cashbell's own
// notifications. It reads the signals itself, checking each one's shape:
// anything on the session bus can emit a signal.
func (d *Desktop) listen(conn *dbus.Conn) error {
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		if err := conn.AddMatchSignal(dbus.WithMatchObjectPath("/org/freedesktop/Notifications"),
			dbus.WithMatchInterface("org.freedesktop.Notifications"), dbus.WithMatchMember(member)); err != nil {
			return err
		}
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	go func() {
		for sig := range signals {
			d.signal(sig)
		}
	}()
	return nil
}

func (d *Desktop) signal(sig *dbus.Signal) {
	if sig == nil || sig.Path != "/org/freedesktop/Notifications" || len(sig.Body) < 2 {
		return
	}
	id, ok := sig.Body[0].(uint32)
	if !ok {
		return
	}
	switch sig.Name {
	case "org.freedesktop.Notifications.ActionInvoked":
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
	case "org.freedesktop.Notifications.NotificationClosed":
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
