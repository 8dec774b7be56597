//go:build linux || freebsd || netbsd || openbsd

package single

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	busName   = "io.cashbell.app"
	objPath   = "/io/cashbell/app"
	iface     = "io.cashbell.app.Instance"
	callLimit = 2 * time.Second
)

type instance struct{ show func() }

func (i instance) Show() *dbus.Error {
	i.show()
	return nil
}

// Serve owns the session name and calls show when a second launch asks. It
// uses a private connection: godbus caches the shared one for the process.
// The returned function releases the name.
func Serve(show func()) (func(), error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return func() {}, err
	}
	if err := conn.Export(instance{show}, objPath, iface); err != nil {
		conn.Close()
		return func() {}, err
	}
	reply, err := conn.RequestName(busName, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		return func() {}, err
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return func() {}, ErrTaken
	}
	return func() { conn.Close() }, nil
}

// Activate asks a running instance to show its window, and reports whether one did.
func Activate(ctx context.Context) bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, callLimit)
	defer cancel()
	call := conn.Object(busName, objPath).CallWithContext(ctx, iface+".Show", 0)
	return call.Err == nil
}
