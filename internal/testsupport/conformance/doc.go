// Package conformance holds a test that records every request Cashbell sends
// while it adds accounts and polls them against the simulator, and replays
// each one against Stripe's official stripe-mock, which validates requests
// against Stripe's OpenAPI description. It has no code of its own.
package conformance
