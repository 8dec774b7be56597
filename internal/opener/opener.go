// Package opener opens a Stripe Dashboard page in the user's browser
// through the desktop's own opener (xdg-open, open, or the Windows URL
// handler), with a timeout and without a shell.
package opener

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// timeout bounds how long the desktop's opener may take to hand the page
// to a browser.
const timeout = 15 * time.Second

// ErrNotStripe means the address is not a Stripe page over https; Cashbell
// only ever opens its own links to the Dashboard and Stripe's docs.
var ErrNotStripe = errors.New("only https pages of stripe.com are opened")

// Open opens raw in the browser.
func Open(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || !(u.Hostname() == "stripe.com" || strings.HasSuffix(u.Hostname(), ".stripe.com")) {
		return fmt.Errorf("%w (got %q)", ErrNotStripe, raw)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name, args := command(u.String())
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("opening the browser with %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
