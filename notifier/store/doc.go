// Package store keeps Cashbell's state in one bbolt file: the accounts
// (never their keys), each account's events as Stripe sent them, the outbox
// of events waiting to be told and how each was handled (its Mark), the
// happenings already told, the facts enrichment learnt, the settings and the
// poll state. A damaged file is moved aside and rebuilt from Stripe.
//
// It knows nothing of what an event means: the notifier package decodes
// events; the store only keeps them, in order, exactly once.
package store
