package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cashbell/cashbell/internal/opener"
	"github.com/cashbell/cashbell/internal/wiring"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/store"
)

// runGUI opens Cashbell and runs the desktop app until it quits. A second
// launch asks the running one to show its window instead.
func runGUI(ctx context.Context, env Env, args []string) error {
	fs := newFlags("cashbell")
	wantDemo := fs.Bool("demo", false, "")
	interval := fs.Duration("interval", 0, "")
	verbose := fs.Bool("verbose", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if env.GUI == nil {
		return errors.New("this build has no window: use `cashbell run --headless`")
	}
	if err := checkInterval(*interval); err != nil {
		return err
	}
	logger := NewLogger(env.Stderr, *verbose)
	m, err := wiring.Open(ctx, env.config(*interval, logger))
	if errors.Is(err, store.ErrAlreadyRunning) {
		if serr := showRunning(ctx, env); serr != nil {
			return fmt.Errorf("%w; it did not bring its window forward: %w", err, serr)
		}
		fmt.Fprintln(env.Stdout, "Cashbell is already running; its window was brought forward.")
		return nil
	}
	if err != nil {
		return err
	}
	defer m.Close()
	m.ResumeDemo(ctx)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	show, changes := make(chan struct{}, 1), make(chan struct{}, 1)
	srv, closeLocal := serveLocal(env, m, signal(show), signal(changes))
	defer closeLocal() // gone before Cashbell is
	pipe, _ := endpoint(env, m.Dirs)
	host, err := newUIHost(srv, pipe, logger)
	if err != nil {
		return err
	}
	return env.GUI(ctx, m, GUIOptions{WantDemo: *wantDemo, Show: show, UI: host, Changes: changes})
}

// signal returns a function that signals ch without waiting; signals that
// nobody has read yet are merged into one.
func signal(ch chan struct{}) func() {
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func checkInterval(d time.Duration) error {
	if d < 0 || d != 0 && d < 10*time.Millisecond {
		return fmt.Errorf("%w: --interval must be at least 10ms, and 5s or more is kind to Stripe's rate limits (got %s)", errUsage, d)
	}
	return nil
}

// runHeadless polls and notifies without a window until a signal.
func runHeadless(ctx context.Context, env Env, args []string) error {
	fs := newFlags("run")
	fs.Bool("headless", true, "")
	interval := fs.Duration("interval", 0, "")
	verbose := fs.Bool("verbose", false, "")
	wantDemo := fs.Bool("demo", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkInterval(*interval); err != nil {
		return err
	}
	logger := NewLogger(env.Stderr, *verbose)
	cfg := env.config(*interval, logger)
	cfg.NoUI = true
	m, err := wiring.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	m.ResumeDemo(ctx)
	if *wantDemo {
		if _, err := m.AddDemo(ctx); err != nil {
			return err
		}
	}
	_, closeLocal := serveLocal(env, m, nil, nil)
	defer closeLocal() // gone before Cashbell is
	list, err := m.Registry.List(ctx)
	if err != nil {
		return err
	}
	go openClicked(ctx, m.Actions(), logger)
	logger.Info("cashbell running headless", "accounts", len(list), "store", m.Dirs.Store(), "keys", m.Vault.Where())
	if len(list) == 0 {
		logger.Warn("no accounts yet: add one with `cashbell accounts add` (the key is read from stdin)")
	}
	err = m.Service.Run(ctx)
	logger.Info("cashbell stopped")
	return err
}

// openClicked opens the Dashboard page of each notification the user
// clicks, until ctx ends; without a window, a burst opens the account.
func openClicked(ctx context.Context, clicks <-chan desktop.Action, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-clicks:
			if err := opener.Open(ctx, a.URL); err != nil {
				logger.Warn("notification clicked, but the page did not open", "err", err)
			}
		}
	}
}
