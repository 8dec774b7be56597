package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/internal/safetext"
)

// AccountStatus is how an account's key fared at its last use.
type AccountStatus string

// Account statuses, as the Preferences window shows them.
const (
	StatusOK                 AccountStatus = "ok"
	StatusMissingPermissions AccountStatus = "missing_permissions"
	StatusKeyRevoked         AccountStatus = "key_revoked"
	// StatusPermissionLost: Stripe stopped showing the key events; polling
	// waits for the key to be checked again.
	StatusPermissionLost AccountStatus = "permission_lost"
	StatusOffline        AccountStatus = "offline"
)

// Account is one watched Stripe account in one mode. It holds no key.
type Account struct {
	ID            string        `json:"id"`             // Cashbell's id: <acct_id>-<mode>
	StripeAccount string        `json:"stripe_account"` // acct_...
	Connected     bool          `json:"connected"`      // read through a platform key with Stripe-Account
	Mode          Mode          `json:"mode"`
	Name          string        `json:"name"`
	ImportedName  string        `json:"imported_name,omitempty"`
	UserName      bool          `json:"user_name,omitempty"` // the name was typed by the user
	Logo          string        `json:"logo,omitempty"`      // path of a PNG; empty means the bundled logo
	UserLogo      bool          `json:"user_logo,omitempty"`
	KeyMasked     string        `json:"key_masked"`
	KeyKind       KeyKind       `json:"key_kind"`
	KeyStorage    Storage       `json:"key_storage"`
	Missing       []string      `json:"missing,omitempty"` // permissions missing at the last check
	Status        AccountStatus `json:"status"`
	Demo          bool          `json:"demo,omitempty"`
	Muted         bool          `json:"muted,omitempty"`
	AddedAt       time.Time     `json:"added_at"`
}

// Stopped reports whether polling waits for the key to be checked again.
func (a Account) Stopped() bool {
	return a.Status == StatusKeyRevoked || a.Status == StatusPermissionLost
}

// Live reports whether the account is watched in live mode.
func (a Account) Live() bool { return a.Mode == ModeLive }

// ConnectedID is the account sent as Stripe-Account, or "" for an account
// read with its own key.
func (a Account) ConnectedID() string {
	if a.Connected {
		return a.StripeAccount
	}
	return ""
}

// Records keeps account metadata. The notifier's bbolt store implements it;
// deleting an account there also deletes its events and poll state.
type Records interface {
	SaveAccount(ctx context.Context, a Account) error
	Accounts(ctx context.Context) ([]Account, error)
	DeleteAccount(ctx context.Context, id string) error
}

// KeyStore keeps keys; Vault implements it.
type KeyStore interface {
	Put(id string, key Key) (Storage, error)
	Get(id string, where Storage) (Key, error)
	Delete(id string) error
}

var _ KeyStore = (*Vault)(nil)

// Registry errors.
var (
	ErrDuplicate        = errors.New("this Stripe account is already watched in this mode")
	ErrNotFound         = errors.New("no such account: run `cashbell accounts list` to see the ids")
	ErrConnectedID      = errors.New("a connected account id looks like acct_ followed by letters and digits")
	ErrEventsNotAllowed = errors.New("the key cannot read events (rak_event_read), which Cashbell needs")
)

// accountIDRE is the shape of a Stripe account id. Ids that come from the
// network become parts of file names, so nothing else is accepted.
var accountIDRE = regexp.MustCompile(`^acct_[A-Za-z0-9]{4,64}$`)

// ValidAccountID reports whether id has the shape of a Stripe account id:
// acct_ followed by letters and digits.
func ValidAccountID(id string) bool { return accountIDRE.MatchString(id) }

// ErrBadAccountID means Stripe (or something posing as Stripe) named an
// account id of a shape Stripe never uses; it is refused before it can reach
// a file name.
var ErrBadAccountID = errors.New("an account id not of Stripe's shape (acct_ and letters and digits) was refused")

// Options configure a Registry.
type Options struct {
	Records   Records
	Keys      KeyStore
	Connector *Connector
	LogoDir   string // where imported and chosen logos are kept
	Now       func() time.Time
	Logger    *slog.Logger
}

// Registry is the set of watched accounts.
type Registry struct {
	records Records
	keys    KeyStore
	conn    *Connector
	logoDir string

	demoMu sync.RWMutex
	demo   *Connector // the in-process simulator behind the demo account, when running
	now    func() time.Time
	log    *slog.Logger
}

// NewRegistry returns a registry over the given records and key store.
func NewRegistry(opts Options) *Registry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Registry{records: opts.Records, keys: opts.Keys, conn: opts.Connector, logoDir: opts.LogoDir, now: opts.Now, log: opts.Logger}
}

// SetDemo points demo accounts at the simulator behind c.
func (r *Registry) SetDemo(c *Connector) {
	r.demoMu.Lock()
	defer r.demoMu.Unlock()
	r.demo = c
}

// ErrDemoNotRunning means a demo account was used while no demo runs.
var ErrDemoNotRunning = errors.New("the demo is not running: start Cashbell with --demo, or remove the demo account")

func (r *Registry) connFor(demo bool) (*Connector, error) {
	if !demo {
		return r.conn, nil
	}
	r.demoMu.RLock()
	defer r.demoMu.RUnlock()
	if r.demo == nil {
		return nil, ErrDemoNotRunning
	}
	return r.demo, nil
}

// Check reports what key can do, storing nothing.
func (r *Registry) Check(ctx context.Context, key Key, connected string) (Report, error) {
	return r.check(ctx, key, connected, false)
}

func (r *Registry) check(ctx context.Context, key Key, connected string, demo bool) (Report, error) {
	connected = strings.TrimSpace(connected)
	if connected != "" && !ValidAccountID(connected) {
		return Report{}, ErrConnectedID
	}
	conn, err := r.connFor(demo)
	if err != nil {
		return Report{}, err
	}
	return Check(ctx, conn.Client(key), key, connected)
}

// AddRequest is what the user gives to add an account.
type AddRequest struct {
	Key       Key
	Name      string // optional; overrides the imported name
	Connected string // optional acct_ id of a connected account
	Demo      bool
}

// AddResult is what adding an account did.
type AddResult struct {
	Account     Account
	Report      Report
	Warnings    []string
	IdentityErr error // the name or logo could not be imported; the account was added anyway
}

// Add checks the key, refuses it if it cannot read events or if the account is
// already watched in that mode, imports the name and logo, and stores the key
// and the account.
func (r *Registry) Add(ctx context.Context, req AddRequest) (AddResult, error) {
	rep, err := r.check(ctx, req.Key, req.Connected, req.Demo)
	res := AddResult{Report: rep, Warnings: rep.Warnings()}
	if err != nil {
		return res, err
	}
	if !rep.Usable() {
		return res, ErrEventsNotAllowed
	}
	id := rep.AccountID + "-" + string(req.Key.Mode())
	existing, err := r.records.Accounts(ctx)
	if err != nil {
		return res, err
	}
	for _, a := range existing {
		if a.ID == id {
			return res, fmt.Errorf("%w (%s, %s mode, added as %q)", ErrDuplicate, rep.AccountID, req.Key.Mode(), a.Name)
		}
	}
	acct := Account{
		ID: id, StripeAccount: rep.AccountID, Connected: req.Connected != "", Mode: req.Key.Mode(),
		KeyMasked: req.Key.Masked(), KeyKind: req.Key.Kind(), Missing: rep.MissingNames(),
		Demo: req.Demo, AddedAt: r.now().UTC(),
	}
	acct.Status = statusOf(rep)
	res.IdentityErr = r.importIdentity(ctx, &acct, req.Key, rep)
	if name := safetext.Clean(req.Name); name != "" {
		acct.Name, acct.UserName = name, true
	}
	where, err := r.keys.Put(id, req.Key)
	if err != nil {
		r.removeLogo(acct)
		return res, fmt.Errorf("storing the key: %w", err)
	}
	acct.KeyStorage = where
	if err := r.records.SaveAccount(ctx, acct); err != nil {
		_ = r.keys.Delete(id)
		r.removeLogo(acct)
		return res, err
	}
	r.log.Info("account added", "account", id, "mode", acct.Mode, "key", acct.KeyMasked, "key_storage", where, "missing", acct.Missing)
	res.Account = acct
	return res, nil
}

// ErrOtherAccount means a key given to replace an account's key reads
// another Stripe account, or the other mode.
var ErrOtherAccount = errors.New("the key reads another Stripe account or mode")

// ReplaceKey gives a listed account a new key, after its key was rolled or
// revoked: the key must read the same account in the same mode. It is
// stored in place of the old one and polling resumes; the account keeps
// its events, name, logo and settings.
func (r *Registry) ReplaceKey(ctx context.Context, id string, key Key) (AddResult, error) {
	a, err := r.Get(ctx, id)
	if err != nil {
		return AddResult{}, err
	}
	rep, err := r.check(ctx, key, a.ConnectedID(), a.Demo)
	res := AddResult{Report: rep, Warnings: rep.Warnings(), Account: a}
	switch {
	case err != nil:
		return res, err
	case !rep.Usable():
		return res, ErrEventsNotAllowed
	case rep.AccountID+"-"+string(key.Mode()) != a.ID:
		return res, fmt.Errorf("%w: it reads %s in %s mode, and %q is %s in %s mode", ErrOtherAccount, rep.AccountID, key.Mode(), a.Name, a.StripeAccount, a.Mode)
	}
	where, err := r.keys.Put(id, key)
	if err != nil {
		return res, fmt.Errorf("storing the key: %w", err)
	}
	a.KeyStorage, a.KeyMasked, a.KeyKind = where, key.Masked(), key.Kind()
	a.Status, a.Missing = statusOf(rep), rep.MissingNames()
	if err := r.records.SaveAccount(ctx, a); err != nil {
		return res, err
	}
	r.log.Info("key replaced", "account", id, "key", a.KeyMasked, "key_storage", where, "missing", a.Missing)
	res.Account = a
	return res, nil
}

func statusOf(rep Report) AccountStatus {
	for _, res := range rep.Results {
		if res.Status == Missing && !res.Optional {
			return StatusMissingPermissions
		}
	}
	return StatusOK
}

// importIdentity fills in the imported name and logo, keeping what the user chose.
func (r *Registry) importIdentity(ctx context.Context, a *Account, key Key, rep Report) error {
	conn, err := r.connFor(a.Demo)
	if err != nil {
		return err
	}
	ident, err := ImportIdentity(ctx, conn, conn.Client(key), rep, r.now())
	a.ImportedName = cmp.Or(ident.Name, genericName(*a))
	if !a.UserName {
		a.Name = a.ImportedName
	}
	if ident.Logo != nil && !a.UserLogo {
		if werr := r.writeLogo(a, ident.Logo); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		r.log.Warn("account identity not imported", "account", a.ID, "err", err)
	}
	return err
}

func genericName(a Account) string {
	short := strings.TrimPrefix(a.StripeAccount, "acct_")
	if len(short) > 6 {
		short = short[len(short)-6:]
	}
	return "Stripe account …" + short
}

// logoPath is where an account's logo is kept: a file named after its
// validated id, directly inside the logo folder.
func (r *Registry) logoPath(a Account) (string, error) {
	if !ValidAccountID(a.StripeAccount) || a.ID != a.StripeAccount+"-"+string(a.Mode) {
		return "", ErrBadAccountID
	}
	return filepath.Join(r.logoDir, a.ID+".png"), nil
}

func (r *Registry) writeLogo(a *Account, png []byte) error {
	path, err := r.logoPath(*a)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.logoDir, 0o700); err != nil {
		return fmt.Errorf("saving the logo: %w", err)
	}
	if err := os.WriteFile(path, png, 0o600); err != nil {
		return fmt.Errorf("saving the logo: %w", err)
	}
	a.Logo = path
	return nil
}

// removeLogo deletes the account's logo file: only the one Cashbell would
// have written for it, whatever the stored record says.
func (r *Registry) removeLogo(a Account) {
	path, err := r.logoPath(a)
	if a.Logo == "" || err != nil || filepath.Clean(a.Logo) != path {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("logo not removed", "path", path, "err", err)
	}
}

// List returns every account, sorted by name.
func (r *Registry) List(ctx context.Context) ([]Account, error) {
	list, err := r.records.Accounts(ctx)
	for i := range list {
		// Names are cleaned as they come in; a record written before that
		// is cleaned as it goes out.
		list[i].Name, list[i].ImportedName = safetext.Clean(list[i].Name), safetext.Clean(list[i].ImportedName)
	}
	return list, err
}

// Get returns one account.
func (r *Registry) Get(ctx context.Context, id string) (Account, error) {
	all, err := r.List(ctx)
	if err != nil {
		return Account{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return Account{}, fmt.Errorf("%w (%q)", ErrNotFound, id)
}

// Update changes an account's metadata and saves it.
func (r *Registry) Update(ctx context.Context, id string, change func(*Account)) (Account, error) {
	a, err := r.Get(ctx, id)
	if err != nil {
		return a, err
	}
	change(&a)
	return a, r.records.SaveAccount(ctx, a)
}

// SetMuted turns an account's notifications off or on again.
func (r *Registry) SetMuted(ctx context.Context, id string, muted bool) (Account, error) {
	return r.Update(ctx, id, func(a *Account) { a.Muted = muted })
}

// Remove deletes an account, its key, its logo and all its stored events.
func (r *Registry) Remove(ctx context.Context, id string) error {
	a, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := r.keys.Delete(id); err != nil {
		return err
	}
	if err := r.records.DeleteAccount(ctx, id); err != nil {
		return err
	}
	r.removeLogo(a)
	r.log.Info("account removed", "account", id)
	return nil
}

// Rename sets the name the user chose; an empty name goes back to the imported one.
func (r *Registry) Rename(ctx context.Context, id, name string) (Account, error) {
	return r.Update(ctx, id, func(a *Account) {
		name = safetext.Clean(name)
		a.Name, a.UserName = name, name != ""
		if name == "" {
			a.Name = a.ImportedName
		}
	})
}

// SetLogo sets a logo chosen by the user, after checking it is a readable image
// within the limits. Nil goes back to the imported or bundled logo.
func (r *Registry) SetLogo(ctx context.Context, id string, data []byte) (Account, error) {
	a, err := r.Get(ctx, id)
	if err != nil {
		return a, err
	}
	if data == nil {
		r.removeLogo(a)
		a.Logo, a.UserLogo = "", false
		return a, r.records.SaveAccount(ctx, a)
	}
	png, err := DecodeLogo(data)
	if err != nil {
		return a, err
	}
	if err := r.writeLogo(&a, png); err != nil {
		return a, err
	}
	a.UserLogo = true
	return a, r.records.SaveAccount(ctx, a)
}

// Key returns an account's key from where it is kept.
func (r *Registry) Key(id string, where Storage) (Key, error) {
	return r.keys.Get(id, where)
}

// Client returns a Stripe client for an account, and the params every call for
// it must carry (the Stripe-Account header of a connected account).
func (r *Registry) Client(a Account) (*client.API, stripe.Params, error) {
	key, err := r.keys.Get(a.ID, a.KeyStorage)
	if err != nil {
		return nil, stripe.Params{}, err
	}
	var p stripe.Params
	if id := a.ConnectedID(); id != "" {
		p.SetStripeAccount(id)
	}
	conn, err := r.connFor(a.Demo)
	if err != nil {
		return nil, p, err
	}
	return conn.Client(key), p, nil
}

// Recheck checks an account's key again and records the outcome. A user's
// name and logo stay; imported ones are refreshed ("import again").
func (r *Registry) Recheck(ctx context.Context, id string) (Account, Report, error) {
	a, err := r.Get(ctx, id)
	if err != nil {
		return a, Report{}, err
	}
	key, err := r.keys.Get(a.ID, a.KeyStorage)
	if err != nil {
		return a, Report{}, err
	}
	rep, checkErr := r.check(ctx, key, a.ConnectedID(), a.Demo)
	switch {
	case checkErr == nil:
		a.Status, a.Missing = statusOf(rep), rep.MissingNames()
		if !rep.Usable() {
			a.Status = StatusPermissionLost // no events: polling stays stopped
		}
		if err := r.importIdentity(ctx, &a, key, rep); err != nil {
			checkErr = err
		}
	case errors.Is(checkErr, ErrKeyInvalid) || errors.Is(checkErr, ErrKeyExpired) || errors.Is(checkErr, ErrNoAccountAccess) || errors.Is(checkErr, ErrNoConnectPermissions):
		a.Status = StatusKeyRevoked
	case Retryable(checkErr):
		a.Status = StatusOffline
	}
	if err := r.records.SaveAccount(ctx, a); err != nil {
		return a, rep, err
	}
	return a, rep, checkErr
}
