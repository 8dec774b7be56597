// Package wiring builds Cashbell's long-lived pieces in one place, in the
// order they depend on each other, and closes them in reverse:
//
//	config folder → store → key vault → account registry → poller → demo
//
// The command line opens a Main for every command that needs the store; the
// tray app and the headless runner keep theirs until they quit. Nothing is
// set on a Main after Open returns; what changes while it runs (the demo)
// is guarded.
package wiring

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/atomicfile"
	"github.com/cashbell/cashbell/internal/demo"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/poller"
	"github.com/cashbell/cashbell/notifier/store"
)

// Config is what Open needs from the process.
type Config struct {
	Getenv   func(string) string
	Logger   *slog.Logger
	Notice   io.Writer        // where a sentence about a damaged store goes
	Logo     []byte           // the bundled account logo (PNG)
	Sink     poller.Sink      // the desktop's when nil
	Keyring  accounts.Keyring // the system keyring when nil
	Interval time.Duration    // overrides the stored poll interval when not zero
	// NoUI: nothing shows Activity (headless), so a burst's button
	// offers the account's Dashboard instead.
	NoUI bool
}

// Main is an open Cashbell: its folder, store, keys, accounts and poller.
type Main struct {
	Dirs     Dirs
	Logger   *slog.Logger
	Store    *store.Store
	Vault    *accounts.Vault
	Registry *accounts.Registry
	Service  *poller.Service

	logo []byte

	demoMu    sync.Mutex
	demo      *demo.Demo // running, or nil
	closed    chan struct{}
	closeOnce sync.Once
	sink      poller.Sink
}

// Actions receives the notifications the user clicked, where the sink
// hears clicks (the desktop's on Linux); nil otherwise.
func (m *Main) Actions() <-chan desktop.Action {
	if s, ok := m.sink.(clickable); ok {
		return s.Actions()
	}
	return nil
}

// Bell is the sink where it rings the bell (the desktop's), else nil.
func (m *Main) Bell() Bell {
	b, _ := m.sink.(Bell)
	return b
}

// Bell says how the bell rings, and rings it.
type Bell interface {
	Bell(ctx context.Context) string
	Ring(ctx context.Context) error
}

// clickable is a sink that hears which notification was clicked.
type clickable interface {
	Actions() <-chan desktop.Action
}

// Open builds everything; the caller closes the Main.
func Open(ctx context.Context, cfg Config) (*Main, error) {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Notice == nil {
		cfg.Notice = io.Discard
	}
	dirs, err := FindDirs(cfg.Getenv)
	if err != nil {
		return nil, err
	}
	conn, err := accounts.NewConnector(cfg.Getenv(accounts.EnvAPIBase))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dirs.Config, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create Cashbell's folder %s: %w; check that folder's permissions", dirs.Config, err)
	}
	store, err := store.Open(dirs.Store(), store.OpenOptions{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if aside := store.Recovered(); aside != "" {
		fmt.Fprintf(cfg.Notice, "cashbell: the store was damaged; it was moved to %s and your history will be rebuilt from Stripe's last 30 days\n", aside)
	}
	vault := openVault(cfg, dirs)
	reg := accounts.NewRegistry(accounts.Options{Records: store, Keys: vault, Connector: conn, LogoDir: dirs.Logos(), Logger: cfg.Logger})
	icon := ""
	if len(cfg.Logo) > 0 && writeAsset(dirs.Icon(), cfg.Logo) == nil {
		icon = dirs.Icon()
	}
	alert := ""
	if writeAsset(dirs.AlertIcon(), assets.AlertPNG()) == nil {
		alert = dirs.AlertIcon()
	}
	sink := cfg.Sink
	if sink == nil {
		desktop := desktop.New()
		if writeAsset(dirs.Bell(), assets.BellWAV()) == nil {
			desktop.SoundFile = dirs.Bell()
		}
		desktop.NoUI = cfg.NoUI
		sink = desktop
	}
	m := &Main{Dirs: dirs, Logger: cfg.Logger, Store: store, Vault: vault, Registry: reg, logo: cfg.Logo, closed: make(chan struct{}),
		sink: sink,
		Service: poller.New(poller.Options{Store: store, Accounts: reg, Sink: sink, Interval: cfg.Interval, Logger: cfg.Logger, Icon: icon,
			AlertIcon: alert})}
	return m, nil
}

// ResumeDemo starts the demo's simulator again when the registry holds the
// demo account, for the long-running modes; commands do without it.
func (m *Main) ResumeDemo(ctx context.Context) {
	if _, ok := demo.Account(ctx, m.Registry); ok {
		if _, err := m.startDemo(ctx); err != nil {
			m.Logger.Warn("demo not started", "err", err)
		}
	}
}

// openVault keeps keys in the system keyring, or in a 0600 file when
// CASHBELL_KEYRING=file or no keyring answers.
func openVault(cfg Config, dirs Dirs) *accounts.Vault {
	switch {
	case cfg.Getenv("CASHBELL_KEYRING") == "file":
		return accounts.OpenVault(dirs.Keys(), true)
	case cfg.Keyring != nil:
		return accounts.OpenVaultOn(dirs.Keys(), cfg.Keyring)
	}
	return accounts.OpenVault(dirs.Keys(), false)
}

// startDemo starts the demo's simulator once and points the registry at it.
func (m *Main) startDemo(ctx context.Context) (*demo.Demo, error) {
	m.demoMu.Lock()
	defer m.demoMu.Unlock()
	if m.demo != nil {
		return m.demo, nil
	}
	dm, err := demo.Start(demo.Every, m.logo)
	if err != nil {
		return nil, err
	}
	if err := dm.Attach(ctx, m.Registry); err != nil {
		dm.Close()
		return nil, err
	}
	m.demo = dm
	return dm, nil
}

// AddDemo starts the demo if it is not running and adds its account; a demo
// account that is already there is returned as it is.
func (m *Main) AddDemo(ctx context.Context) (accounts.AddResult, error) {
	dm, err := m.startDemo(ctx)
	if err != nil {
		return accounts.AddResult{}, err
	}
	if a, ok := demo.Account(ctx, m.Registry); ok {
		return accounts.AddResult{Account: a}, nil
	}
	res, err := dm.AddAccount(ctx, m.Registry)
	if err == nil {
		go m.firstDemoSale(res.Account.ID, dm)
	}
	return res, err
}

// firstDemoSale rings the demo's first sale as soon as the account's first
// import (which is silent) is done, rather than at the demo's next tick
// and the poller's after it.
func (m *Main) firstDemoSale(id string, dm *demo.Demo) {
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-m.closed:
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := m.Store.State(ctx, id)
		cancel()
		if err == nil && st.Initialized {
			dm.Sale()
			m.Service.PollNow(id)
			return
		}
	}
}

// Close stops the demo and closes the store.
func (m *Main) Close() {
	m.closeOnce.Do(func() { close(m.closed) })
	m.demoMu.Lock()
	if m.demo != nil {
		m.demo.Close()
		m.demo = nil
	}
	m.demoMu.Unlock()
	m.Store.Close()
}

// Dirs are where Cashbell keeps its state.
type Dirs struct {
	Config string // <user config dir>/cashbell
}

// Store is the bbolt file.
func (d Dirs) Store() string { return filepath.Join(d.Config, "cashbell.db") }

// Keys is the fallback key file.
func (d Dirs) Keys() string { return filepath.Join(d.Config, "keys.json") }

// Bell is the sound of a sale as a file, for the notification service.
func (d Dirs) Bell() string { return filepath.Join(d.Config, "cashbell-bell.wav") }

// AlertIcon is the bad-news icon as a file, for the notification service.
func (d Dirs) AlertIcon() string { return filepath.Join(d.Config, "cashbell-alert.png") }

// Logos is the folder of account logos.
func (d Dirs) Logos() string { return filepath.Join(d.Config, "logos") }

// Icon is the bundled logo as a file.
func (d Dirs) Icon() string { return filepath.Join(d.Config, "cashbell.png") }

// FindDirs finds the config folder: XDG_CONFIG_HOME or ~/.config on Linux and
// the BSDs, the platform's own elsewhere (os.UserConfigDir).
func FindDirs(getenv func(string) string) (Dirs, error) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return Dirs{}, fmt.Errorf("finding your config folder: %w", err)
		}
		return Dirs{Config: filepath.Join(dir, "Cashbell")}, nil
	}
	if base := ConfigHome(getenv); base != "" {
		return Dirs{Config: filepath.Join(base, "cashbell")}, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("finding your config folder: %w (set HOME or XDG_CONFIG_HOME)", err)
	}
	return Dirs{Config: filepath.Join(dir, "cashbell")}, nil
}

// ConfigHome is the XDG config folder: an absolute XDG_CONFIG_HOME, else
// $HOME/.config, else "" when neither is set.
func ConfigHome(getenv func(string) string) string {
	if base := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(base) {
		return base
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config")
	}
	return ""
}

// writeAsset puts a bundled file where the notification server reads it
// by path. A file that is already right is left alone, and a new one
// replaces the old in one rename, so that a server reading it while a
// command runs never finds half a file.
func writeAsset(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return atomicfile.Write(path, data, 0o600)
}
