package accounts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const body = "51HqLyjWDarjtT1zdp7dcXGnDqnHBxCoGZwVwPnWPRNcWtQoKXVWWcR1wKsSMNbX4zgeSjd3AfmF"

func TestParseKey(t *testing.T) {
	cases := []struct {
		name string
		in   string
		kind KeyKind
		live bool
		err  error
	}{
		{"restricted live", "rk_live_" + body, KindRestricted, true, nil},
		{"restricted test", "rk_test_" + body, KindRestricted, false, nil},
		{"secret live", "sk_live_" + body, KindSecret, true, nil},
		{"secret test", "sk_test_" + body, KindSecret, false, nil},
		{"whitespace and newline", "  rk_test_" + body + "\r\n", KindRestricted, false, nil},
		{"double quotes", `"rk_live_` + body + `"`, KindRestricted, true, nil},
		{"single quotes in spaces", ` 'rk_live_` + body + `' `, KindRestricted, true, nil},
		{"publishable live", "pk_live_" + body, "", false, ErrKeyPublishable},
		{"publishable test", "pk_test_" + body, "", false, ErrKeyPublishable},
		{"webhook secret", "whsec_" + body, "", false, ErrKeyWebhook},
		{"empty", "", "", false, ErrKeyEmpty},
		{"only spaces", " \t\n", "", false, ErrKeyEmpty},
		{"empty quotes", `""`, "", false, ErrKeyEmpty},
		{"garbage", "hello world", "", false, ErrKeyUnrecognized},
		{"upper case prefix", "RK_LIVE_" + body, "", false, ErrKeyUnrecognized},
		{"cut short", "rk_live_abc", "", false, ErrKeyUnrecognized},
		{"stray characters", "rk_live_" + body[:20] + " " + body[20:], "", false, ErrKeyUnrecognized},
		{"two keys pasted", "rk_live_" + body + "\nrk_live_" + body, "", false, ErrKeyUnrecognized},
		{"too long", "rk_live_" + strings.Repeat("a", 300), "", false, ErrKeyTooLong},
		{"megabyte", strings.Repeat("x", 1<<20), "", false, ErrKeyTooLong},
		{"unicode", "rk_live_" + body + "é", "", false, ErrKeyUnrecognized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseKey error = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), "rk_live_") && !strings.Contains(err.Error(), "rk_test_") {
					t.Errorf("error %q does not say what to paste instead", err)
				}
				if !k.IsZero() {
					t.Error("a refused key is not zero")
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if k.Kind() != tc.kind || k.live != tc.live {
				t.Fatalf("kind %s live %v, want %s %v", k.Kind(), k.live, tc.kind, tc.live)
			}
			if strings.ContainsAny(k.Reveal(), " \t\r\n\"'") {
				t.Fatalf("key not trimmed: %q", k.Reveal())
			}
		})
	}
}

func TestKeysNeverPrintThemselves(t *testing.T) {
	k, err := ParseKey("rk_live_" + body)
	if err != nil {
		t.Fatal(err)
	}
	want := "rk_live_…" + body[len(body)-4:]
	if k.Masked() != want {
		t.Fatalf("Masked = %q, want %q", k.Masked(), want)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v", struct{ K Key }{k})} {
		if strings.Contains(s, body[:12]) {
			t.Fatalf("formatted key leaks: %s", s)
		}
	}
}

func TestRedact(t *testing.T) {
	key := "sk_test_" + body
	in := "request with " + key + " failed; rk_live_" + body + " too"
	out := Redact(in)
	if strings.Contains(out, body[:12]) {
		t.Fatalf("Redact left a key: %s", out)
	}
	if !strings.Contains(out, "sk_test_…"+body[len(body)-4:]) {
		t.Fatalf("Redact lost the masked form: %s", out)
	}
	// A key glued to what comes before it is still a key.
	for _, glued := range []string{"x" + key, "7" + key, "%22" + key + "%22", `{"key":"` + key + `"}`, "sk%5Ftest%5F" + body, "K" + key} {
		if out := Redact(glued); strings.Contains(out, body[:12]) {
			t.Errorf("Redact(%q) left the key: %s", glued, out)
		}
	}
	if Redact("no keys here") != "no keys here" {
		t.Fatal("Redact changed text without keys")
	}
}

func TestCreateKeyURL(t *testing.T) {
	live := CreateKeyURL(ModeLive)
	test := CreateKeyURL(ModeTest)
	if !strings.HasPrefix(live, "https://dashboard.stripe.com/apikeys/create?") || !strings.HasPrefix(test, "https://dashboard.stripe.com/test/apikeys/create?") {
		t.Fatalf("links: %s %s", live, test)
	}
	for _, p := range Permissions {
		if asked := strings.Contains(live, "permissions[]="+p.Name); p.Name != "" && asked == p.Optional {
			t.Errorf("link asks for %s %v, optional %v: %s", p.Name, asked, p.Optional, live)
		}
	}
	// Cashbell only reads: the link never asks for a write.
	if strings.Contains(live, "_write") {
		t.Errorf("link asks for a write: %s", live)
	}
	// Where Stripe's refusal named a permission, the link asks for that.
	rep := Report{Mode: ModeLive, Results: []PermissionResult{{Permission: Permission{Name: PermBalanceTransactionRead}, Status: Missing, StripeName: "rak_balance_transaction_read"}}}
	if u := rep.CreateKeyURL(); !strings.Contains(u, "permissions[]=rak_balance_transaction_read") || strings.Contains(u, PermBalanceTransactionRead) {
		t.Errorf("link does not ask for what the refusal named: %s", u)
	}
	if !strings.Contains(live, "name=Cashbell") {
		t.Errorf("link lacks the name: %s", live)
	}
}

func TestParseAPIBase(t *testing.T) {
	ok := map[string]string{
		"":                        DefaultAPIBase,
		"https://api.example.com": "https://api.example.com",
		"http://127.0.0.1:12111/": "http://127.0.0.1:12111",
		"http://localhost:8080":   "http://localhost:8080",
		"http://[::1]:9000":       "http://[::1]:9000",
	}
	for in, want := range ok {
		got, err := ParseAPIBase(in)
		if err != nil || got != want {
			t.Errorf("ParseAPIBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://api.example.com", "http://10.0.0.1", "ftp://127.0.0.1", "127.0.0.1:80", "::::"} {
		if _, err := ParseAPIBase(bad); !errors.Is(err, ErrAPIBase) {
			t.Errorf("ParseAPIBase(%q) = %v, want ErrAPIBase", bad, err)
		}
	}
}
