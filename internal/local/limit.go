package local

import (
	"net"
	"sync"
)

// limitListener serves at most maxConns connections at once: past that,
// callers wait in the backlog, as with x/net's netutil.LimitListener, until
// a connection ends (an idle one ends after headerTimeout). A connection
// that admit refuses is closed before anything is read from it.
type limitListener struct {
	net.Listener
	admit func(net.Conn) error
	slots chan struct{}
}

func newLimitListener(l net.Listener, admit func(net.Conn) error) *limitListener {
	return &limitListener{Listener: l, admit: admit, slots: make(chan struct{}, maxConns)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		l.slots <- struct{}{}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err // net/http backs off on temporary errors (EMFILE)
		}
		if l.admit != nil && l.admit(c) != nil {
			c.Close()
			<-l.slots
			continue
		}
		return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
	}
}

type slotConn struct {
	net.Conn
	release func()
	once    sync.Once
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
