package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/cashbell/cashbell/internal/demo"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/poller"
)

type nopSink struct{}

func (nopSink) Notify(context.Context, desktop.Notification) (uint32, error) { return 0, nil }

// The demo is attached, added and removed while pollers read the registry:
// under -race this proves the demo connector is handed over safely.
func TestDemoComesAndGoesWhilePollersRun(t *testing.T) {
	w := testworld.New(t)
	svc := poller.New(poller.Options{Store: w.Store, Accounts: w.Reg, Sink: nopSink{}, Interval: 5 * time.Millisecond,
		InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	defer func() { cancel(); testproc.Within(t, done, 10*time.Second, "the pollers stopping") }()

	for range 3 {
		dm, err := demo.Start(time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := dm.Attach(ctx, w.Reg); err != nil {
			t.Fatal(err)
		}
		res, err := dm.AddAccount(ctx, w.Reg)
		if err != nil {
			t.Fatal(err)
		}
		svc.Reload()
		// Preferences re-checks the account while the demo is set again.
		rechecked := make(chan struct{})
		go func() {
			defer close(rechecked)
			for range 10 {
				_, _, _ = w.Reg.Recheck(ctx, res.Account.ID)
			}
		}()
		for range 10 {
			w.Reg.SetDemo(dm.Connector())
		}
		<-rechecked
		deadline := time.Now().Add(5 * time.Second)
		for {
			if st, _ := w.Store.State(ctx, res.Account.ID); st.Initialized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the demo account was never polled")
			}
			time.Sleep(5 * time.Millisecond)
		}
		w.Reg.SetDemo(nil)
		if err := w.Reg.Remove(ctx, res.Account.ID); err != nil {
			t.Fatal(err)
		}
		svc.Reload()
		dm.Close()
	}
}

// The demo account is on Stripe's newest version, as a new account is, so
// the first thing a new user sees runs on the newest shapes.
func TestDemoIsOnTheNewestVersion(t *testing.T) {
	dm, err := demo.Start(5*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dm.Close()
	key, err := dm.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c := dm.Connector().Client(key)
	deadline := time.Now().Add(5 * time.Second)
	for {
		it := c.Events.List(&stripe.EventListParams{})
		if it.Next() {
			if v := it.Event().APIVersion; v != stripesim.Newest {
				t.Fatalf("demo event at %q, want %q", v, stripesim.Newest)
			}
			return
		}
		if err := it.Err(); err != nil || time.Now().After(deadline) {
			t.Fatalf("no demo event: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
