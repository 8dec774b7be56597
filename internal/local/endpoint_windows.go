package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// Path is the named pipe of the Cashbell of configDir (Windows has no
// AF_UNIX under Wine, and pipes are what Docker and containerd use).
func Path(configDir, _ string) (string, error) { return `\\.\pipe\cashbell-` + name(configDir), nil }

// Listen serves the pipe at path to the current user only: its security
// descriptor grants access to that user's SID and to nobody else. A pipe
// that another Cashbell still serves is not taken over.
func Listen(path string) (net.Listener, error) {
	sid, err := userSID(windows.GetCurrentProcessToken())
	if err != nil {
		return nil, err
	}
	l, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: "D:P(A;;GA;;;" + sid.String() + ")",
		InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		if c, derr := Dial(context.Background(), path); derr == nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", path, ErrRunning)
		}
		return nil, err
	}
	// Under Wine 8 a client of the pipe's first instance (the one made with
	// FILE_FLAG_FIRST_PIPE_INSTANCE) cannot end its process afterwards; a
	// connection of our own takes that instance, so that commands get the
	// next ones.
	go func() {
		if c, err := winio.DialPipe(path, nil); err == nil {
			c.Close()
		}
	}()
	return newLimitListener(l, nil), nil
}

// Dial connects to the pipe at path and checks that the process serving it
// runs as the current user.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := checkServer(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func checkServer(c net.Conn) error {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return errors.New("cannot tell who serves the pipe")
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(windows.Handle(f.Fd()), &pid); err != nil {
		return fmt.Errorf("cannot tell who serves the pipe: %w", err)
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return fmt.Errorf("cannot tell who serves the pipe: %w", err)
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("cannot tell who serves the pipe: %w", err)
	}
	defer tok.Close()
	theirs, err := userSID(tok)
	if err != nil {
		return err
	}
	ours, err := userSID(windows.GetCurrentProcessToken())
	if err != nil {
		return err
	}
	if !theirs.Equals(ours) {
		return fmt.Errorf("the process serving the pipe %w", ErrNotYours)
	}
	return nil
}

func userSID(t windows.Token) (*windows.SID, error) {
	u, err := t.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("reading the user of a process: %w", err)
	}
	return u.User.Sid, nil
}

// Pair is not made on Windows: the UI process dials the pipe, which
// only this user can open, instead of inheriting a connection.
func Pair() (net.Conn, *os.File, error) {
	return nil, nil, errors.ErrUnsupported
}

// Inherited is never handed over on Windows.
func Inherited() (net.Conn, error) { return nil, errors.ErrUnsupported }
