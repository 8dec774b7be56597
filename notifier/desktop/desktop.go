// Package desktop shows notifications on the desktop: over the session
// bus's org.freedesktop.Notifications where there is one (Linux and the
// BSDs), as toasts on Windows, and nowhere else. It hears their clicks and
// knows nothing of Stripe: it is handed a title, a body and where a click
// leads.
package desktop

import (
	"context"
	"errors"
	"fmt"
)

// Notification is one desktop notification.
type Notification struct {
	Title   string
	Body    string
	Icon    string // path of a PNG
	Account string
	URL     string // Dashboard page
	// Urgent is bad news: critical urgency, shown until dismissed.
	Urgent bool
	// Replaces is the id of the notification this one updates in place (a
	// burst growing), or 0 for a new one.
	Replaces uint32
	// Burst stands for several happenings: clicking it shows them all
	// (Activity), not one page of the Dashboard.
	Burst bool
	// Sound asks for the bell: a kind whose sound is on is in it.
	Sound bool
	// Events are the ids of the events whose happenings this notification
	// (or this update of a burst) announces for the first time. The desktop
	// sends them as a hint, so that what a person was shown can be
	// accounted for, event by event, from the session bus alone.
	Events []string
}

// EventsHint is the notification hint that lists the ids of the events a
// notification announces (Notification.Events), where the desktop has hints.
const EventsHint = "x-cashbell-events"

// Action is a click on a notification: the notification, and which of its
// actions ("default" for the notification itself, "open" for its button).
type Action struct {
	Notification
	Key string
}

// ErrNoBell means nothing here can ring the bell: the notification service
// plays no sounds, and no sound player is installed (on Linux,
// canberra-gtk-play from libcanberra, pw-play from PipeWire or paplay from
// PulseAudio).
var ErrNoBell = errors.New("nothing here can ring the bell")

// showAsync shows a notification through show, which cannot be cancelled
// once under way: a notification service that hangs costs a goroutine, not
// the poller.
func showAsync(ctx context.Context, what string, show func() (uint32, error)) (uint32, error) {
	type shown struct {
		id  uint32
		err error
	}
	done := make(chan shown, 1)
	go func() {
		id, err := show()
		done <- shown{id, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return 0, fmt.Errorf("%s: %w", what, r.err)
		}
		return r.id, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
