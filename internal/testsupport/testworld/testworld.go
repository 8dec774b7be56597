// Package testworld builds what most tests start from: the Stripe simulator,
// a bbolt store in a temporary folder, and an account registry on both, with
// keys in a 0600 file as on a machine without a keyring.
package testworld

import (
	"path/filepath"
	"testing"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/notifier/store"
)

// World is one test's simulator, store and registry, closed when it ends.
type World struct {
	Sim   *fakestripe.Stripe
	Store *store.Store
	Reg   *accounts.Registry
	Vault *accounts.Vault // keys in a 0600 file
	Dir   string          // the temporary folder that holds the store, keys and logos
}

// New starts a simulator and opens a store and a registry that talk to it.
func New(t testing.TB) *World { return NewWith(t, stripesim.Options{}) }

// NewWith is New with the simulator's options (its clock, its rate limits).
func NewWith(t testing.TB, opts stripesim.Options) *World {
	t.Helper()
	sim := fakestripe.New(opts).Start()
	t.Cleanup(sim.Close)
	return On(t, sim, sim.URL)
}

// On opens a store and a registry for sim, reached through the API base
// (sim.URL, or a proxy in front of it).
func On(t testing.TB, sim *fakestripe.Stripe, base string) *World {
	t.Helper()
	dir := t.TempDir()
	store, err := store.Open(filepath.Join(dir, "cashbell.db"), store.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	conn, err := accounts.NewConnector(base)
	if err != nil {
		t.Fatal(err)
	}
	vault := accounts.OpenVault(filepath.Join(dir, "keys.json"), true)
	reg := accounts.NewRegistry(accounts.Options{Records: store, Keys: vault, Connector: conn, LogoDir: filepath.Join(dir, "logos")})
	return &World{Sim: sim, Store: store, Reg: reg, Vault: vault, Dir: dir}
}
