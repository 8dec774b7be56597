// Package accounts adds, checks and keeps the Stripe accounts that Cashbell
// watches: it parses keys, checks their permissions against the API, imports
// each account's name and logo, and keeps the registry of accounts with their
// keys in the OS keyring (or a private file where there is none).
//
// It never imports Fyne; the GUI and the command line share it.
package accounts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Key errors. Each message says what to paste instead.
var (
	ErrKeyEmpty        = errors.New("no key given: paste a restricted key that starts with rk_live_ or rk_test_")
	ErrKeyPublishable  = errors.New("that is a publishable key (pk_), which cannot read events: paste a restricted key (rk_live_ or rk_test_) instead")
	ErrKeyUnrecognized = errors.New("that does not look like a Stripe API key: paste a restricted key that starts with rk_live_ or rk_test_")
	ErrKeyTooLong      = errors.New("that is far longer than a Stripe key: paste only the key, which starts with rk_live_ or rk_test_")
	ErrKeyWebhook      = errors.New("that is a webhook signing secret (whsec_), not an API key: paste a restricted key (rk_live_ or rk_test_) instead")
	// ErrKeyOrganization: an organisation key (docs.stripe.com/keys/
	// organization-api-keys: "prefixed sk_org ... There's no rk_org prefix")
	// must name the account in every request (Stripe-Context).
	ErrKeyOrganization = errors.New("that is an organisation key (sk_org_), which reaches every account of your organisation and must name one in each request: Cashbell watches one account at a time, so open that account in the Dashboard and create a restricted key (rk_live_ or rk_test_) there")
)

// maxKeyLength is generous: Stripe's keys are about 110 characters today.
const maxKeyLength = 255

// KeyKind says how much a key can do.
type KeyKind string

// Kinds of key Cashbell accepts.
const (
	// KindRestricted is a restricted key: it can do only what it was granted.
	KindRestricted KeyKind = "restricted"
	// KindSecret is a secret key: it can change the account, so it is accepted with a warning.
	KindSecret KeyKind = "secret"
)

// Key is a parsed Stripe API key. Its String and GoString methods print the
// masked form, so a key formatted by mistake never leaks.
type Key struct {
	secret string
	kind   KeyKind
	live   bool
}

// ParseKey trims whitespace and surrounding quotes from s and classifies the key
// by its prefix.
func ParseKey(s string) (Key, error) {
	if len(s) > 4*maxKeyLength {
		return Key{}, ErrKeyTooLong
	}
	s = strings.TrimSpace(s)
	for len(s) >= 2 && (s[0] == '"' || s[0] == '\'' || s[0] == '`') && s[len(s)-1] == s[0] {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return Key{}, ErrKeyEmpty
	}
	if len(s) > maxKeyLength {
		return Key{}, ErrKeyTooLong
	}
	var k Key
	switch {
	case strings.HasPrefix(s, "pk_"):
		return Key{}, ErrKeyPublishable
	case strings.HasPrefix(s, "whsec_"):
		return Key{}, ErrKeyWebhook
	case strings.HasPrefix(s, "sk_org") || strings.HasPrefix(s, "rk_org"):
		return Key{}, ErrKeyOrganization
	case strings.HasPrefix(s, "rk_live_"):
		k = Key{kind: KindRestricted, live: true}
	case strings.HasPrefix(s, "rk_test_"):
		k = Key{kind: KindRestricted}
	case strings.HasPrefix(s, "sk_live_"):
		k = Key{kind: KindSecret, live: true}
	case strings.HasPrefix(s, "sk_test_"):
		k = Key{kind: KindSecret}
	default:
		return Key{}, ErrKeyUnrecognized
	}
	body := s[len("rk_live_"):] // every accepted prefix has this length
	if len(body) < 8 || !isKeyBody(body) {
		return Key{}, fmt.Errorf("%w (it has the right start but is cut short or has stray characters)", ErrKeyUnrecognized)
	}
	k.secret = s
	return k, nil
}

func isKeyBody(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Kind is restricted or secret.
func (k Key) Kind() KeyKind { return k.kind }

// Mode is "live" or "test".
func (k Key) Mode() Mode {
	if k.live {
		return ModeLive
	}
	return ModeTest
}

// Reveal returns the key itself, for the Stripe client and the key store only.
func (k Key) Reveal() string { return k.secret }

// IsZero reports whether k holds no key.
func (k Key) IsZero() bool { return k.secret == "" }

// Masked is the key's prefix, an ellipsis and its last four characters
// (rk_live_…abcd): enough to tell keys apart, useless to anyone else.
func (k Key) Masked() string { return MaskKey(k.secret) }

// String returns the masked key.
func (k Key) String() string { return k.Masked() }

// GoString returns the masked key, so %#v cannot leak it either.
func (k Key) GoString() string { return "accounts.Key(" + k.Masked() + ")" }

// MaskKey masks anything that looks like a key: prefix, "…", last four.
func MaskKey(s string) string {
	if s == "" {
		return ""
	}
	prefix := ""
	for _, p := range []string{"rk_live_", "rk_test_", "sk_live_", "sk_test_", "pk_live_", "pk_test_", "sk_org_", "rk_org_", "sk_org_live_", "sk_org_test_"} {
		if strings.HasPrefix(s, p) {
			prefix = p
		}
	}
	if len(s)-len(prefix) <= 8 {
		return prefix + "…"
	}
	return prefix + "…" + s[len(s)-4:]
}

// Mode is the Stripe environment a key belongs to.
type Mode string

// The two modes.
const (
	ModeLive Mode = "live"
	ModeTest Mode = "test"
)

// keyPattern finds a key anywhere in a text, with no word boundary before it:
// a key glued to a letter, a digit or an escaped quote (%22rk_live_…) is still
// a key. Underscores may be escaped as %5F in URLs and form bodies.
var keyPattern = regexp.MustCompile(`(?i:[rsp]k)(?:_|%5F)(?:org(?:_|%5F))?(?:live|test)(?:_|%5F)[A-Za-z0-9_]{4,}|(?i:[rs]k)(?:_|%5F)org(?:_|%5F)[A-Za-z0-9_]{8,}`)

// Redact masks every Stripe key inside s. Loggers and error paths run text
// through it so that a key that slipped into a message still never leaves.
func Redact(s string) string {
	if !strings.Contains(s, "live") && !strings.Contains(s, "test") && !strings.Contains(s, "org") {
		return s // the common case, cheaply
	}
	return keyPattern.ReplaceAllStringFunc(s, func(k string) string {
		return MaskKey(strings.NewReplacer("%5F", "_", "%5f", "_").Replace(k))
	})
}
