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
	cmd := exec.CommandContext(ctx, name, args...)
	out := &capped{max: 2048}
	cmd.Stdout, cmd.Stderr = out, out
	// A browser started by the opener keeps its output open for as long as
	// it runs; past the opener's own exit, Wait stops waiting for it.
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return fmt.Errorf("opening the browser with %s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// capped keeps the first max bytes written to it: enough of an opener's
// complaint for a log line.
type capped struct {
	max int
	buf []byte
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string { return string(c.buf) }
