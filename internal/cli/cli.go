// Package cli is Cashbell's command line. It parses the subcommands, finds the
// config directory, opens the store and builds the services that the GUI, the
// headless runner and the account commands share. main hands it the GUI.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/demo"
	"github.com/cashbell/cashbell/internal/single"
	"github.com/cashbell/cashbell/notifier"
)

// Env is everything the command line touches, so tests can run it in-process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// GUI runs the desktop app until it quits; nil when there is none.
	GUI func(ctx context.Context, d *Deps) error
	// Logo is the bundled account logo (PNG).
	Logo []byte
	// Sink delivers notifications; the desktop's when nil.
	Sink notifier.Sink
	// Keyring keeps keys; the system keyring when nil.
	Keyring accounts.Keyring
	// Exit ends the process, for a GUI that cannot end its own loop; os.Exit
	// when nil.
	Exit func(code int)
	// running are the services of the running instance, when it runs a
	// command for another process.
	running *Deps
}

// Deps are the services, built once and shared by every front end.
type Deps struct {
	Dirs     Dirs
	Store    *notifier.Store
	Vault    *accounts.Vault
	Registry *accounts.Registry
	Service  *notifier.Service
	Logger   *slog.Logger
	Demo     *demo.Demo // running demo, or nil
	// WantDemo asks the GUI to add the demo account (--demo).
	WantDemo bool
	// LogoPath is the bundled account logo written as a file, for notifications.
	LogoPath string
	exit     func(code int)
	// onChanged is called after an account changed (by the poller or a
	// served command); the GUI sets it with SetChanged while both run.
	onChanged atomic.Pointer[func(accountID string)]
	// StartDemo starts the demo (if it is not running) and attaches it.
	StartDemo func(ctx context.Context) (*demo.Demo, error)
}

// SetChanged sets what is called after an account changed.
func (d *Deps) SetChanged(f func(accountID string)) { d.onChanged.Store(&f) }

func (d *Deps) notifyChanged(id string) {
	if f := d.onChanged.Load(); f != nil {
		(*f)(id)
	}
}

// Dirs are where Cashbell keeps its state.
type Dirs struct {
	Config string // <user config dir>/cashbell
}

// Store is the bbolt file.
func (d Dirs) Store() string { return filepath.Join(d.Config, "cashbell.db") }

// Keys is the fallback key file.
func (d Dirs) Keys() string { return filepath.Join(d.Config, "keys.json") }

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
	base := ConfigHome(getenv)
	if base == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return Dirs{}, fmt.Errorf("finding your config folder: %w (set HOME or XDG_CONFIG_HOME)", err)
		}
		base = dir
	}
	return Dirs{Config: filepath.Join(base, "cashbell")}, nil
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

const usage = `Cashbell rings when your Stripe accounts make money.

Usage:
  cashbell [--demo] [--interval D]        open the tray app
  cashbell run --headless [--interval D]  poll and notify without a window
  cashbell accounts add [--name N] [--connected acct_...] [--key-file F]
                                          add an account; the key is read from stdin
  cashbell accounts check [--connected acct_...] [--key-file F]
                                          show what a key may read; stores nothing
  cashbell accounts list [--json]         list accounts
  cashbell accounts remove <id>           remove an account, its key and its history
  cashbell events [--account ID] [--limit N] [--json]
                                          print stored events, newest first

Keys are never taken on the command line. Set CASHBELL_API_BASE to talk to another
Stripe API base (https, or http on loopback).
`

// errUsage marks a usage mistake (exit status 2).
var errUsage = errors.New("usage")

// Main runs the command line and returns the exit status.
func Main(ctx context.Context, env Env) int {
	err := run(ctx, env)
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(env.Stdout, usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "cashbell: %s\n", strings.TrimPrefix(err.Error(), "usage: "))
		fmt.Fprint(env.Stderr, "Run `cashbell help` for the commands.\n")
		return 2
	default:
		fmt.Fprintf(env.Stderr, "cashbell: %s\n", oneLine(accounts.Redact(err.Error())))
		return 1
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func run(ctx context.Context, env Env) error {
	if addr := env.Getenv("CASHBELL_PPROF"); addr != "" {
		startProfiler(addr, env.Stderr)
	}
	args := env.Args
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help":
		return flag.ErrHelp
	case "", "gui":
		return runGUI(ctx, env, args)
	case "run":
		return runHeadless(ctx, env, args)
	case "accounts":
		if len(args) == 0 {
			return fmt.Errorf("%w: accounts needs a subcommand: add, check, list or remove", errUsage)
		}
		switch args[0] {
		case "add":
			return accountsAdd(ctx, env, args[1:])
		case "check":
			return accountsCheck(ctx, env, args[1:])
		case "list":
			return accountsList(ctx, env, args[1:])
		case "remove", "rm":
			return accountsRemove(ctx, env, args[1:])
		}
		return fmt.Errorf("%w: unknown accounts subcommand %q", errUsage, args[0])
	case "events":
		return events(ctx, env, args)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func newFlags(env Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	return nil
}

// open builds the shared services. The caller closes d.Store.
func open(ctx context.Context, env Env, logger *slog.Logger) (*Deps, error) {
	dirs, err := FindDirs(env.Getenv)
	if err != nil {
		return nil, err
	}
	conn, err := accounts.NewConnector(env.Getenv(accounts.EnvAPIBase))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dirs.Config, 0o700); err != nil {
		return nil, fmt.Errorf("Cashbell cannot create its folder %s: %w; check that folder's permissions", dirs.Config, err)
	}
	store, err := notifier.Open(dirs.Store(), notifier.OpenOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	if aside := store.Recovered(); aside != "" {
		fmt.Fprintf(env.Stderr, "cashbell: the store was damaged; it was moved to %s and your history will be rebuilt from Stripe's last 30 days\n", aside)
	}
	vault := openVault(env, dirs)
	reg := accounts.NewRegistry(accounts.Options{Records: store, Keys: vault, Connector: conn, LogoDir: dirs.Logos(), Logger: logger})
	d := &Deps{Dirs: dirs, Store: store, Vault: vault, Registry: reg, Logger: logger, exit: env.Exit}
	if d.exit == nil {
		d.exit = os.Exit
	}
	if len(env.Logo) > 0 {
		if err := os.WriteFile(dirs.Icon(), env.Logo, 0o600); err == nil {
			d.LogoPath = dirs.Icon()
		}
	}
	d.StartDemo = func(ctx context.Context) (*demo.Demo, error) {
		if d.Demo != nil {
			return d.Demo, nil
		}
		dm, err := demo.Start(demo.Every, env.Logo)
		if err != nil {
			return nil, err
		}
		if err := dm.Attach(ctx, reg); err != nil {
			dm.Close()
			return nil, err
		}
		d.Demo = dm
		return dm, nil
	}
	if demo.HasDemoAccount(ctx, reg) {
		if _, err := d.StartDemo(ctx); err != nil {
			logger.Warn("demo not started", "err", err)
		}
	}
	return d, nil
}

// openVault keeps keys in the system keyring, or in a 0600 file when
// CASHBELL_KEYRING=file or no keyring answers.
func openVault(env Env, dirs Dirs) *accounts.Vault {
	switch {
	case env.Getenv("CASHBELL_KEYRING") == "file":
		return accounts.OpenVault(dirs.Keys(), true)
	case env.Keyring != nil:
		return accounts.OpenVaultOn(dirs.Keys(), env.Keyring)
	}
	return accounts.OpenVault(dirs.Keys(), false)
}

// ForceExit closes the store, waiting a few seconds at most, and ends the
// process with status 0: for a GUI whose toolkit hangs as it quits.
func (d *Deps) ForceExit() {
	closed := make(chan struct{})
	go func() { d.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		d.Logger.Warn("the store did not close in time; its last transaction is safe on disk")
	}
	d.exit(0)
}

func (d *Deps) close() {
	if d.Demo != nil {
		d.Demo.Close()
	}
	d.Store.Close()
}

func (d *Deps) buildService(env Env, interval time.Duration) {
	sink := env.Sink
	if sink == nil {
		sink = notifier.NewDesktop()
	}
	d.Service = notifier.New(notifier.Options{
		Store: d.Store, Accounts: d.Registry, Sink: sink, Interval: interval, Logger: d.Logger,
		Icon: d.LogoPath, OnChange: func(id string) {
			d.notifyChanged(id)
		},
	})
}

func runGUI(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "cashbell")
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
	d, err := open(ctx, env, logger)
	if errors.Is(err, notifier.ErrAlreadyRunning) && single.Activate(ctx) {
		fmt.Fprintln(env.Stdout, "Cashbell is already running; its window was brought forward.")
		return nil
	}
	if err != nil {
		return err
	}
	defer d.close()
	d.WantDemo = *wantDemo
	d.buildService(env, *interval)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	serveInstance(ctx, env, d)
	return env.GUI(ctx, d)
}

func checkInterval(d time.Duration) error {
	if d < 0 || d != 0 && d < 10*time.Millisecond {
		return fmt.Errorf("%w: --interval must be at least 10ms, and 5s or more is kind to Stripe's rate limits (got %s)", errUsage, d)
	}
	return nil
}

func runHeadless(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "run")
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
	d, err := open(ctx, env, logger)
	if err != nil {
		return err
	}
	defer d.close()
	if *wantDemo && !demo.HasDemoAccount(ctx, d.Registry) {
		dm, err := d.StartDemo(ctx)
		if err != nil {
			return err
		}
		if _, err := dm.AddAccount(ctx, d.Registry); err != nil {
			return err
		}
	}
	d.buildService(env, *interval)
	serveInstance(ctx, env, d)
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	logger.Info("cashbell running headless", "accounts", len(list), "store", d.Dirs.Store(), "keys", d.Vault.Where())
	if len(list) == 0 {
		logger.Warn("no accounts yet: add one with `cashbell accounts add` (the key is read from stdin)")
	}
	err = d.Service.Run(ctx)
	logger.Info("cashbell stopped")
	return err
}

// maxKeyInput is how much of stdin or a key file is read.
const maxKeyInput = 4096

// readKey reads a key from --key-file or stdin, prompting without echo when
// stdin is a terminal. The key never passes through argv.
func readKey(env Env, file string) (accounts.Key, error) {
	var raw string
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return accounts.Key{}, fmt.Errorf("reading the key file: %w", err)
		}
		defer f.Close()
		// A key is about 110 characters: read a little more than any key, so
		// that /dev/zero or a wrong file cannot fill the memory.
		data, err := io.ReadAll(io.LimitReader(f, maxKeyInput))
		if err != nil {
			return accounts.Key{}, fmt.Errorf("reading the key file: %w", err)
		}
		raw = string(data)
	default:
		if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(env.Stderr, "Paste a restricted key (rk_live_… or rk_test_…) and press Enter: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return accounts.Key{}, fmt.Errorf("reading the key: %w", err)
			}
			raw = string(b)
		} else {
			r := bufio.NewReader(io.LimitReader(env.Stdin, maxKeyInput))
			line, err := r.ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return accounts.Key{}, fmt.Errorf("reading the key from stdin: %w", err)
			}
			raw = line
		}
	}
	return accounts.ParseKey(raw)
}

func accountsAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "accounts add")
	name := fs.String("name", "", "")
	connected := fs.String("connected", "", "")
	keyFile := fs.String("key-file", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := readKey(env, *keyFile)
	if err != nil {
		return err
	}
	d, done, err := openOrForward(ctx, env, NewLogger(io.Discard, false),
		request{Args: []string{"accounts", "add", "--name", *name, "--connected", *connected}, Stdin: key.Reveal()})
	if err != nil {
		return err
	}
	defer done()
	res, err := d.Registry.Add(ctx, accounts.AddRequest{Key: key, Name: *name, Connected: *connected})
	for _, w := range res.Warnings {
		fmt.Fprintln(env.Stderr, "warning: "+w)
	}
	if err != nil {
		if len(res.Report.Results) > 0 && errors.Is(err, accounts.ErrEventsNotAllowed) {
			printReport(env.Stderr, res.Report)
		}
		return err
	}
	a := res.Account
	d.changed(a.ID)
	fmt.Fprintf(env.Stdout, "Added %s (%s, %s mode) as %s.\n", a.Name, a.StripeAccount, a.Mode, a.ID)
	if len(a.Missing) > 0 {
		printReport(env.Stdout, res.Report)
	}
	if res.IdentityErr != nil {
		fmt.Fprintf(env.Stdout, "The name or logo could not be imported (%s); you can set them in Preferences.\n", accounts.Redact(res.IdentityErr.Error()))
	}
	fmt.Fprintln(env.Stdout, d.Vault.KeyNote(a.KeyStorage))
	return nil
}

func accountsCheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "accounts check")
	connected := fs.String("connected", "", "")
	keyFile := fs.String("key-file", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := readKey(env, *keyFile)
	if err != nil {
		return err
	}
	conn, err := accounts.NewConnector(env.Getenv(accounts.EnvAPIBase))
	if err != nil {
		return err
	}
	reg := accounts.NewRegistry(accounts.Options{Connector: conn})
	rep, err := reg.Check(ctx, key, *connected)
	if len(rep.Results) > 0 {
		printReport(env.Stdout, rep)
	}
	for _, w := range rep.Warnings() {
		fmt.Fprintln(env.Stderr, "warning: "+w)
	}
	if err != nil {
		return err
	}
	if !rep.Usable() {
		return accounts.ErrEventsNotAllowed
	}
	return nil
}

func printReport(w io.Writer, rep accounts.Report) {
	fmt.Fprintf(w, "Key %s (%s, %s mode)", rep.Key, rep.Kind, rep.Mode)
	if rep.AccountID != "" {
		fmt.Fprintf(w, " on %s", rep.AccountID)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Results {
		note := r.Gives
		switch r.Status {
		case accounts.Missing:
			note = "missing: " + r.IfMissing
		case accounts.Unknown:
			note = "could not check: " + errText(r.Err)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Name, r.Status, note)
	}
	tw.Flush()
	if len(rep.MissingNames()) > 0 {
		fmt.Fprintf(w, "Create a key with every permission: %s\n", accounts.CreateKeyURL(rep.Mode))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return accounts.Redact(err.Error())
}

func accountsList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "accounts list")
	asJSON := fs.Bool("json", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	d, done, err := openOrForward(ctx, env, NewLogger(io.Discard, false), request{Args: append([]string{"accounts", "list"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []accounts.Account{}
		}
		return printJSON(env.Stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No accounts yet. Add one with: cashbell accounts add < key-file")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMODE\tKEY\tKEY KEPT IN\tSTATUS\tMISSING")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, strings.ToUpper(string(a.Mode)), a.KeyMasked, keptIn(a.KeyStorage), a.Status, strings.Join(a.Missing, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, d.Vault.Summary(list))
	return nil
}

func keptIn(where accounts.Storage) string {
	if where == accounts.StorageFile {
		return "keys.json"
	}
	return string(where)
}

func accountsRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "accounts remove")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: accounts remove takes one account id (see `cashbell accounts list`)", errUsage)
	}
	d, done, err := openOrForward(ctx, env, NewLogger(io.Discard, false), request{Args: append([]string{"accounts", "remove"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	if err := d.Registry.Remove(ctx, fs.Arg(0)); err != nil {
		return err
	}
	d.changed(fs.Arg(0))
	fmt.Fprintf(env.Stdout, "Removed %s, its key and its history.\n", fs.Arg(0))
	return nil
}

func events(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "events")
	account := fs.String("account", "", "")
	limit := fs.Int("limit", 20, "")
	asJSON := fs.Bool("json", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100000 {
		return fmt.Errorf("%w: --limit must be between 1 and 100000", errUsage)
	}
	d, done, err := openOrForward(ctx, env, NewLogger(io.Discard, false), request{Args: append([]string{"events"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	names := map[string]accounts.Account{}
	for _, a := range list {
		names[a.ID] = a
	}
	q := notifier.Query{Limit: *limit}
	if *account != "" {
		if _, ok := names[*account]; !ok {
			return fmt.Errorf("%w (%q)", accounts.ErrNotFound, *account)
		}
		q.Accounts = []string{*account}
	}
	evs, _, err := d.Store.Page(ctx, q)
	if err != nil {
		return err
	}
	money := notifier.NewMoney(env.Getenv("LANG"))
	if *asJSON {
		type row struct {
			ID       string          `json:"id"`
			Account  string          `json:"account"`
			Type     string          `json:"type"`
			Created  time.Time       `json:"created"`
			Title    string          `json:"title"`
			Body     string          `json:"body"`
			Notified string          `json:"notified"`
			Object   json.RawMessage `json:"object"`
		}
		rows := make([]row, 0, len(evs))
		for _, e := range evs {
			t := notifier.Describe(e, names[e.Account].Name, notifier.Details{}, notifier.TextOptions{Money: money})
			rows = append(rows, row{e.ID, e.Account, e.Type, e.CreatedTime().UTC(), t.Title, t.Body, markName(e.Mark), e.Object})
		}
		return printJSON(env.Stdout, rows)
	}
	if len(evs) == 0 {
		fmt.Fprintln(env.Stdout, "No events stored yet.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACCOUNT\tEVENT\tDETAILS")
	for _, e := range evs {
		t := notifier.Describe(e, names[e.Account].Name, notifier.Details{}, notifier.TextOptions{Money: money})
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.CreatedTime().Local().Format("2006-01-02 15:04:05"), e.Account, strings.TrimPrefix(t.Title, names[e.Account].Name+" — "), t.Body)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func markName(m notifier.Mark) string {
	switch m {
	case notifier.MarkSilent:
		return "silent"
	case notifier.MarkNotified:
		return "notified"
	case notifier.MarkSummarised:
		return "summarised"
	case notifier.MarkSkipped:
		return "skipped"
	}
	return "pending"
}
