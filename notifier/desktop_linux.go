//go:build linux || freebsd || netbsd || openbsd

package notifier

import (
	"context"
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
// session bus, through github.com/esiqveland/notify.
type Desktop struct {
	mu     sync.Mutex
	conn   *dbus.Conn
	caps   []string
	capsAt time.Time
}

var _ Sink = (*Desktop)(nil)

// NewDesktop returns the desktop's notification sink; it connects on first use.
func NewDesktop() *Desktop { return &Desktop{} }

// Notify shows n. A D-Bus call cannot be cancelled once sent, so a
// notification service that hangs costs a goroutine, not the poller.
func (d *Desktop) Notify(ctx context.Context, n Notification) (uint32, error) {
	type sent struct {
		id  uint32
		err error
	}
	done := make(chan sent, 1)
	go func() {
		id, err := d.send(n)
		done <- sent{id, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return 0, fmt.Errorf("showing a notification (is a notification service running?): %w", r.err)
		}
		return r.id, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (d *Desktop) send(n Notification) (uint32, error) {
	conn, caps, err := d.session()
	if err != nil {
		return 0, err
	}
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
	if n.Urgent {
		// Critical notifications "should not automatically expire" (the
		// Desktop Notifications Specification, urgency levels); 0 asks the
		// same of servers that read the timeout instead.
		note.SetUrgency(notify.UrgencyCritical)
		note.ExpireTimeout = notify.ExpireTimeoutNever
	} else {
		note.SetUrgency(notify.UrgencyNormal)
	}
	return notify.SendNotification(conn, note)
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
