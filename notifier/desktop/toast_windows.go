//go:build windows

package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	toast "git.sr.ht/~jackmordaunt/go-toast/v2"
)

// Toasts name Cashbell to Windows by this AppUserModelID, and Windows calls
// Cashbell back, when a toast is clicked, through this COM class id.
const (
	toastAppID = "Cashbell"
	toastGUID  = "{6E5B8C39-2F0A-4C1D-9B57-4A1E2C7D3F80}"
)

// Desktop shows toasts through the Windows Runtime (go-toast v2). Clicking
// one opens its Dashboard page: protocol activation, so Windows itself
// opens the address, even when Cashbell is busy. A burst's click shows
// Activity, which Windows tells Cashbell through the activation callback.
type Desktop struct {
	// SoundFile is unused here: a toast that rings plays Windows' own
	// notification sound (its Audio).
	SoundFile string
	// NoUI: no Activity window to show (headless), so a burst leads
	// to the account's Dashboard instead.
	NoUI bool

	register sync.Once
	mu       sync.Mutex
	bursts   map[string]Notification // by activation argument
	actions  chan Action
}

// New returns the desktop's notification sink.
func New() *Desktop {
	return &Desktop{bursts: map[string]Notification{}, actions: make(chan Action, 8)}
}

// Actions receives the bursts the user clicked, while Cashbell runs; a
// click on any other toast opens its page without Cashbell.
func (d *Desktop) Actions() <-chan Action { return d.actions }

// Notify shows n. A toast that Windows refuses (Wine has no Windows
// Runtime) is an error, which the service logs once. The Windows Runtime
// gives no ids: each toast is new.
func (d *Desktop) Notify(ctx context.Context, n Notification) (uint32, error) {
	d.register.Do(d.setUp)
	return showAsync(ctx, "showing a notification", func() (uint32, error) { return 0, d.toast(n).Push() })
}

// setUp tells Windows who Cashbell is and how to call it back.
func (d *Desktop) setUp() {
	exe, _ := os.Executable()
	_ = toast.SetAppData(toast.AppData{AppID: toastAppID, GUID: toastGUID, ActivationExe: exe})
	toast.SetActivationCallback(func(args string, _ []toast.UserData) {
		d.mu.Lock()
		n, ok := d.bursts[args]
		d.mu.Unlock()
		if !ok {
			return
		}
		select {
		case d.actions <- Action{Notification: n, Key: "default"}:
		default:
		}
	})
}

// toast is n as Windows shows it.
func (d *Desktop) toast(n Notification) *toast.Notification {
	t := &toast.Notification{AppID: toastAppID, Title: n.Title, Body: n.Body, Audio: toast.Silent}
	if n.Icon != "" {
		t.Icon, _ = filepath.Abs(n.Icon)
	}
	if n.Sound {
		t.Audio = toast.Default
	}
	if n.Urgent {
		t.Duration = toast.Long
	}
	switch {
	case n.Burst && !d.NoUI:
		arg := "activity:" + n.Account
		d.mu.Lock()
		d.bursts[arg] = n
		d.mu.Unlock()
		t.ActivationType, t.ActivationArguments = toast.Foreground, arg
	case strings.HasPrefix(n.URL, "https://"):
		t.ActivationType, t.ActivationArguments = toast.Protocol, n.URL
		t.Actions = []toast.Action{{Type: toast.Protocol, Content: "Open in Stripe", Arguments: n.URL}}
	}
	return t
}

// Bell is Windows' own notification sound, which a toast that rings plays.
func (*Desktop) Bell(context.Context) string { return "Windows' notification sound" }

// Ring shows a toast that plays Windows' notification sound.
func (d *Desktop) Ring(ctx context.Context) error {
	_, err := d.Notify(ctx, Notification{Title: "Cashbell's bell", Body: "This is how a sale sounds.", Sound: true})
	return err
}
