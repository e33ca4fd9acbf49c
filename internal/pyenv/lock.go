package pyenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPollMin and lockPollMax bound the wait between two attempts to take
// a file lock held by someone else.
const (
	lockPollMin = 10 * time.Millisecond
	lockPollMax = 100 * time.Millisecond
)

// flockFile takes an exclusive flock(2) on path, creating the file if
// needed, and returns the function that releases it. It polls with a
// non-blocking flock rather than blocking in the kernel so that ctx can
// cancel the wait; onWait is called once if the lock is busy.
//
// flock locks belong to the open file description, so two descriptors of
// the same process exclude each other just like two processes do. The
// lock file is never removed: removing it would let a waiter lock an
// unlinked inode while a newcomer locks a fresh one.
func flockFile(ctx context.Context, path string, onWait func()) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	fd := int(f.Fd())
	delay := lockPollMin
	waited := false
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(fd, unix.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, lockPollMax)
	}
}

// keyLock returns a function releasing the in-process lock of key once it
// is taken, or ctx's error. It keeps goroutines of one Manager from all
// polling the same file lock: only one at a time goes on to flock.
func (m *Manager) keyLock(ctx context.Context, key string) (func(), error) {
	m.mu.Lock()
	sem, ok := m.keys[key]
	if !ok {
		sem = make(chan struct{}, 1)
		m.keys[key] = sem
	}
	m.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
