package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/notifier/store"
)

type env struct {
	sim   *fakestripe.Stripe
	conn  *accounts.Connector
	store *store.Store
	vault *accounts.Vault
	reg   *accounts.Registry
	dir   string
	acct  string
}

func pngOf(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: 120, B: uint8(y), A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	conn, err := accounts.NewConnector(sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	store, err := store.Open(filepath.Join(dir, "cashbell.db"), store.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	vault := accounts.OpenVault(filepath.Join(dir, "keys.json"), true)
	reg := accounts.NewRegistry(accounts.Options{Records: store, Keys: vault, Connector: conn, LogoDir: filepath.Join(dir, "logos")})
	acct := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme Books", Icon: pngOf(300, 200)})
	return &env{sim: sim, conn: conn, store: store, vault: vault, reg: reg, dir: dir, acct: acct}
}

func (e *env) key(t *testing.T, live bool, kind stripesim.KeyKind, perms ...string) accounts.Key {
	t.Helper()
	k, err := accounts.ParseKey(e.sim.NewKey(e.acct, live, kind, perms...))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCheckWithEveryPermission(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	rep, err := e.reg.Check(ctx(t), key, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountID != e.acct || !rep.Usable() || len(rep.MissingNames()) != 0 || rep.Mode != accounts.ModeTest {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.Results) != len(accounts.Permissions) {
		t.Fatalf("%d results for %d permissions", len(rep.Results), len(accounts.Permissions))
	}
	if len(rep.Warnings()) != 0 {
		t.Fatalf("warnings for a restricted key: %v", rep.Warnings())
	}
}

// stripeName is the permission the simulator's account asks for: the
// account's details have no name in Cashbell.
func stripeName(p accounts.Permission) string {
	if p.Name == "" {
		return stripesim.PermAccountsKYCBasicRead
	}
	return p.Name
}

func TestCheckEachPermissionMissing(t *testing.T) {
	e := newEnv(t)
	for _, missing := range accounts.Permissions {
		t.Run(missing.Label, func(t *testing.T) {
			var perms []string
			for _, p := range accounts.Permissions {
				if p.Label != missing.Label {
					perms = append(perms, stripeName(p))
				}
			}
			key := e.key(t, true, stripesim.Restricted, perms...)
			rep, err := e.reg.Check(ctx(t), key, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Results {
				want := accounts.Granted
				if r.Label == missing.Label {
					want = accounts.Missing
				}
				if r.Status != want {
					t.Errorf("%s: %s, want %s", r.Label, r.Status, want)
				}
			}
			// Missing permissions are reported by Stripe's own name.
			if got := rep.MissingNames(); len(got) != 1 || got[0] != stripeName(missing) {
				t.Fatalf("missing = %v", got)
			}
			if rep.AccountID != e.acct {
				t.Fatalf("account id %q, want %q (learnt even without account read)", rep.AccountID, e.acct)
			}
			if rep.Usable() == missing.Required {
				t.Fatalf("usable = %v with %s missing", rep.Usable(), missing.Label)
			}
			if missing.IfMissing == "" {
				t.Fatal("no cost given for a missing permission")
			}
			_, err = e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
			if missing.Required {
				if !errors.Is(err, accounts.ErrEventsNotAllowed) {
					t.Fatalf("add without events: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("add: %v", err)
			}
			if err := e.reg.Remove(ctx(t), e.acct+"-live"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// GET /v1/account has three answers for a restricted key: the account; a
// 403 naming a permission (Stripe's name is reported, never one made up);
// and "not available for use by restricted keys" (type a name instead).
func TestTheThreeAnswersOfTheAccountRead(t *testing.T) {
	e := newEnv(t)
	var others []string
	for _, p := range stripesim.AllPermissions {
		if p != stripesim.PermAccountsKYCBasicRead && p != stripesim.PermAccountsKYCIDNumbersRead {
			others = append(others, p)
		}
	}
	for read, want := range map[stripesim.AccountRead]string{
		stripesim.AccountReadKYCBasic:             "rak_accounts_kyc_basic_read",
		stripesim.AccountReadKYCIDNumbers:         "rak_accounts_kyc_id_numbers_read",
		stripesim.AccountReadNotForRestrictedKeys: "",
	} {
		acct := e.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Beta", AccountRead: read})
		key, _ := accounts.ParseKey(e.sim.NewKey(acct, false, stripesim.Restricted, others...))
		res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key, Name: "Typed name"})
		if err != nil {
			t.Fatalf("%s: %v", read, err)
		}
		var row accounts.PermissionResult
		for _, r := range res.Report.Results {
			if r.Label == accounts.AccountDetails {
				row = r
			}
		}
		if row.Status != accounts.Missing || row.StripeName != want || row.NotForRestrictedKeys != (want == "") || row.Advice() == "" {
			t.Errorf("%s: %+v", read, row)
		}
		if res.Account.StripeAccount != acct || res.Account.Name != "Typed name" {
			t.Errorf("%s: account %+v", read, res.Account)
		}
		if want != "" && !strings.Contains(row.Advice(), want) {
			t.Errorf("%s: advice %q does not name %s", read, row.Advice(), want)
		}
		if strings.Contains(accounts.CreateKeyURL(accounts.ModeLive), "rak_accounts") {
			t.Error("the create-key link asks for a permission whose name Stripe changes")
		}
	}
	// With it, the name and logo come in.
	acct := e.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Gamma", AccountRead: stripesim.AccountReadKYCIDNumbers, Icon: pngOf(8, 8)})
	key, _ := accounts.ParseKey(e.sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...))
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil || res.Account.Name != "Gamma" || res.Account.Logo == "" {
		t.Fatalf("with the permission: %+v %v", res.Account, err)
	}
}

// A platform's restricted key without Connect permissions gets Stripe's
// refusal for a connected account, in a sentence that says what to do; an
// organisation key is refused with what to use instead.
func TestConnectAndOrganisationKeys(t *testing.T) {
	e := newEnv(t)
	connected := e.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Shop on Acme", Platform: e.acct})
	var noConnect []string
	for _, p := range stripesim.AllPermissions {
		if p != stripesim.PermConnectedAccountRead {
			noConnect = append(noConnect, p)
		}
	}
	key := e.key(t, false, stripesim.Restricted, noConnect...)
	_, err := e.reg.Check(ctx(t), key, connected)
	if !errors.Is(err, accounts.ErrNoConnectPermissions) || !strings.Contains(err.Error(), "Connect") {
		t.Fatalf("no Connect permissions: %v", err)
	}
	for _, org := range []string{"sk_org_live_" + strings.Repeat("a", 40), "sk_org_test_" + strings.Repeat("b", 40), "rk_org_" + strings.Repeat("c", 40)} {
		if _, err := accounts.ParseKey(org); !errors.Is(err, accounts.ErrKeyOrganization) || strings.Contains(err.Error(), "not look like") {
			t.Errorf("%s: %v", org[:10], err)
		}
		if strings.Contains(accounts.Redact("key "+org), org[12:30]) {
			t.Errorf("an organisation key leaks: %s", accounts.Redact("key "+org))
		}
	}
}

func TestCheckOnlyEventRead(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, false, stripesim.Restricted, stripesim.PermEventRead)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Account
	if a.Status != accounts.StatusMissingPermissions || len(a.Missing) != len(accounts.Permissions)-1 {
		t.Fatalf("account %+v", a)
	}
	if !strings.HasPrefix(a.Name, "Stripe account …") || a.Logo != "" {
		t.Fatalf("generic identity expected, got name %q logo %q", a.Name, a.Logo)
	}
}

func TestKeyRefusals(t *testing.T) {
	e := newEnv(t)
	revoked := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	e.sim.RevokeKey(revoked.Reveal())
	if _, err := e.reg.Check(ctx(t), revoked, ""); !errors.Is(err, accounts.ErrKeyInvalid) {
		t.Fatalf("revoked: %v", err)
	}
	expired := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	e.sim.ExpireKey(expired.Reveal())
	_, err := e.reg.Check(ctx(t), expired, "")
	if !errors.Is(err, accounts.ErrKeyExpired) {
		t.Fatalf("expired: %v", err)
	}
	if errors.Is(err, accounts.ErrKeyInvalid) || err.Error() == accounts.ErrKeyInvalid.Error() {
		t.Fatal("expired and revoked keys must read differently")
	}
}

func TestRateLimitServerErrorAndNoNetworkAreToldApart(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)

	e.sim.Inject(fakestripe.Fault{Kind: fakestripe.RateLimit, Path: "/v1/events"})
	rep, err := e.reg.Check(ctx(t), key, "")
	if !errors.Is(err, accounts.ErrRateLimited) || rep.Status(accounts.PermEventRead) != accounts.Unknown {
		t.Fatalf("429: %v, event read %s", err, rep.Status(accounts.PermEventRead))
	}
	if rep.Status(accounts.PermBalanceTransactionRead) != accounts.Granted {
		t.Fatalf("other permissions should still be checked: %s", rep.Status(accounts.PermBalanceTransactionRead))
	}

	e.sim.Inject(fakestripe.Fault{Kind: fakestripe.ServerError, Status: 503, Path: "/v1/events"})
	if _, err := e.reg.Check(ctx(t), key, ""); !errors.Is(err, accounts.ErrStripeUnavailable) {
		t.Fatalf("503: %v", err)
	}

	e.sim.Inject(fakestripe.Fault{Kind: fakestripe.HTML, Path: "/v1/events"})
	if _, err := e.reg.Check(ctx(t), key, ""); !errors.Is(err, accounts.ErrBadResponse) {
		t.Fatalf("HTML: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	conn, err := accounts.NewConnector(closed)
	if err != nil {
		t.Fatal(err)
	}
	offline := accounts.NewRegistry(accounts.Options{Connector: conn})
	rep, err = offline.Check(ctx(t), key, "")
	if !errors.Is(err, accounts.ErrOffline) {
		t.Fatalf("no network: %v", err)
	}
	for _, r := range rep.Results {
		if r.Status != accounts.Unknown {
			t.Fatalf("%s is %s with no network; it must be unknown, never guessed", r.Name, r.Status)
		}
	}
	msgs := map[string]bool{}
	for _, e := range []error{accounts.ErrKeyInvalid, accounts.ErrKeyExpired, accounts.ErrRateLimited, accounts.ErrOffline, accounts.ErrStripeUnavailable} {
		msgs[e.Error()] = true
	}
	if len(msgs) != 5 {
		t.Fatal("each failure needs its own message")
	}
}

func TestSecretKeyIsAcceptedWithAWarning(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, true, stripesim.Secret)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "https://dashboard.stripe.com/apikeys/create?") {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	if res.Account.KeyKind != accounts.KindSecret || res.Account.Mode != accounts.ModeLive {
		t.Fatalf("account: %+v", res.Account)
	}
}

func TestIdentityIsImported(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil || res.IdentityErr != nil {
		t.Fatalf("add: %v / %v", err, res.IdentityErr)
	}
	a := res.Account
	if a.Name != "Acme Books" || a.Logo == "" {
		t.Fatalf("identity: name %q logo %q", a.Name, a.Logo)
	}
	if n := e.sim.RequestsTo("/v1/account"); n != 1 {
		t.Fatalf("the account was read %d times to add it, want once", n)
	}
	data, err := os.ReadFile(a.Logo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 128 || cfg.Height != 85 {
		t.Fatalf("logo %dx%d, %v; want 128x85", cfg.Width, cfg.Height, err)
	}

	// The user's own name and logo win, and survive "import again".
	if _, err := e.reg.Rename(ctx(t), a.ID, "My shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.SetLogo(ctx(t), a.ID, pngOf(64, 64)); err != nil {
		t.Fatal(err)
	}
	e.sim.SetIcon(e.acct, pngOf(32, 32))
	a, _, err = e.reg.Recheck(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "My shop" || !a.UserLogo {
		t.Fatalf("after import again: %+v", a)
	}
	// Clearing them goes back to what Stripe says.
	if _, err := e.reg.Rename(ctx(t), a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.SetLogo(ctx(t), a.ID, nil); err != nil {
		t.Fatal(err)
	}
	a, _, err = e.reg.Recheck(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(a.Logo)
	cfg, _ = png.DecodeConfig(bytes.NewReader(data))
	if a.Name != "Acme Books" || cfg.Width != 32 {
		t.Fatalf("import again: name %q logo width %d", a.Name, cfg.Width)
	}
}

func TestLogoTooLargeOrNotAnImage(t *testing.T) {
	e := newEnv(t)
	huge := append(pngOf(10, 10), bytes.Repeat([]byte{0}, accounts.MaxLogoBytes)...)
	e.sim.SetIcon(e.acct, huge)
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatalf("a bad logo must not stop the account: %v", err)
	}
	if !errors.Is(res.IdentityErr, accounts.ErrLogoTooLarge) || res.Account.Logo != "" || res.Account.Name != "Acme Books" {
		t.Fatalf("too large: %v, logo %q, name %q", res.IdentityErr, res.Account.Logo, res.Account.Name)
	}

	e.sim.SetIcon(e.acct, []byte("<html>not an image</html>"))
	_, _, err = e.reg.Recheck(ctx(t), res.Account.ID)
	if !errors.Is(err, accounts.ErrLogoNotImage) {
		t.Fatalf("not an image: %v", err)
	}

	for name, data := range map[string][]byte{
		"too many bytes":  huge,
		"too many pixels": pngOf(5000, 1),
		"text":            []byte("hello"),
		"truncated png":   pngOf(40, 40)[:60],
		"empty":           {},
	} {
		if _, err := e.reg.SetLogo(ctx(t), res.Account.ID, data); !errors.Is(err, accounts.ErrLogoTooLarge) && !errors.Is(err, accounts.ErrLogoNotImage) {
			t.Errorf("user logo %s: %v", name, err)
		}
	}
	a, _ := e.reg.Get(ctx(t), res.Account.ID)
	if a.UserLogo {
		t.Fatal("a refused logo was kept")
	}
}

func TestDuplicateAndLiveTestSideBySide(t *testing.T) {
	e := newEnv(t)
	c := ctx(t)
	if _, err := e.reg.Add(c, accounts.AddRequest{Key: e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.reg.Add(c, accounts.AddRequest{Key: e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)})
	if !errors.Is(err, accounts.ErrDuplicate) {
		t.Fatalf("second test key for the same account: %v", err)
	}
	if _, err := e.reg.Add(c, accounts.AddRequest{Key: e.key(t, true, stripesim.Restricted, stripesim.AllPermissions...)}); err != nil {
		t.Fatalf("live beside test: %v", err)
	}
	other := e.sim.CreateAccount(stripesim.AccountSpec{BusinessName: "Other Ltd"})
	ok, _ := accounts.ParseKey(e.sim.NewKey(other, true, stripesim.Restricted, stripesim.AllPermissions...))
	res, err := e.reg.Add(c, accounts.AddRequest{Key: ok, Name: "  Typed name "})
	if err != nil || res.Account.Name != "Typed name" || res.Account.ImportedName != "Other Ltd" {
		t.Fatalf("third: %+v %v", res.Account, err)
	}
	list, _ := e.reg.List(c)
	if len(list) != 3 {
		t.Fatalf("%d accounts, want 3", len(list))
	}
}

func TestConnectedAccount(t *testing.T) {
	e := newEnv(t)
	shop := e.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Shop on Acme", Platform: e.acct})
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	if _, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key, Connected: "acct_nope!"}); !errors.Is(err, accounts.ErrConnectedID) {
		t.Fatalf("bad id: %v", err)
	}
	stranger := e.sim.CreateAccount(stripesim.AccountSpec{})
	if _, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key, Connected: stranger}); !errors.Is(err, accounts.ErrNoAccountAccess) {
		t.Fatalf("stranger: %v", err)
	}
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key, Connected: shop})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Account.Connected || res.Account.StripeAccount != shop || res.Account.Name != "Shop on Acme" {
		t.Fatalf("connected account: %+v", res.Account)
	}
	// The platform itself can be added beside it with the same key.
	if _, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key}); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveDeletesKeyLogoAndEvents(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Account
	if _, err := e.store.Ingest(ctx(t), a.ID, []store.Event{{ID: "evt_1", Type: "charge.succeeded", Created: 1, Object: []byte(`{}`)}}, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Remove(ctx(t), a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.vault.Get(a.ID, a.KeyStorage); !errors.Is(err, accounts.ErrKeyNotStored) {
		t.Fatalf("key still stored: %v", err)
	}
	if _, err := os.Stat(a.Logo); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("logo still there: %v", err)
	}
	if n, _ := e.store.Count(ctx(t), a.ID); n != 0 {
		t.Fatalf("%d events left", n)
	}
	if err := e.reg.Remove(ctx(t), a.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

// The key must be nowhere under the config dir but in the 0600 key file.
func TestKeyIsOnlyInTheKeyFile(t *testing.T) {
	e := newEnv(t)
	key := e.key(t, true, stripesim.Restricted, stripesim.AllPermissions...)
	res, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if res.Account.KeyStorage != accounts.StorageFile {
		t.Fatalf("storage %s", res.Account.KeyStorage)
	}
	e.store.Close()
	secret := []byte(key.Reveal())
	found := 0
	err = filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, secret) {
			return nil
		}
		found++
		info, _ := d.Info()
		if filepath.Base(path) != "keys.json" || info.Mode().Perm() != 0o600 {
			t.Errorf("key found in %s (mode %v)", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Fatalf("key found in %d files, want exactly the key file", found)
	}
}

// An account id from the network becomes part of a file name: one that is
// not of Stripe's shape is refused before anything is written.
func TestAnAccountIDOfTheWrongShapeIsRefused(t *testing.T) {
	e := newEnv(t)
	outside := filepath.Join(e.dir, "outside")
	for _, id := range []string{"../../../../" + outside + "/pwned", "acct_../../x", "acct_1 2", "acct_"} {
		evil := e.sim.CreateAccount(stripesim.AccountSpec{ID: id, DisplayName: "Evil", Icon: pngOf(8, 8)})
		key, err := accounts.ParseKey(e.sim.NewKey(evil, false, stripesim.Restricted, stripesim.AllPermissions...))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Check(ctx(t), key, ""); !errors.Is(err, accounts.ErrBadAccountID) {
			t.Errorf("check of %q: %v, want ErrBadAccountID", id, err)
		}
		if _, err := e.reg.Add(ctx(t), accounts.AddRequest{Key: key}); !errors.Is(err, accounts.ErrBadAccountID) {
			t.Errorf("add of %q: %v, want ErrBadAccountID", id, err)
		}
	}
	if _, err := os.Stat(outside); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("something was written outside the logo folder: %v", err)
	}
	if list, _ := e.reg.List(ctx(t)); len(list) != 0 {
		t.Fatalf("an account was added: %+v", list)
	}
	// A connected account id typed by the user is held to the same shape.
	key := e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)
	if _, err := e.reg.Check(ctx(t), key, "acct_../../etc"); !errors.Is(err, accounts.ErrConnectedID) {
		t.Fatalf("connected id: %v", err)
	}
}

// The logo link and every redirect on its way must lead to Stripe's file
// host (the loopback simulator here); anything else is not followed.
func TestLogoRedirectsAreCheckedAgain(t *testing.T) {
	for _, target := range []string{"http://10.255.255.1/logo.png", "https://evil.example.com/logo.png", "ftp://127.0.0.1/logo.png", "file:///etc/passwd"} {
		t.Run(target, func(t *testing.T) {
			sim := fakestripe.New(stripesim.Options{})
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/links/") {
					http.Redirect(w, r, target, http.StatusFound)
					return
				}
				sim.ServeHTTP(w, r)
			}))
			defer front.Close()
			sim.URL = front.URL // the file links it hands out lead to front
			acct := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme", Icon: pngOf(8, 8)})
			conn, err := accounts.NewConnector(front.URL)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			store, err := store.Open(filepath.Join(dir, "cashbell.db"), store.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			reg := accounts.NewRegistry(accounts.Options{Records: store, Keys: accounts.OpenVault(filepath.Join(dir, "keys.json"), true),
				Connector: conn, LogoDir: filepath.Join(dir, "logos")})
			key, _ := accounts.ParseKey(sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...))
			start := time.Now()
			res, err := reg.Add(ctx(t), accounts.AddRequest{Key: key})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(res.IdentityErr, accounts.ErrLogoHost) || res.Account.Logo != "" || res.Account.Name != "Acme" {
				t.Fatalf("identity: %v, logo %q, name %q", res.IdentityErr, res.Account.Logo, res.Account.Name)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatal("the redirect was followed (the download waited on the private address)")
			}
		})
	}
}

// refusingKeyring answers like a working keyring but refuses to store the
// keys of the accounts it names.
type refusingKeyring struct {
	mu     sync.Mutex
	keys   map[string]string
	refuse func(user string) bool
}

func (k *refusingKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.keys[user]; ok {
		return v, nil
	}
	return "", keyring.ErrNotFound
}

func (k *refusingKeyring) Set(service, user, password string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.refuse(user) {
		return errors.New("the collection is locked")
	}
	k.keys[user] = password
	return nil
}

func (k *refusingKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, user)
	return nil
}

// A keyring that passes the probe but refuses one key: that key goes to the
// file, and every sentence about it says so.
func TestAKeyTheKeyringRefusesIsReportedWhereItIs(t *testing.T) {
	e := newEnv(t)
	kr := &refusingKeyring{keys: map[string]string{}, refuse: func(user string) bool { return strings.HasSuffix(user, "-live") }}
	vault := accounts.OpenVaultOn(filepath.Join(e.dir, "keys.json"), kr)
	reg := accounts.NewRegistry(accounts.Options{Records: e.store, Keys: vault, Connector: e.conn, LogoDir: filepath.Join(e.dir, "logos")})
	if vault.Where() != accounts.StorageKeyring {
		t.Fatal("the keyring answered the probe, so new keys should go there")
	}
	testRes, err := reg.Add(ctx(t), accounts.AddRequest{Key: e.key(t, false, stripesim.Restricted, stripesim.AllPermissions...)})
	if err != nil {
		t.Fatal(err)
	}
	liveRes, err := reg.Add(ctx(t), accounts.AddRequest{Key: e.key(t, true, stripesim.Restricted, stripesim.AllPermissions...), Name: "Live shop"})
	if err != nil {
		t.Fatal(err)
	}
	if testRes.Account.KeyStorage != accounts.StorageKeyring || liveRes.Account.KeyStorage != accounts.StorageFile {
		t.Fatalf("storage: test %s, live %s", testRes.Account.KeyStorage, liveRes.Account.KeyStorage)
	}
	if note := vault.KeyNote(liveRes.Account.KeyStorage); !strings.Contains(note, "refused") || !strings.Contains(note, "keys.json") {
		t.Fatalf("note for the refused key: %q", note)
	}
	if note := vault.KeyNote(testRes.Account.KeyStorage); !strings.Contains(note, "system keyring") || strings.Contains(note, "refused") {
		t.Fatalf("note for the kept key: %q", note)
	}
	list, _ := reg.List(ctx(t))
	if sum := vault.Summary(list); !strings.Contains(sum, "except the keys of Live shop") || strings.Contains(sum, "Acme Books") {
		t.Fatalf("summary: %q", sum)
	}
	// Both keys are found again where they are.
	for _, a := range list {
		if _, _, err := reg.Client(a); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
	}
}
