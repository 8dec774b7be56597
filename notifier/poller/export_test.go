package poller

// SetSubscriptionPages caps a listing of subscriptions at n pages, for a
// test, until it ends.
func SetSubscriptionPages(n int) (restore func()) {
	old := subscriptionPages
	subscriptionPages = n
	return func() { subscriptionPages = old }
}
