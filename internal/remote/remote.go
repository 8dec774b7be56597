// Package remote lets Cashbell's windows run in a process of their own. The
// tray process keeps the store, the keys and the pollers and serves them on
// a private socket; the windows process, started when a window is wanted,
// loads the GL driver (about 100 MB under Mesa) and takes it away when its
// last window closes, so the tray goes back to its idle size.
//
// The calls are net/rpc over a unix socket of mode 0600 in a 0700 folder,
// and a connection is served only after it sends the token the tray process
// gave the windows process in its environment. Keys cross the socket only
// as the user typed them into the add dialog.
package remote

import (
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
)

// Environment variables that tell the windows process where to call.
const (
	EnvAddr  = "CASHBELL_WINDOWS_ADDR"
	EnvToken = "CASHBELL_WINDOWS_TOKEN"
	EnvSeq   = "CASHBELL_WINDOWS_SEQ" // the commands to read are those after it
)

// callTimeout bounds a call; the slow ones talk to Stripe.
const callTimeout = 60 * time.Second

// nextWait is how long Next waits for a command before answering none.
const nextWait = 20 * time.Second

// Command is what the tray asks of the windows.
type Command struct {
	Kind    CommandKind
	Account string // the account Activity shows, when one
	NoTray  bool   // the desktop shows no tray icons: Preferences says so
	Seq     uint64 // its place in the queue, given by Send
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

// Wire forms of the calls' arguments and answers (net/rpc wants them
// exported).
type (
	Empty     struct{}
	CheckArgs struct {
		Key, Connected string
	}
	AddArgs struct {
		Key, Name, Connected string
		Demo                 bool
	}
	AddReply struct {
		Account     accounts.Account
		Report      accounts.Report
		Warnings    []string
		IdentityErr string
	}
	IDArgs     struct{ ID string }
	RenameArgs struct{ ID, Name string }
	LogoArgs   struct {
		ID   string
		Data []byte
	}
	MuteArgs struct {
		ID    string
		Muted bool
	}
	RecheckReply struct {
		Account accounts.Account
		Report  accounts.Report
	}
	PageReply struct {
		Events []notifier.Event
		Cursor *notifier.Cursor
	}
	SinceArgs   struct{ T time.Time }
	DetailsArgs struct{ Events []notifier.Event }
	SumArgs     struct {
		Accounts []string
		Today    time.Time
		N        int
	}
	NoteArgs    struct{ Where accounts.Storage }
	SummaryArgs struct{ List []accounts.Account }
	NextArgs    struct{ After uint64 }
	NextReply   struct {
		Seq      uint64
		Commands []Command
	}
)

// wireReport is a report without its errors, which are for logs, not for
// the window, and cannot cross as interfaces.
func wireReport(r accounts.Report) accounts.Report {
	out := r
	out.Results = make([]accounts.PermissionResult, len(r.Results))
	for i, p := range r.Results {
		p.Err = nil
		out.Results[i] = p
	}
	return out
}
