// Package soak holds `make soak`: a bounded run of the headless app against
// the simulator with ten accounts, a stream of events, random faults and
// repeated SIGKILLs, which then checks that nothing was lost or shown twice.
// It has no code of its own.
package soak
