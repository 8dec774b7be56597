package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/poller"
)

type recorded struct {
	method, path, query, body, account string
}

type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) wrap(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if strings.HasPrefix(req.URL.Path, "/v1/") {
			r.mu.Lock()
			r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, string(body), req.Header.Get("Stripe-Account")})
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	})
}

type nopSink struct{}

func (nopSink) Notify(context.Context, desktop.Notification) (uint32, error) { return 0, nil }

func findStripeMock(t *testing.T) string {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "stripe-mock")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("stripe-mock is not installed: `go install github.com/stripe/stripe-mock@v0.203.0` (make test does it) to check request shapes against Stripe's OpenAPI spec")
	return ""
}

func startStripeMock(t *testing.T) string {
	bin := findStripeMock(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-http-addr", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v1/balance")
		if err == nil {
			resp.Body.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exercise runs what Cashbell does against Stripe: check keys, add a plain and
// a connected account, import identities, poll, enrich and page through a burst.
func exercise(t *testing.T, base string, sim *fakestripe.Stripe) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := testworld.On(t, sim, base)
	store, reg := w.Store, w.Reg
	platform := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Platform", Icon: pngBytes, APIVersion: stripesim.Version20240620})
	shop := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Shop", Platform: platform, Icon: pngBytes, APIVersion: stripesim.VersionBasil})
	key, _ := accounts.ParseKey(sim.NewKey(platform, false, stripesim.Restricted, stripesim.AllPermissions...))
	partial, _ := accounts.ParseKey(sim.NewKey(platform, false, stripesim.Restricted, stripesim.PermEventRead))
	if _, err := reg.Check(ctx, partial, ""); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, connected := range []string{"", shop} {
		res, err := reg.Add(ctx, accounts.AddRequest{Key: key, Connected: connected})
		if err != nil || res.IdentityErr != nil {
			t.Fatalf("add %q: %v %v", connected, err, res.IdentityErr)
		}
		ids = append(ids, res.Account.ID)
	}
	svc := poller.New(poller.Options{Store: store, Accounts: reg, Sink: nopSink{}})
	for i, acct := range []string{platform, shop} {
		g := sim.Generator(acct, false, 5)
		if err := svc.Poll(ctx, ids[i]); err != nil {
			t.Fatal(err)
		}
		_, ch := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Product: "Pro plan"})
		g.Sale(stripesim.Sale{Amount: 500, Currency: "jpy", Email: "", Country: ""})
		g.Refund(ch, 0)
		_, sub := g.Subscribe("a@example.com", stripesim.Plan{Product: "Team", Amount: 900, Currency: "usd", Interval: "month"}, 0)
		g.ChangePlan(sub, stripesim.Plan{Product: "Pro", Amount: 4900, Currency: "usd", Interval: "month"})
		g.Renew(sub, true)
		g.Renew(sub, false)
		_, held := g.Authorize(stripesim.Sale{Amount: 700, Currency: "eur", Email: "h@example.com"})
		g.Capture(held, 0)
		_, ch2 := g.Sale(stripesim.Sale{Amount: 2500, Currency: "usd", Email: "r@example.com"})
		g.Refund(ch2, 500)
		refunds := g.Refunds(ch2)
		g.FailRefund(refunds[0], "declined")
		_, dp := g.Dispute(ch2, "fraudulent")
		g.CloseDispute(dp, true)
		g.EarlyFraudWarning(ch2, "misc")
		if err := svc.Poll(ctx, ids[i]); err != nil {
			t.Fatal(err)
		}
		for range 150 {
			g.Random()
		}
		if err := svc.Poll(ctx, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := reg.Recheck(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
}

var pngBytes = []byte{0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0xf8, 0x0f, 0x00, 0x01, 0x04, 0x01, 0x00, 0x5f, 0xe5, 0xc3, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82}

var idRE = regexp.MustCompile(`/(evt|ch|cus|in|prod|price|sub|po|txn|dp|re|issfr)_1[A-Za-z0-9]+`)

// shape is a request with ids and values taken out, to replay one of each kind.
func shape(r recorded) string {
	q, _ := url.ParseQuery(r.query)
	b, _ := url.ParseQuery(r.body)
	var keys []string
	for k := range q {
		keys = append(keys, regexp.MustCompile(`\[\d+\]`).ReplaceAllString(k, "[]"))
	}
	for k := range b {
		keys = append(keys, "body:"+k)
	}
	sort.Strings(keys)
	return fmt.Sprintf("%s %s %v connected=%v", r.method, idRE.ReplaceAllString(r.path, "/${1}_ID"), keys, r.account != "")
}

func TestEveryRequestIsAValidStripeRequest(t *testing.T) {
	mock := startStripeMock(t)
	sim := fakestripe.New(stripesim.Options{}).Start()
	defer sim.Close()
	target, _ := url.Parse(sim.URL)
	rec := &recorder{}
	proxy := httptest.NewServer(rec.wrap(target))
	defer proxy.Close()
	exercise(t, proxy.URL, sim)

	seen := map[string]recorded{}
	for _, r := range rec.reqs {
		if _, ok := seen[shape(r)]; !ok {
			seen[shape(r)] = r
		}
	}
	if len(seen) < 12 {
		t.Fatalf("only %d kinds of request recorded", len(seen))
	}
	shapes := make([]string, 0, len(seen))
	for s := range seen {
		shapes = append(shapes, s)
	}
	sort.Strings(shapes)
	for _, s := range shapes {
		r := seen[s]
		t.Run(s, func(t *testing.T) {
			u := mock + r.path
			if r.query != "" {
				u += "?" + r.query
			}
			req, _ := http.NewRequest(r.method, u, strings.NewReader(r.body))
			req.Header.Set("Authorization", "Bearer sk_test_conformance")
			req.Header.Set("Stripe-Version", stripesim.Version20231016) // what stripe-go v76 sends
			if r.method == http.MethodPost {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if r.account != "" {
				req.Header.Set("Stripe-Account", "acct_1Conformance")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			// The file-write probe leaves out the file on purpose: Stripe checks the
			// permission first, then refuses the missing parameter and creates nothing.
			if r.method == http.MethodPost && r.path == "/v1/file_links" && r.body == "" {
				if resp.StatusCode != 400 || !strings.Contains(string(body), "'file' is required") {
					t.Fatalf("probe: %d %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode >= 400 {
				t.Fatalf("stripe-mock refused %s %s?%s body=%q: %d %s", r.method, r.path, r.query, r.body, resp.StatusCode, body)
			}
		})
	}
}
