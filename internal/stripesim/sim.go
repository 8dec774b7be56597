// Package stripesim is a stateful simulator of the parts of the Stripe API that
// Cashbell reads. It serves real HTTP on loopback so that stripe-go talks to it
// unmodified through its backend URL, and it answers the way Stripe does:
// newest-first lists with cursors, restricted keys that name the permission
// they lack, 401s for revoked and expired keys, the Stripe-Account header for
// connected accounts. Tests serve it through internal/testsupport/fakestripe,
// which adds request counts and the faults a test switches on; the product
// (the demo account) links neither.
//
// It is used by the tests and by the demo account, so it never touches the
// network beyond the listener it owns.
package stripesim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Permissions of a restricted key that the simulator enforces. Stripe names
// a restricted key's permissions rak_ and the resource's permission id from
// Stripe Apps' list (docs.stripe.com/stripe-apps/reference/permissions:
// event_read, balance_read, customer_read, invoice_read, product_read,
// plan_read, subscription_read, payout_read, charge_read, dispute_read,
// connected_account_read, file_write); real 403s name rak_subscription_read,
// rak_customer_read and rak_connected_account_read that way.
const (
	PermEventRead   = "rak_event_read"
	PermBalanceRead = "rak_balance_read"
	// PermBalanceTransactionRead is what reading balance transactions needs:
	// "balance_transaction_source_read: Grants access to expand the source
	// attribute when retrieving Balance Transactions. This permission also
	// implies ... balance_read" (docs.stripe.com/stripe-apps/reference/
	// permissions); PostHog's Stripe source asks for it for its
	// balance_transactions table (posthog/temporal/data_imports/sources/
	// stripe/source.py, "Balance transaction sources").
	PermBalanceTransactionRead = "rak_balance_transaction_source_read"
	PermCustomerRead           = "rak_customer_read"
	PermInvoiceRead            = "rak_invoice_read"
	PermProductRead            = "rak_product_read"
	PermPlanRead               = "rak_plan_read" // prices: "Grants access to Plans, Prices"
	PermSubscriptionRead       = "rak_subscription_read"
	PermPayoutRead             = "rak_payout_read"
	PermChargeRead             = "rak_charge_read"
	PermDisputeRead            = "rak_dispute_read"
	PermConnectedAccountRead   = "rak_connected_account_read"
	PermFileWrite              = "rak_file_write"
	// PermAccountsKYCBasicRead is the permission a 403 from GET /v1/account
	// names today according to public reports (the issue tracker of this
	// project; Zuplo's Stripe guide maps it to "Connect → Accounts: Read").
	PermAccountsKYCBasicRead = "rak_accounts_kyc_basic_read"
	// PermAccountsKYCIDNumbersRead is what it named in 2023
	// (woocommerce/woocommerce-gateway-stripe#634: "403 ERR GET /v1/account").
	PermAccountsKYCIDNumbersRead = "rak_accounts_kyc_id_numbers_read"
)

// AllPermissions lists every permission the simulator knows, in a stable order.
var AllPermissions = []string{
	PermEventRead, PermBalanceRead, PermBalanceTransactionRead, PermCustomerRead, PermInvoiceRead, PermProductRead, PermPlanRead,
	PermSubscriptionRead, PermPayoutRead, PermChargeRead, PermDisputeRead, PermConnectedAccountRead,
	PermAccountsKYCBasicRead, PermAccountsKYCIDNumbersRead, PermFileWrite,
}

// AccountRead is how GET /v1/account answers a restricted key: with the
// permission it needs named in a 403, or, as it did for years, with no
// permission a restricted key can hold.
type AccountRead string

// The answers GET /v1/account has given restricted keys.
const (
	AccountReadKYCBasic     AccountRead = PermAccountsKYCBasicRead
	AccountReadKYCIDNumbers AccountRead = PermAccountsKYCIDNumbersRead
	// AccountReadNotForRestrictedKeys: "This is a restricted API key, but the
	// required permissions are not available for use by restricted keys."
	// (singer-io/tap-stripe#38 and dj-stripe/dj-stripe#1131, GET /v1/account)
	AccountReadNotForRestrictedKeys AccountRead = "not-for-restricted-keys"
)

// connectPermissions are what makes a restricted key a Connect key: without
// one, Stripe refuses it with the Stripe-Account header
// (stripe/stripe-mirakl-connector#33). Which permissions count is not
// documented; the simulator takes Connect's account read.
var connectPermissions = []string{PermConnectedAccountRead}

// eventRetention is how long Stripe keeps events listable.
const eventRetention = 30 * 24 * time.Hour

// Options configure a Sim. The zero value is usable.
type Options struct {
	// Now is the simulator's clock; it stamps events and decides visibility.
	Now func() time.Time
	// RateLimit turns on Stripe's per-key read limits (100/s live, 25/s test).
	RateLimit bool
}

// Sim is a running simulator. All methods are safe for concurrent use.
type Sim struct {
	// URL is the base URL to hand to stripe-go, set by Start.
	URL string

	mu       sync.Mutex
	now      func() time.Time
	accounts map[string]*Account
	keys     map[string]*keyInfo
	links    map[string]fileRef // file link token -> file
	limiter  map[string]*window
	rateOn   bool
	seq      int64

	server *http.Server
}

type fileRef struct {
	account string
	live    bool
	id      string
	expires time.Time // zero: never
}

type window struct {
	second int64
	count  int
}

// KeyKind tells a restricted key from a secret one.
type KeyKind int

const (
	// Restricted keys carry only the permissions granted to them.
	Restricted KeyKind = iota
	// Secret keys can do everything.
	Secret
)

type keyInfo struct {
	account string
	live    bool
	kind    KeyKind
	perms   map[string]bool
	revoked bool
	expired bool
}

// New returns a simulator that is not yet listening; see Start and Handler.
func New(opts Options) *Sim {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Sim{
		now:      now,
		accounts: map[string]*Account{},
		keys:     map[string]*keyInfo{},
		links:    map[string]fileRef{},
		limiter:  map[string]*window{},
		rateOn:   opts.RateLimit,
	}
}

// Start serves the simulator on a fresh loopback port and sets URL.
func (s *Sim) Start() *Sim {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("stripesim: listen on loopback: %v", err))
	}
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	s.URL = "http://" + l.Addr().String()
	return s
}

// Close stops the server started by Start.
func (s *Sim) Close() {
	if s.server != nil {
		_ = s.server.Close()
	}
}

// NewKey makes a key for an account in live or test mode. A restricted key gets
// exactly perms; a secret key ignores them.
func (s *Sim) NewKey(accountID string, live bool, kind KeyKind, perms ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustAccount(accountID)
	prefix := "rk_"
	if kind == Secret {
		prefix = "sk_"
	}
	if live {
		prefix += "live_"
	} else {
		prefix += "test_"
	}
	key := prefix + randomToken(99)
	info := &keyInfo{account: accountID, live: live, kind: kind, perms: map[string]bool{}}
	for _, p := range perms {
		info.perms[p] = true
	}
	s.keys[key] = info
	return key
}

// AdoptKey registers a key made elsewhere (a demo key kept from an earlier
// run) as a key of an account.
func (s *Sim) AdoptKey(key, accountID string, live bool, kind KeyKind, perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustAccount(accountID)
	info := &keyInfo{account: accountID, live: live, kind: kind, perms: map[string]bool{}}
	for _, p := range perms {
		info.perms[p] = true
	}
	s.keys[key] = info
}

// SetPermissions replaces the permissions of a restricted key.
func (s *Sim) SetPermissions(key string, perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := s.mustKey(key)
	info.perms = map[string]bool{}
	for _, p := range perms {
		info.perms[p] = true
	}
}

// RevokeKey makes every later request with key fail with 401.
func (s *Sim) RevokeKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustKey(key).revoked = true
}

// RestoreKey undoes RevokeKey and ExpireKey, like rolling back to a working key.
func (s *Sim) RestoreKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := s.mustKey(key)
	info.revoked, info.expired = false, false
}

// ExpireKey makes every later request with key fail with 401 api_key_expired.
func (s *Sim) ExpireKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustKey(key).expired = true
}

func (s *Sim) mustKey(key string) *keyInfo {
	info, ok := s.keys[key]
	if !ok {
		panic("stripesim: unknown key")
	}
	return info
}

func (s *Sim) mustAccount(id string) *Account {
	a, ok := s.accounts[id]
	if !ok {
		panic("stripesim: unknown account " + id)
	}
	return a
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/links/") {
		s.serveLink(w, r)
		return
	}
	w.Header().Set("Request-Id", "req_"+randomToken(14))

	key, ok := bearer(r)
	if !ok {
		WriteError(w, http.StatusUnauthorized, APIError{Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."})
		return
	}
	if err := r.ParseForm(); err != nil {
		WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error", Message: "Invalid request body."})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ds, status, aerr := s.authorize(key, r)
	if aerr != nil {
		WriteError(w, status, *aerr)
		return
	}
	if s.rateOn && s.overLimit(key, ds.live) {
		w.Header().Set("Stripe-Should-Retry", "true")
		WriteError(w, http.StatusTooManyRequests, RateLimitError)
		return
	}
	version := requestVersion(r.Header.Get("Stripe-Version"), s.accounts[ds.account].Version)
	w.Header().Set("Stripe-Version", version) // every answer names the version it is rendered at (curl traces of api.stripe.com show "stripe-version")
	s.route(w, r, version, ds)
}

func bearer(r *http.Request) (string, bool) {
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		return user, true
	}
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(key), ok && strings.TrimSpace(key) != ""
}

// authorize resolves the key and the Stripe-Account header to the data set the
// request may read.
func (s *Sim) authorize(key string, r *http.Request) (*dataset, int, *APIError) {
	info, ok := s.keys[key]
	if !ok || info.revoked {
		return nil, http.StatusUnauthorized, &APIError{Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + maskKey(key, 4)}
	}
	if info.expired {
		return nil, http.StatusUnauthorized, &APIError{Type: "invalid_request_error", Code: "api_key_expired",
			Message: "Expired API Key provided: " + maskKey(key, 4)}
	}
	accountID := info.account
	if target := r.Header.Get("Stripe-Account"); target != "" && target != info.account {
		a, ok := s.accounts[target]
		if !ok || a.Platform != info.account {
			// docs.stripe.com/error-codes: account_invalid; the message as a
			// captured answer has it (tierrun/tier cmd/tier/tier_test.go).
			return nil, http.StatusForbidden, &APIError{Type: "invalid_request_error", Code: "account_invalid",
				Message: fmt.Sprintf("The provided key '%s' does not have access to account '%s' (or that account does not exist). Application access may have been revoked.", maskKey(key, 5), target)}
		}
		if info.kind == Restricted && !slices.ContainsFunc(connectPermissions, func(p string) bool { return info.perms[p] }) {
			// stripe/stripe-mirakl-connector#33 (code null); the status is
			// not shown there: 403, as for Stripe's other permission refusals.
			return nil, http.StatusForbidden, &APIError{Type: "invalid_request_error",
				Message: "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions."}
		}
		accountID = target
	}
	acct := s.accounts[accountID]
	perm := requiredPermission(r)
	if r.URL.Path == "/v1/account" {
		perm = string(acct.spec.AccountRead)
	}
	if perm != "" && info.kind == Restricted && !info.perms[perm] {
		// The 403 of a restricted key without a permission: status 403, type
		// invalid_request_error, no code (stripe/stripe-node#2246; 403 since
		// API version 2016-10-19, Stripe's changelog).
		msg := fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. Having the '%s' permission would allow this request to continue.", maskKey(key, 5), accountID, perm)
		if AccountRead(perm) == AccountReadNotForRestrictedKeys {
			msg = fmt.Sprintf("The provided key '%s' does not have the required permissions for this endpoint on account '%s'. This is a restricted API key, but the required permissions are not available for use by restricted keys.", maskKey(key, 5), accountID)
		}
		return nil, http.StatusForbidden, &APIError{Type: "invalid_request_error", Message: msg}
	}
	return acct.data(info.live), 0, nil
}

// requiredPermission maps an endpoint to the restricted-key permission it
// needs, by Stripe Apps' list of permissions per resource. Refunds and early
// fraud warnings have no permission of their own there; their events need
// charge_read ("refund.created ... charge_read" in its event table), and so
// does the simulator.
func requiredPermission(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	switch parts[1] {
	case "events":
		return PermEventRead
	case "balance":
		return PermBalanceRead
	case "balance_transactions":
		return PermBalanceTransactionRead
	case "customers":
		return PermCustomerRead
	case "invoices":
		return PermInvoiceRead
	case "products":
		return PermProductRead
	case "prices":
		return PermPlanRead
	case "subscriptions":
		return PermSubscriptionRead
	case "payouts":
		return PermPayoutRead
	case "charges", "refunds", "radar":
		return PermChargeRead
	case "disputes":
		return PermDisputeRead
	case "file_links":
		return PermFileWrite
	}
	return ""
}

func (s *Sim) overLimit(key string, live bool) bool {
	limit := 25
	if live {
		limit = 100
	}
	sec := s.now().Unix()
	w := s.limiter[key]
	if w == nil || w.second != sec {
		w = &window{second: sec}
		s.limiter[key] = w
	}
	w.count++
	return w.count > limit
}

// maskKey writes a key the way Stripe's error messages do: its prefix, stars,
// and the last four characters.
func maskKey(key string, stars int) string {
	prefix := ""
	if i := strings.LastIndex(key, "_"); i >= 0 && i < 16 {
		prefix = key[:i+1]
	}
	last := key
	if len(key) > 4 {
		last = key[len(key)-4:]
	}
	return prefix + strings.Repeat("*", stars) + last
}

// APIError is the error object of Stripe's answers: {"error": {...}}.
type APIError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
}

// RateLimitError is Stripe's answer to too many requests (HTTP 429).
var RateLimitError = APIError{Type: "invalid_request_error", Code: "rate_limit",
	Message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."}

// WriteError answers with status and Stripe's error object.
func WriteError(w http.ResponseWriter, status int, e APIError) {
	if e.Code != "" && e.DocURL == "" {
		e.DocURL = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(e.Code, "_", "-")
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomToken(n int) string {
	var b strings.Builder
	max := big.NewInt(int64(len(tokenAlphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b.WriteByte(tokenAlphabet[i.Int64()])
	}
	return b.String()
}
