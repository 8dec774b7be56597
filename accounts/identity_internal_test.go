package accounts

import (
	"net/url"
	"testing"
)

func TestLogoHostRule(t *testing.T) {
	stripe, err := NewConnector("")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewConnector("http://127.0.0.1:12111")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		conn *Connector
		url  string
		ok   bool
	}{
		{stripe, "https://files.stripe.com/links/MDB8YWNjdF8x", true},
		{stripe, "https://files.stripe.com:443/v1/files/file_1/contents", true},
		{stripe, "http://files.stripe.com/links/x", false},
		{stripe, "https://files.stripe.com:8443/links/x", false},
		{stripe, "https://files.stripe.com.evil.example/links/x", false},
		{stripe, "https://evil.example/files.stripe.com", false},
		{stripe, "http://127.0.0.1:8080/links/x", false},
		{stripe, "http://10.0.0.1/links/x", false},
		{sim, "http://127.0.0.1:12111/links/x", true},
		{sim, "http://[::1]:9/links/x", true},
		{sim, "http://10.0.0.1/links/x", false},
		{sim, "https://files.stripe.com/links/x", true},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := fileURLAllowed(tc.conn, u); got != tc.ok {
			t.Errorf("fileURLAllowed(%s, %s) = %v, want %v", tc.conn.base, tc.url, got, tc.ok)
		}
	}
}
