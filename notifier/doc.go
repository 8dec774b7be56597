// Package notifier polls each account's Stripe events into the bbolt store,
// turns new ones into notification text, and delivers them on the desktop,
// grouping bursts and never showing an event twice.
//
// It never imports Fyne: the tray app and the headless runner both drive it.
package notifier
