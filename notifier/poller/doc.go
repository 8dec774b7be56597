// Package poller polls each account's Stripe events into the store and
// tells the new ones on the desktop: one loop per account (service.go,
// loop.go) reads GET /v1/events (fetch.go), stores each page with its
// outbox entries, reads what an event does not carry (enrich.go), and
// delivers (deliver.go): bad news on its own, good news as one running
// notification that updates itself, each event marked just before the
// notification that tells it, so none is shown twice.
//
// What an event means and how it is said is the notifier package's; the
// store is notifier/store; the desktop is notifier/desktop, behind Sink.
package poller
