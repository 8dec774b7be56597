//go:build !windows

package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// Path is where the Cashbell of configDir listens: runtimeDir/cashbell when
// that folder is the user's alone (it is made so when missing), else the
// config folder, which must be.
func Path(configDir, runtimeDir string) (string, error) {
	file := name(configDir) + ".sock"
	if filepath.IsAbs(runtimeDir) {
		dir := filepath.Join(runtimeDir, "cashbell")
		_ = os.Mkdir(dir, 0o700)
		if ownFolder(dir) == nil {
			return filepath.Join(dir, file), nil
		}
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", err
	}
	if err := ownFolder(configDir); err != nil {
		return "", err
	}
	return filepath.Join(configDir, file), nil
}

// ownFolder checks that dir is a real folder of this user, and closes it
// to everyone else if it was open: Cashbell's folders are its own.
func ownFolder(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return fmt.Errorf("%s is not a folder (a symlink?)", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("the folder %s %w", dir, ErrNotYours)
	case info.Mode().Perm()&0o077 != 0:
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// Listen listens at path. A socket left by a Cashbell that was killed is
// replaced; one that still answers is not. Connections from other users
// are closed before anything is read, and at most maxConns are served at
// once.
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, dialTimeout); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrRunning)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return newLimitListener(l, checkPeer), nil
}

// Dial connects to path and checks that the listener is this user's.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if err := checkPeer(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkPeer checks that the process at the other end of c runs as this user.
func checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var uid int
	var cerr error
	if err := raw.Control(func(fd uintptr) { uid, cerr = peerUID(int(fd)) }); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("cannot tell who is at the other end of the socket: %w", cerr)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("the process at the other end of the socket (uid %d) %w", uid, ErrNotYours)
	}
	return nil
}

// Pair is two connected sockets: one end for the tray, one for a child.
func Pair() (tray net.Conn, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1]) // exec.Cmd's ExtraFiles hands the child its own copy
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fds[0]), "cashbell-tray")
	defer f.Close()
	tray, err = net.FileConn(f)
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	return tray, os.NewFile(uintptr(fds[1]), "cashbell-windows"), nil
}

// Inherited is the connection a parent handed this process as the first
// of its ExtraFiles (descriptor 3).
func Inherited() (net.Conn, error) {
	f := os.NewFile(3, "cashbell-tray")
	if f == nil {
		return nil, errors.New("no channel to the tray was handed over")
	}
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("no channel to the tray was handed over: %w", err)
	}
	if err := checkPeer(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
