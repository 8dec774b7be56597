// Package notifier knows what a Stripe event means and how to say it. Each
// event is decoded once into a Happening through its kind's row in
// kinds.go: its amount, customer, plan, whether it is worth a notification
// and whether it is money in. The text of a notification (happening.go,
// burst.go), the day's money (days.go) and the store read as happenings
// (history.go) are built on it.
//
// Beside it: notifier/store keeps the events, notifier/poller fetches and
// delivers them, and notifier/desktop shows them. None imports Fyne.
package notifier
