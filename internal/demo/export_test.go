package demo

import "github.com/cashbell/cashbell/accounts"

// Connector talks to the demo's simulator.
func (d *Demo) Connector() *accounts.Connector { return d.conn }
