// Package testproc lets a test binary stand in for the cashbell command, so
// that tests can start it as a separate process, signal it and SIGKILL it.
package testproc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/cli"
)

const (
	envHelper = "CASHBELL_TEST_HELPER"
	envArgs   = "CASHBELL_TEST_ARGS"
	// EnvFileSizeLimit, when set for a child, caps the size of files it may
	// write (RLIMIT_FSIZE): a full disk, as far as that process can tell.
	EnvFileSizeLimit = "CASHBELL_TEST_FSIZE"
)

// MaybeRun runs the cashbell command and exits when this process was started
// by Command. Call it first in TestMain.
func MaybeRun() {
	if os.Getenv(envHelper) != "1" {
		return
	}
	if limit := os.Getenv(EnvFileSizeLimit); limit != "" {
		n, _ := strconv.ParseUint(limit, 10, 64)
		if err := limitFileSize(n); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(3)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Args: strings.Fields(os.Getenv(envArgs)), Stdin: os.Stdin,
		Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// Command returns a command that runs `cashbell args...` in this test binary,
// with env added to the environment. Arguments must not contain spaces.
func Command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// env overrides: a child reads the first of two equal names.
	override := map[string]bool{}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		override[name] = true
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !override[name] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, envHelper+"=1", envArgs+"="+strings.Join(args, " "))
	return cmd
}

// Buffer is a bytes.Buffer safe for a child's output and a test reading it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Within waits for ch and fails the test after d, saying what it waited
// for: no wait in a test may hang the suite.
func Within[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not happen within %s", what, d)
	}
	var zero T
	return zero
}

// Stop sends sig to a started command and waits up to d for it to end; past
// that it is killed and the test fails. It returns the command's exit error.
func Stop(t testing.TB, cmd *exec.Cmd, sig os.Signal, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	_ = cmd.Process.Signal(sig)
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s was still running %s after %s; killed", cmd.Path, d, sig)
	}
	return nil
}

// WaitFor waits until the output in b says what, or fails the test after d.
func WaitFor(t testing.TB, b *Buffer, what string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(b.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("%q was not said within %s:\n%s", what, d, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
