// Package fakestripe serves the Stripe simulator (internal/stripesim) for
// tests: on a loopback httptest server, counting requests by endpoint, and
// with the faults a test switches on, one at a time or at random. None of
// this is linked into Cashbell itself.
package fakestripe

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
)

// Stripe is a simulator behind a test server.
type Stripe struct {
	*stripesim.Sim

	server   *httptest.Server
	mu       sync.Mutex
	faults   []*Fault
	chaos    *chaos
	requests atomic.Int64
	byPath   sync.Map // path -> *atomic.Int64
}

// New returns a simulator that is not yet listening; see Start and ServeHTTP.
func New(opts stripesim.Options) *Stripe {
	return &Stripe{Sim: stripesim.New(opts)}
}

// Start serves on a fresh loopback port and sets URL.
func (s *Stripe) Start() *Stripe {
	s.server = httptest.NewUnstartedServer(s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("fakestripe: listen on loopback: " + err.Error())
	}
	s.server.Listener = l
	s.server.Start()
	s.URL = s.server.URL
	return s
}

// Close stops the server started by Start.
func (s *Stripe) Close() {
	if s.server != nil {
		s.server.CloseClientConnections()
		s.server.Close()
	}
}

// Requests is the number of API requests served so far (file downloads excluded).
func (s *Stripe) Requests() int64 { return s.requests.Load() }

// RequestsTo is the number of API requests served for one path, such as "/v1/events".
func (s *Stripe) RequestsTo(path string) int64 {
	if c, ok := s.byPath.Load(path); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// ServeHTTP counts the request, applies the next fault, and lets the
// simulator answer the rest.
func (s *Stripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/links/") {
		s.requests.Add(1)
		c, _ := s.byPath.LoadOrStore(routeName(r.URL.Path), new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
		if s.applyFault(w, r) {
			return
		}
	}
	s.Sim.ServeHTTP(w, r)
}

// routeName folds object ids out of a path so that counts group by endpoint.
func routeName(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return strings.Join(parts, "/")
}

// FaultKind is a way for a request to go wrong.
type FaultKind int

// The faults a test can inject.
const (
	// RateLimit answers 429 rate_limit with Stripe-Should-Retry: true.
	RateLimit FaultKind = iota
	// ServerError answers Status (500, 502 or 503; 500 by default).
	ServerError
	// Slow waits Delay, then answers normally (or not at all if the client gives up).
	Slow
	// Drop closes the connection without an answer.
	Drop
	// BrokenJSON answers 200 with a body cut off in the middle.
	BrokenJSON
	// HTML answers 200 with an HTML page, like a captive portal or a wrong base URL.
	HTML
	// Huge answers 200 with a JSON body of Size bytes (50 MB by default).
	Huge
	// RepeatPage answers a list as if no cursor had been sent, and says it
	// has more: a server whose cursor does not move.
	RepeatPage
)

func (k FaultKind) String() string {
	return [...]string{"rate-limit", "server-error", "slow", "drop", "broken-json", "html", "huge", "repeat-page"}[k]
}

// Fault is one injected failure.
type Fault struct {
	Kind   FaultKind
	Path   string        // only requests whose path starts with Path; all when empty
	Times  int           // how many requests it hits; 1 when zero, forever when negative
	After  int           // how many matching requests it lets through first
	Status int           // for ServerError
	Delay  time.Duration // for Slow
	Size   int           // for Huge
}

// Inject queues a fault. Faults apply in the order they were injected.
func (s *Stripe) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults removes queued faults and chaos.
func (s *Stripe) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.chaos = nil
}

type chaos struct {
	rate  float64
	kinds []FaultKind
	rng   *rand.Rand
	delay time.Duration
}

// SetChaos makes a share rate (0..1) of requests fail with one of kinds,
// chosen by a generator seeded with seed. Slow faults wait delay.
func (s *Stripe) SetChaos(rate float64, seed uint64, delay time.Duration, kinds ...FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = &chaos{rate: rate, kinds: kinds, rng: rand.New(rand.NewPCG(seed, 1)), delay: delay}
}

func (s *Stripe) nextFault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		if f.After > 0 {
			f.After--
			return nil
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return &hit
	}
	if c := s.chaos; c != nil && len(c.kinds) > 0 && c.rng.Float64() < c.rate {
		return &Fault{Kind: c.kinds[c.rng.IntN(len(c.kinds))], Delay: c.delay, Status: []int{500, 502, 503}[c.rng.IntN(3)]}
	}
	return nil
}

// applyFault answers the request with the next matching fault, if any, and
// reports whether it did so.
func (s *Stripe) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.nextFault(r.URL.Path)
	if f == nil {
		return false
	}
	switch f.Kind {
	case RepeatPage:
		q := r.URL.Query()
		q.Del("starting_after")
		q.Del("ending_before")
		r.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		s.Sim.ServeHTTP(rec, r)
		var list map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return true
		}
		list["has_more"] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	case RateLimit:
		w.Header().Set("Stripe-Should-Retry", "true")
		stripesim.WriteError(w, http.StatusTooManyRequests, stripesim.RateLimitError)
	case ServerError:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Stripe-Should-Retry", "true")
		stripesim.WriteError(w, status, stripesim.APIError{Type: "api_error", Message: "An unknown error occurred while processing this request."})
	case Slow:
		select {
		case <-time.After(f.Delay):
			return false
		case <-r.Context().Done():
		}
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case BrokenJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object": "list", "url": "/v1/events", "has_more": false, "data": [{"id": "evt_1Brok`))
	case HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body><h1>Welcome</h1></body></html>"))
	case Huge:
		size := f.Size
		if size == 0 {
			size = 50 << 20
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object": "list", "has_more": false, "data": [], "padding": "`))
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for written := 0; written < size; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}
	return true
}
