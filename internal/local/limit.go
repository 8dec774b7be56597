package local

import (
	"net"
	"sync/atomic"
)

// limitListener serves at most maxConns connections at once, and drops a
// connection that admit refuses before anything is read from it.
type limitListener struct {
	net.Listener
	admit func(net.Conn) error
	open  atomic.Int32
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err // net/http backs off on temporary errors
		}
		if l.admit != nil && l.admit(c) != nil || l.open.Load() >= maxConns {
			c.Close()
			continue
		}
		l.open.Add(1)
		return &countedConn{Conn: c, open: &l.open}, nil
	}
}

type countedConn struct {
	net.Conn
	open   *atomic.Int32
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}
