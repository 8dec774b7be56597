// Package demo serves a demo Stripe account from the in-process simulator on
// loopback, with events every few seconds, so that a new user sees Cashbell
// work before pasting a key of their own.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
)

// StripeAccount is the simulated account's id; it stays the same across runs
// so that the demo account in the registry finds it again.
const StripeAccount = "acct_1CashbellDemoShop"

// Name is how the demo account introduces itself.
const Name = "Demo Shop" // the DEMO badge says the rest

// Every is how often the demo makes an event.
const Every = 4 * time.Second

// Demo is a running demo.
type Demo struct {
	sim    *stripesim.Sim
	conn   *accounts.Connector
	cancel context.CancelFunc
	done   chan struct{}
}

// Start serves the simulator on loopback and makes an event every interval
// until Close. logo is the account's branding icon.
func Start(every time.Duration, logo []byte) (*Demo, error) {
	sim := stripesim.New(stripesim.Options{}).Start()
	// The demo is on Stripe's newest version, as an account opened today
	// would be; the tests cover the older ones.
	sim.CreateAccount(stripesim.AccountSpec{ID: StripeAccount, DisplayName: Name, Icon: logo, APIVersion: stripesim.Newest})
	conn, err := accounts.NewConnector(sim.URL)
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("starting the demo: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Demo{sim: sim, conn: conn, cancel: cancel, done: make(chan struct{})}
	gen := sim.Generator(StripeAccount, false, uint64(time.Now().UnixNano())).Shop()
	// A month behind it, so Activity's chart and MRR are not empty; the
	// first import stores it without a sound.
	gen.Past(29, time.Now())
	go func() {
		defer close(d.done)
		gen.Run(ctx, every)
	}()
	return d, nil
}

// NewKey makes a test-mode restricted key with every permission Cashbell asks for.
func (d *Demo) NewKey() (accounts.Key, error) {
	return accounts.ParseKey(d.sim.NewKey(StripeAccount, false, stripesim.Restricted, stripesim.AllPermissions...))
}

// Adopt makes a key kept from an earlier run valid again.
func (d *Demo) Adopt(key accounts.Key) {
	d.sim.AdoptKey(key.Reveal(), StripeAccount, false, stripesim.Restricted, stripesim.AllPermissions...)
}

// Sale makes one sale now, with a generator of its own (the running one is
// not safe to share).
func (d *Demo) Sale() {
	g := d.sim.Generator(StripeAccount, false, uint64(time.Now().UnixNano())+1).Shop()
	g.Sale(g.RandomSale())
}

// Close stops making events and stops the server.
func (d *Demo) Close() {
	d.cancel()
	<-d.done
	d.sim.Close()
}

// Registry is what the demo needs from the account registry.
type Registry interface {
	List(ctx context.Context) ([]accounts.Account, error)
	Key(id string, where accounts.Storage) (accounts.Key, error)
	Add(ctx context.Context, req accounts.AddRequest) (accounts.AddResult, error)
	SetDemo(c *accounts.Connector)
}

var _ Registry = (*accounts.Registry)(nil)

// Attach points the registry's demo accounts at this demo and revives their keys.
func (d *Demo) Attach(ctx context.Context, reg Registry) error {
	reg.SetDemo(d.conn)
	list, err := reg.List(ctx)
	if err != nil {
		return err
	}
	for _, a := range list {
		if !a.Demo {
			continue
		}
		key, err := reg.Key(a.ID, a.KeyStorage)
		if err != nil {
			return fmt.Errorf("the demo account's key: %w", err)
		}
		d.Adopt(key)
	}
	return nil
}

// Account returns the registry's demo account, if it holds one.
func Account(ctx context.Context, reg Registry) (accounts.Account, bool) {
	list, err := reg.List(ctx)
	if err != nil {
		return accounts.Account{}, false
	}
	for _, a := range list {
		if a.Demo {
			return a, true
		}
	}
	return accounts.Account{}, false
}

// AddAccount adds the demo account to the registry (the demo must be attached).
func (d *Demo) AddAccount(ctx context.Context, reg Registry) (accounts.AddResult, error) {
	key, err := d.NewKey()
	if err != nil {
		return accounts.AddResult{}, err
	}
	return reg.Add(ctx, accounts.AddRequest{Key: key, Demo: true})
}
