// Package notifier polls each account's Stripe events into the bbolt store,
// turns new ones into notifications, and delivers them on the desktop,
// grouping bursts and never showing an event twice.
//
// One event travels forward through four files: fetch.go reads it from
// GET /v1/events, events.go stores it (with its outbox entry, in one
// transaction), deliver.go decodes it once into a Happening through its
// kind's row in kinds.go and marks it, and desktop_linux.go (or
// desktop_other.go) shows it. service.go and loop.go schedule the polls;
// enrich.go reads what an event does not carry.
//
// It never imports Fyne: the tray app and the headless runner both drive it.
package notifier
