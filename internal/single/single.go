// Package single keeps Cashbell to one instance per session: the running one
// owns a name on the session bus, and a second launch asks it, through that
// name, to bring its window forward. Where there is no session bus (Windows,
// macOS) the store's lock alone keeps a second Cashbell from running.
package single

import "errors"

// ErrTaken means another instance owns the name.
var ErrTaken = errors.New("another Cashbell owns the session name")
