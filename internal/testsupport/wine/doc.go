// Package wine runs Cashbell's real Windows binaries under Wine 8, against
// the Stripe simulator on 127.0.0.1, as a Windows user would: `make
// test-windows` builds them, makes a throw-away prefix with the ProcessPrng
// shim (scripts/wine) and runs these tests.
package wine
