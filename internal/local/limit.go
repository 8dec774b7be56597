package local

import (
	"errors"
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
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// net/http backs off and accepts again on a temporary error
			// (EMFILE); go-winio's errors never say they are, so every
			// error but a closed listener is taken as one.
			return nil, temporary{err}
		}
		if l.admit != nil && l.admit(c) != nil {
			c.Close()
			<-l.slots
			continue
		}
		return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
	}
}

type temporary struct{ error }

func (temporary) Temporary() bool { return true }
func (temporary) Timeout() bool   { return false }
func (t temporary) Unwrap() error { return t.error }

type slotConn struct {
	net.Conn
	release func()
	once    sync.Once
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
