package accounts

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // logos may be GIF
	_ "image/jpeg" // or JPEG
	"image/png"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"golang.org/x/image/draw"

	_ "github.com/sergeymakinen/go-ico" // and ICO

	"github.com/cashbell/cashbell/internal/safetext"
)

// Logo limits.
const (
	MaxLogoBytes  = 1 << 20 // what Cashbell reads of a logo file
	maxLogoPixels = 4096    // per side, so a tiny file cannot unpack into gigabytes
	logoSize      = 128     // logos are kept at most this many pixels on a side
)

// Logo errors.
var (
	ErrLogoTooLarge = errors.New("that image is too large: pick a PNG, JPEG, GIF or ICO file under 1 MiB and 4096×4096 pixels")
	ErrLogoNotImage = errors.New("that file is not an image Cashbell can read: pick a PNG, JPEG, GIF or ICO file")
)

// DecodeLogo checks that data is a PNG, JPEG, GIF or ICO image within the
// limits, and returns it as a PNG of at most 128 pixels on a side.
func DecodeLogo(data []byte) ([]byte, error) {
	if len(data) > MaxLogoBytes {
		return nil, ErrLogoTooLarge
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ErrLogoNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxLogoPixels || cfg.Height > maxLogoPixels {
		return nil, ErrLogoTooLarge
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, ErrLogoNotImage
	}
	b := img.Bounds()
	if b.Dx() > logoSize || b.Dy() > logoSize {
		w, h := logoSize, logoSize
		if b.Dx() > b.Dy() {
			h = max(1, b.Dy()*logoSize/b.Dx())
		} else {
			w = max(1, b.Dx()*logoSize/b.Dy())
		}
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
		img = dst
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("encoding logo: %w", err)
	}
	return out.Bytes(), nil
}

// Identity is how an account presents itself.
type Identity struct {
	Name string
	Logo []byte // PNG, nil when there is none
}

// logoLinkLife is how long the file link Cashbell makes for a logo lives:
// it only has to serve one download, and nothing should stay public after.
const logoLinkLife = 5 * time.Minute

// ImportIdentity reads the account's display name and logo through
// GET /v1/account and POST /v1/file_links, as far as the report's permissions
// allow. What it cannot read stays empty; errors in the logo only cost the logo.
func ImportIdentity(ctx context.Context, conn *Connector, c *client.API, rep Report, now time.Time) (Identity, error) {
	if !rep.Has(AccountDetails) {
		return Identity{}, nil
	}
	var params stripe.Params
	if rep.Connected != "" {
		params.SetStripeAccount(rep.Connected)
	}
	acct := rep.account
	if acct == nil {
		var err error
		if acct, err = getAccount(ctx, c, params); err != nil {
			return Identity{}, Classify(err)
		}
	}
	id := Identity{Name: accountName(acct)}
	if !rep.Has(PermFileWrite) || acct.Settings == nil || acct.Settings.Branding == nil {
		return id, nil
	}
	file := cmp.Or(acct.Settings.Branding.Icon, acct.Settings.Branding.Logo)
	if file == nil || file.ID == "" {
		return id, nil
	}
	// "expires_at: The link isn't usable after this future timestamp"
	// (docs.stripe.com/api/file_links/create).
	fp := &stripe.FileLinkParams{Params: params, File: stripe.String(file.ID), ExpiresAt: stripe.Int64(now.Add(logoLinkLife).Unix())}
	fp.Context = ctx
	link, err := c.FileLinks.New(fp)
	if err != nil {
		return id, fmt.Errorf("logo link: %w", Classify(err))
	}
	raw, err := download(ctx, conn, link.URL)
	if err != nil {
		return id, err
	}
	logo, err := DecodeLogo(raw)
	if err != nil {
		return id, fmt.Errorf("the account's logo: %w", err)
	}
	id.Logo = logo
	return id, nil
}

// accountName is the name the account's owner gave it, made fit to show: a
// connected account's owner is someone else.
func accountName(a *stripe.Account) string {
	if a.Settings != nil && a.Settings.Dashboard != nil {
		if name := safetext.Clean(a.Settings.Dashboard.DisplayName); name != "" {
			return name
		}
	}
	if a.BusinessProfile != nil {
		if name := safetext.Clean(a.BusinessProfile.Name); name != "" {
			return name
		}
	}
	return a.ID
}

// stripeFileHost is where Stripe serves files and file links.
const stripeFileHost = "files.stripe.com"

// maxLogoRedirects bounds the redirects a logo download follows.
const maxLogoRedirects = 3

// ErrLogoHost means a logo link, or a redirect on its way, pointed somewhere
// other than Stripe's file host.
var ErrLogoHost = errors.New("the logo link does not lead to Stripe's file host (files.stripe.com), so it was not followed")

// fileURLAllowed says whether a logo may be fetched from u: Stripe's file
// host over https, or the loopback simulator when the API itself is on
// loopback (the tests and the demo).
func fileURLAllowed(conn *Connector, u *url.URL) bool {
	switch {
	case u.Scheme == "https" && u.Hostname() == stripeFileHost && (u.Port() == "" || u.Port() == "443"):
		return true
	case conn.Loopback():
		return (u.Scheme == "http" || u.Scheme == "https") && isLoopback(u.Hostname())
	}
	return false
}

// download fetches a logo from a file link. The link and every redirect on
// its way must pass fileURLAllowed.
func download(ctx context.Context, conn *Connector, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || !fileURLAllowed(conn, u) {
		return nil, ErrLogoHost
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	hc := *conn.HTTPClient()
	hc.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if len(via) > maxLogoRedirects || !fileURLAllowed(conn, next.URL) {
			return ErrLogoHost
		}
		return nil
	}
	resp, err := hc.Do(req)
	if errors.Is(err, ErrLogoHost) {
		return nil, ErrLogoHost
	}
	if err != nil {
		return nil, fmt.Errorf("downloading the logo: %w", Classify(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading the logo: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("downloading the logo: %w", Classify(err))
	}
	if len(data) > MaxLogoBytes {
		return nil, ErrLogoTooLarge
	}
	return data, nil
}
