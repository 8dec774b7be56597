// Package notifier knows what a Stripe event means and says it: each
// event is decoded once into a Happening through its kind's row in kinds.go
// (its amount, customer, plan and words), the day's money is added up from
// happenings (days.go), and the poller in this package turns new events
// into notifications.
//
// A sale travels forward through four files and two packages: fetch.go
// reads it from GET /v1/events, store.Ingest (notifier/store) keeps it with
// its outbox entry in one transaction, deliver.go decodes it (Decode,
// kinds.go), marks it and hands a desktop.Notification to the sink, and
// notifier/desktop shows it over D-Bus (or as a Windows toast). service.go
// and loop.go schedule the polls; enrich.go reads what an event does not
// carry.
//
// It never imports Fyne: the tray app and the headless runner both drive it.
package notifier
