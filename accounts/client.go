package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// DefaultAPIBase is Stripe's API.
const DefaultAPIBase = "https://api.stripe.com"

// EnvAPIBase names the environment variable that points every Stripe call at
// another base URL (the simulator, in tests and the demo).
const EnvAPIBase = "CASHBELL_API_BASE"

// RequestTimeout bounds every single request to Stripe.
const RequestTimeout = 20 * time.Second

// maxResponseBytes bounds what Cashbell reads from one answer; a page of 100
// events is far below it.
const maxResponseBytes = 16 << 20

// Errors from talking to Stripe. Each says what happened; what a person can
// do about it depends on where they read it, so each surface words that
// (Remedy has the steps that are the same everywhere).
var (
	ErrKeyInvalid        = errors.New("the key is not accepted by Stripe (it may have been revoked or rolled)")
	ErrKeyExpired        = errors.New("the key has expired")
	ErrPermissionMissing = errors.New("the key lacks a permission")
	ErrNoAccountAccess   = errors.New("the key cannot read that connected account")
	ErrRateLimited       = errors.New("rate limited: Stripe is limiting how fast Cashbell may ask")
	ErrStripeUnavailable = errors.New("the Stripe API is having trouble answering")
	ErrOffline           = errors.New("cannot reach Stripe")
	ErrBadResponse       = errors.New("the answer from Stripe could not be read")
	ErrResponseTooLarge  = errors.New("the answer from Stripe was far larger than expected and was not read")
	ErrAPIBase           = errors.New("CASHBELL_API_BASE must be an https:// URL, or http:// on a loopback address such as 127.0.0.1")
)

// ErrNoConnectPermissions means a restricted key was used for a connected
// account (Stripe-Account) without any Connect permission.
var ErrNoConnectPermissions = errors.New("the restricted key has no Connect permissions, so it cannot read a connected account")

// Remedy is what a person can do about err where that is the same wherever
// they read it, or "" where it depends on the surface: a key refused or
// short of events is replaced through the window's button or the command
// line, which each word themselves.
func Remedy(err error) string {
	switch {
	case errors.Is(err, ErrOffline):
		return "check your internet connection; Cashbell will keep trying"
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrStripeUnavailable):
		return "Cashbell will try again shortly"
	case errors.Is(err, ErrBadResponse):
		return "check CASHBELL_API_BASE if you set it, or whether a network login page is in the way"
	case errors.Is(err, ErrResponseTooLarge), errors.Is(err, ErrBadAccountID):
		return "check CASHBELL_API_BASE if you set it"
	case errors.Is(err, ErrNoAccountAccess):
		return "check the acct_ id, and that your platform still has access to it"
	case errors.Is(err, ErrNoConnectPermissions):
		return "give the key read access under Connect in the Dashboard's restricted key form, or add the connected account with a key of its own"
	case errors.Is(err, ErrAccountUnknown):
		return "give the key the permission to read the account's details, or check it again"
	}
	return ""
}

// Explain is err, redacted, and what to do about it: its Remedy, or for an
// error only another key cures, newKey, the surface's own words for
// getting one.
func Explain(err error, newKey string) string {
	msg := Redact(err.Error())
	step := Remedy(err)
	if errors.Is(err, ErrKeyInvalid) || errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrEventsNotAllowed) {
		step = newKey
	}
	if step != "" {
		msg += ": " + step
	}
	return msg
}

// PermissionError is a 403 from Stripe for a restricted key that lacks a
// permission. Permission is the name Stripe gave, never one Cashbell made
// up; it is empty when Stripe named none.
type PermissionError struct {
	Permission string // e.g. rak_customer_read
	Account    string // the account id Stripe named
	// NotForRestrictedKeys: Stripe says no permission a restricted key can
	// hold allows this request.
	NotForRestrictedKeys bool
}

func (e *PermissionError) Error() string {
	switch {
	case e.NotForRestrictedKeys:
		return "restricted keys may not make this request"
	case e.Permission == "":
		return "the request was refused for lack of a permission Stripe did not name"
	}
	return fmt.Sprintf("the key lacks the %s permission", e.Permission)
}

// Is makes errors.Is(err, ErrPermissionMissing) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionMissing }

// Stripe's words, as its 403s have them (stripe/stripe-node#2246,
// singer-io/tap-stripe#38, stripe/stripe-mirakl-connector#33).
var (
	permissionRE    = regexp.MustCompile(`Having the '(rak_[a-z0-9_]+)' permission`)
	accountRE       = regexp.MustCompile(`on account '(acct_[A-Za-z0-9]+)'`)
	notForRestrictd = "not available for use by restricted keys"
	noConnect       = "does not have any Connect permissions"
)

// Classify maps an error from stripe-go or the transport to one of this
// package's errors, wrapped with %w so callers can use errors.Is. It reads the
// message text only to learn a missing permission's name and the account id.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		return err
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.HTTPStatusCode == http.StatusUnauthorized && se.Code == stripe.ErrorCodeAPIKeyExpired:
			return ErrKeyExpired
		case se.HTTPStatusCode == http.StatusUnauthorized:
			return ErrKeyInvalid
		case se.HTTPStatusCode == http.StatusForbidden && se.Code == "account_invalid":
			return ErrNoAccountAccess
		case se.HTTPStatusCode == http.StatusForbidden && strings.Contains(se.Msg, noConnect):
			return ErrNoConnectPermissions
		case se.HTTPStatusCode == http.StatusForbidden:
			pe := &PermissionError{NotForRestrictedKeys: strings.Contains(se.Msg, notForRestrictd)}
			if m := permissionRE.FindStringSubmatch(se.Msg); m != nil {
				pe.Permission = m[1]
			}
			if m := accountRE.FindStringSubmatch(se.Msg); m != nil {
				pe.Account = m[1]
			}
			return pe
		case se.HTTPStatusCode == http.StatusTooManyRequests:
			return ErrRateLimited
		case se.HTTPStatusCode >= 500 || se.HTTPStatusCode == 0 && se.Type == stripe.ErrorTypeAPI:
			return fmt.Errorf("%w (HTTP %d)", ErrStripeUnavailable, se.HTTPStatusCode)
		}
		return fmt.Errorf("the request was refused (HTTP %d, %s): %s", se.HTTPStatusCode, se.Type, Redact(se.Msg))
	}
	if errors.Is(err, ErrResponseTooLarge) {
		return ErrResponseTooLarge
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typeErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "unexpected end of JSON") || strings.Contains(err.Error(), "invalid character") {
		return ErrBadResponse
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, io.EOF) {
		return ErrOffline
	}
	return fmt.Errorf("talking to Stripe: %s", Redact(err.Error()))
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// Retryable reports whether a classified error may go away if the same request
// is made again later.
func Retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrStripeUnavailable) ||
		errors.Is(err, ErrOffline) || errors.Is(err, ErrBadResponse)
}

// ParseAPIBase checks a base URL: https anywhere, plain http only on loopback,
// since a key must never cross a network in the clear.
func ParseAPIBase(raw string) (string, error) {
	if raw == "" {
		return DefaultAPIBase, nil
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return "", fmt.Errorf("%w (got %q)", ErrAPIBase, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Connector builds Stripe clients that share one HTTP client, with timeouts
// and a bound on answer size, all pointed at one base URL.
type Connector struct {
	base string
	http *http.Client
}

// NewConnector returns a Connector for base (see ParseAPIBase).
func NewConnector(base string) (*Connector, error) {
	base, err := ParseAPIBase(base)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = RequestTimeout
	transport.MaxIdleConnsPerHost = 4
	transport.IdleConnTimeout = 90 * time.Second
	return &Connector{base: base, http: &http.Client{
		Timeout:   RequestTimeout,
		Transport: limitedTransport{transport},
	}}, nil
}

// Loopback reports whether the API base is on this machine (the simulator).
func (c *Connector) Loopback() bool {
	u, err := url.Parse(c.base)
	return err == nil && isLoopback(u.Hostname())
}

// HTTPClient is the shared HTTP client, for downloads such as logos.
func (c *Connector) HTTPClient() *http.Client { return c.http }

// Client returns a stripe-go client for key. stripe-go's own retries are off:
// they sleep without a context, so the callers back off themselves.
func (c *Connector) Client(key Key) *client.API {
	cfg := &stripe.BackendConfig{
		URL:               stripe.String(c.base),
		HTTPClient:        c.http,
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	return client.New(key.Reveal(), &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	})
}

type limitedTransport struct{ next http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > maxResponseBytes {
		resp.Body.Close()
		return nil, ErrResponseTooLarge
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxResponseBytes}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
