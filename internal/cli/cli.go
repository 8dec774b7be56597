// Package cli is Cashbell's command line: it parses the subcommands, opens
// what they need through internal/wiring, and prints their answers. The
// desktop app is handed in by main, so that a -tags nogui build links no Fyne.
package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/internal/wiring"
	"github.com/cashbell/cashbell/notifier/poller"
)

// Env is everything the command line touches, so tests can run it in-process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// GUI runs the tray app until it quits; nil when there is none.
	GUI func(ctx context.Context, m *wiring.Main, o GUIOptions) error
	// UI runs a running Cashbell's windows until the last one closes; nil
	// when there is no GUI.
	UI func(ctx context.Context, o UIOptions) error
	// Logo is the bundled account logo (PNG).
	Logo []byte
	// Version is the app's version, from FyneApp.toml.
	Version string
	// Sink delivers notifications; the desktop's when nil.
	Sink poller.Sink
	// Keyring keeps keys; the system keyring when nil.
	Keyring accounts.Keyring

	// running is the running instance, when it runs a command for another
	// process (see instance.go).
	running *wiring.Main
}

// GUIOptions are what the command line tells the desktop app.
type GUIOptions struct {
	WantDemo bool            // --demo: add and show the demo account
	Show     <-chan struct{} // a second launch asks for the window
	UI       *UIHost         // starts and commands the UI process
	Changes  <-chan struct{} // the windows changed accounts or settings
}

// UIOptions are what the UI process runs on: the tray process's
// services through the local channel, and its commands after Seq.
type UIOptions struct {
	Client *local.Client
	Seq    uint64
	Logger *slog.Logger
}

// config is what wiring.Open needs, from the environment and the flags.
func (env Env) config(interval time.Duration, logger *slog.Logger) wiring.Config {
	return wiring.Config{Getenv: env.Getenv, Logger: logger, Notice: env.Stderr, Logo: env.Logo, Sink: env.Sink,
		Keyring: env.Keyring, Interval: interval}
}

// command is one subcommand: its place in the tree, its usage and its work.
type command struct {
	path   string // "accounts add"
	usage  string // flags and arguments
	about  string
	run    func(ctx context.Context, env Env, args []string) error
	hidden bool // run by Cashbell itself, not shown in the help
}

var commands []command

func init() {
	// Set here rather than in the declaration: the commands' work reaches
	// Main, which prints this table.
	commands = []command{
		{"", "[--demo] [--interval D] [--verbose]", "open the tray app", runGUI, false},
		{"run", "--headless [--demo] [--interval D] [--verbose]", "poll and notify without a window", runHeadless, false},
		{"accounts add", "[--name N] [--connected acct_...] [--key-file F]", "add an account; the key is read from stdin", accountsAdd, false},
		{"accounts check", "[--connected acct_...] [--key-file F]", "show what a key may read; stores nothing", accountsCheck, false},
		{"accounts list", "[--json]", "list accounts", accountsList, false},
		{"accounts remove", "<id>", "remove an account, its key and its history", accountsRemove, false},
		{"events", "[--account ID] [--limit N] [--json]", "print stored events, newest first", events, false},
		{"check-now", "[--account ID]", "make the running Cashbell poll at once", checkNow, false},
		{"version", "", "print the version", printVersion, false},
		{"help", "[command]", "print this help, or a command's", nil, false},
		{"ui", "", "the windows of a running Cashbell (started by it)", runUI, true},
	}
}

const footer = `
Keys are never taken on the command line. While Cashbell runs, the commands
that read or change its store are served by it. Set CASHBELL_API_BASE to talk
to another Stripe API base (https, or http on loopback).
`

// usage prints the help for the commands under prefix ("" for all).
func usage(w io.Writer, prefix string) {
	if prefix == "" {
		fmt.Fprint(w, "Cashbell rings when your Stripe accounts make money.\n\n")
	}
	fmt.Fprint(w, "Usage:\n")
	for _, c := range commands {
		if c.hidden || prefix != "" && c.path != prefix && !strings.HasPrefix(c.path, prefix+" ") {
			continue
		}
		line := strings.Join(strings.Fields("cashbell "+c.path+" "+c.usage), " ")
		if len(line) > 40 {
			fmt.Fprintf(w, "  %s\n  %-40s %s\n", line, "", c.about)
		} else {
			fmt.Fprintf(w, "  %-40s %s\n", line, c.about)
		}
	}
	if prefix == "" {
		fmt.Fprint(w, footer)
	}
}

// helpFor asks Main to print the help of one command (or group).
type helpFor string

func (h helpFor) Error() string { return "help" }

// errUsage marks a usage mistake (exit status 2).
var errUsage = errors.New("usage")

// Main runs the command line and returns the exit status.
func Main(ctx context.Context, env Env) int {
	err := run(ctx, env)
	var status exitStatus
	var help helpFor
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, &help):
		usage(env.Stdout, string(help))
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "cashbell: %s\n", strings.TrimPrefix(err.Error(), "usage: "))
		fmt.Fprint(env.Stderr, "Run `cashbell --help` for the commands.\n")
		return 2
	default:
		fmt.Fprintf(env.Stderr, "cashbell: %s\n", oneLine(errText(err)))
		return 1
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func run(ctx context.Context, env Env) error {
	if addr := env.Getenv("CASHBELL_PPROF"); addr != "" && env.running == nil {
		startProfiler(addr, env.Stderr)
	}
	args := env.Args
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-version"):
		return printVersion(ctx, env, args[1:])
	case len(args) > 0 && args[0] == "help":
		return helpFor(strings.Join(args[1:], " "))
	}
	// The longest command path that the words before the first flag name.
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	var found *command
	for i := range commands {
		c := &commands[i]
		n := len(strings.Fields(c.path))
		if c.run != nil && n <= len(words) && strings.Join(words[:n], " ") == c.path && (found == nil || n > len(strings.Fields(found.path))) {
			found = c
		}
	}
	group := len(words) > 0 && hasGroup(words[0])
	unmatched := found == nil || found.path == "" && len(words) > 0
	switch {
	case unmatched && group && len(words) == 1:
		if len(args) > 1 && isHelpFlag(args[1]) {
			return helpFor(words[0])
		}
		return fmt.Errorf("%w: %s needs a subcommand: %s", errUsage, words[0], subcommands(words[0]))
	case unmatched && group:
		return fmt.Errorf("%w: unknown %s subcommand %q (it has %s)", errUsage, words[0], words[1], subcommands(words[0]))
	case unmatched && (len(words) == 0 || words[0] != "gui"):
		return fmt.Errorf("%w: unknown command %q", errUsage, words[0])
	}
	rest := args[len(strings.Fields(found.path)):]
	if found.path == "" && len(words) > 0 {
		rest = args[1:] // "gui"
	}
	err := found.run(ctx, env, rest)
	if errors.Is(err, flag.ErrHelp) {
		return helpFor(found.path)
	}
	return err
}

func isHelpFlag(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

func hasGroup(word string) bool {
	for _, c := range commands {
		if strings.HasPrefix(c.path, word+" ") {
			return true
		}
	}
	return false
}

func subcommands(group string) string {
	var names []string
	for _, c := range commands {
		if rest, ok := strings.CutPrefix(c.path, group+" "); ok {
			names = append(names, rest)
		}
	}
	return strings.Join(names, ", ")
}

func newFlags(name string) *flag.FlagSet {
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

// printVersion prints the version from FyneApp.toml and the revision Go
// stamped into the binary.
func printVersion(_ context.Context, env Env, args []string) error {
	if err := parse(newFlags("version"), args); err != nil {
		return err
	}
	v := cmp.Or(env.Version, "unknown")
	rev, modified := "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	switch {
	case rev == "":
		rev = "unknown revision"
	case len(rev) > 12:
		rev = rev[:12]
	}
	if modified {
		rev += "+changes"
	}
	fmt.Fprintf(env.Stdout, "Cashbell %s (%s, %s, %s/%s)\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
