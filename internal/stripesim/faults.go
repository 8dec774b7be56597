package stripesim

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

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
	Status int           // for ServerError
	Delay  time.Duration // for Slow
	Size   int           // for Huge
}

// Inject queues a fault. Faults apply in the order they were injected.
func (s *Sim) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults removes queued faults and chaos.
func (s *Sim) ClearFaults() {
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
func (s *Sim) SetChaos(rate float64, seed uint64, delay time.Duration, kinds ...FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = &chaos{rate: rate, kinds: kinds, rng: rand.New(rand.NewPCG(seed, 1)), delay: delay}
}

func (s *Sim) nextFault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
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

// forceMore marks a request whose list answer must say has_more.
type forceMore struct{}

// applyFault answers the request with the next matching fault, if any, and
// reports whether it did so. A fault that only bends the answer returns the
// request to serve instead.
func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) (bool, *http.Request) {
	f := s.nextFault(r.URL.Path)
	if f == nil {
		return false, r
	}
	switch f.Kind {
	case RepeatPage:
		q := r.URL.Query()
		q.Del("starting_after")
		q.Del("ending_before")
		r = r.WithContext(context.WithValue(r.Context(), forceMore{}, true))
		r.URL.RawQuery = q.Encode()
		return false, r
	case RateLimit:
		w.Header().Set("Stripe-Should-Retry", "true")
		writeError(w, http.StatusTooManyRequests, rateLimitError)
	case ServerError:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Stripe-Should-Retry", "true")
		writeError(w, status, apiError{Type: "api_error", Message: "An unknown error occurred while processing this request."})
	case Slow:
		select {
		case <-time.After(f.Delay):
			return false, r
		case <-r.Context().Done():
		}
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true, r
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
				return true, r
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}
	return true, r
}
