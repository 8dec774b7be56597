// Package local is the one channel between Cashbell's processes: the
// running Cashbell serves its store, keys and pollers to the process that
// draws its windows and to `cashbell` commands run while it runs, as HTTP
// over a unix socket (a named pipe on Windows), the way Docker's Engine API
// and tailscale's LocalAPI do.
//
// It trusts only its owner. The socket lives in a folder that is the user's
// alone (a real directory, not a symlink, owned by the user, with no group
// or other access), else in the config folder; both ends check the peer's
// uid before anything is sent or served (SO_PEERCRED, getpeereid); on
// Windows the pipe's security descriptor admits only the current user, and
// the client checks that the pipe's owner is that user. The UI
// process is handed already-connected sockets, so there is no path to find
// and no secret in its environment. Every message is capped in size, and
// the accept loop, net/http's, survives temporary errors.
//
// The calls are few and coarse: what Preferences shows (State), one change
// to an account (AccountCall), what Activity shows (EventsCall), the
// settings, a command line to run, and one stream of commands from the tray
// to the UI process.
package local

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// Errors at the endpoint.
var (
	// ErrNotYours means the folder, the socket's peer or the pipe's server
	// belongs to another user: nothing is sent to it or taken from it.
	ErrNotYours = errors.New("belongs to another user")
	// ErrRunning means another Cashbell already answers at the endpoint.
	ErrRunning = errors.New("another Cashbell already answers there")
)

// Limits on the channel.
const (
	maxRequest    = 4 << 20  // a logo is 1 MiB at most
	maxReply      = 64 << 20 // `cashbell events --json --limit 100000`
	maxCommand    = 64 << 10
	maxConns      = 32 // connections served at once
	callTimeout   = 60 * time.Second
	headerTimeout = 2 * time.Second // a connection that says nothing is dropped
	dialTimeout   = 5 * time.Second
)

// name is the endpoint's name for a config folder: two Cashbells of one
// user with different config folders never meet. It is short, because a
// unix socket's path is at most 108 bytes.
func name(configDir string) string {
	sum := sha256.Sum256([]byte(configDir))
	return hex.EncodeToString(sum[:5])
}

// Command is what the tray asks of the windows.
type Command struct {
	Kind    CommandKind
	Account string // the account Activity shows, when one
	Filter  string // the kind of event Activity shows, by id, when one
	NoTray  bool   // the desktop shows no tray icons: Preferences says so
	Seq     uint64 // its place in the queue
}

// CommandKind names a command.
type CommandKind string

// Commands.
const (
	ShowPrefs    CommandKind = "prefs"
	ShowAdd      CommandKind = "add"  // Preferences with the add dialog open
	ShowDemo     CommandKind = "demo" // Preferences adding the demo account
	ShowActivity CommandKind = "activity"
	Changed      CommandKind = "changed" // accounts, events or settings changed
	Quit         CommandKind = "quit"
)

// CLIRequest is a command line for the running Cashbell to run; Stdin is
// what the command reads (a key, for accounts add).
type CLIRequest struct {
	Args  []string
	Stdin string
}

// CLIReply is what the command printed and its exit status.
type CLIReply struct {
	Code           int
	Stdout, Stderr string
}

// State is what Preferences shows: the accounts, the settings and where
// keys are kept, in one answer.
type State struct {
	Accounts []accounts.Account
	Settings store.Settings
	Where    accounts.Storage
	KeyNotes map[accounts.Storage]string
	Summary  string
	Bell     string // how the bell rings: "the notification service", a player's name, or "" (it cannot)
}

// AccountOp is one thing a window does to an account.
type AccountOp string

// Account operations.
const (
	OpCheck   AccountOp = "check"
	OpAdd     AccountOp = "add"
	OpDemo    AccountOp = "demo"
	OpRemove  AccountOp = "remove"
	OpRename  AccountOp = "rename"
	OpLogo    AccountOp = "logo"
	OpRecheck AccountOp = "recheck"
	OpMute    AccountOp = "mute"
	OpReload  AccountOp = "reload"  // the pollers pick up what changed
	OpRing    AccountOp = "ring"    // ring the bell once, for Preferences' test
	OpReplace AccountOp = "replace" // a listed account's new key
)

// AccountCall is an operation and what it needs.
type AccountCall struct {
	Op                       AccountOp
	ID, Key, Name, Connected string
	Logo                     []byte
	Muted                    bool
}

// AccountReply is what an operation did. Errors are sentences: the
// report's per-permission errors are for the tray's log, not the window.
type AccountReply struct {
	Account     accounts.Account
	Report      accounts.Report
	Warnings    []string
	IdentityErr string
}

// EventsCall asks for what Activity, its chart and the tray show: a page of
// events ("page": Query), the facts kept of some events ("facts": Events),
// the bad news not seen yet ("unseen"), the open disputes' deadlines
// ("deadlines", at Today),
// or the sums of the Days days ending on the day of Today ("sum": Accounts,
// all when empty).
type EventsCall struct {
	What     string
	Query    store.Query
	Today    time.Time
	Events   []store.Event
	Accounts []string
	Days     int
}

// EventsReply answers an EventsCall.
type EventsReply struct {
	Events    []store.Event
	Cursor    *store.Cursor
	Facts     []store.Facts
	Unseen    notifier.Unseen
	Deadlines []notifier.Deadline
	Recurring notifier.Recurring
	MRRMonth  notifier.MRRMonth
	Days      notifier.Days
}

// wireReport is a report without its errors, which cannot cross as
// interfaces.
func wireReport(r accounts.Report) accounts.Report {
	out := r
	out.Results = make([]accounts.PermissionResult, len(r.Results))
	for i, p := range r.Results {
		p.Err = nil
		out.Results[i] = p
	}
	return out
}
