package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// procStat is the part of /proc/<pid>/stat this package uses.
type procStat struct {
	// State is the one-letter process state (field 3), e.g. 'R', 'S', 'Z'.
	State byte
	// PGRP is the process group id (field 5).
	PGRP int
	// Start is the start time in clock ticks after boot (field 22).
	Start uint64
}

// readProcStat reads and parses /proc/<pid>/stat.
func readProcStat(pid int) (procStat, error) {
	var st procStat
	// The file is a few hundred bytes: one read into a buffer on the stack,
	// without the stat and growing buffer of os.ReadFile (this runs for
	// every attempt started).
	var buf [1024]byte
	n, err := readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		return st, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	b := buf[:n]
	// The command name (field 2) is parenthesised and may contain spaces
	// or parentheses, so parse from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, fmt.Errorf("parse stat of process %d: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3, so field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return st, fmt.Errorf("parse stat of process %d: too few fields", pid)
	}
	st.State = f[0][0]
	if st.PGRP, err = strconv.Atoi(f[2]); err != nil {
		return st, fmt.Errorf("parse stat of process %d: pgrp: %w", pid, err)
	}
	if st.Start, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return st, fmt.Errorf("parse stat of process %d: starttime: %w", pid, err)
	}
	return st, nil
}

// readSmall reads a file that fits in buf and returns its length.
func readSmall(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return n, nil
		}
		n += m
	}
	return 0, &os.PathError{Op: "read", Path: path, Err: errors.New("larger than expected")}
}

// hasMarker reports whether environ, the contents of /proc/<pid>/environ
// (entries each ending in a NUL byte), holds the entry attemptEnv=<id>
// exactly: not as the end of a longer entry, nor with id a prefix of the
// value.
func hasMarker(environ []byte, id string) bool {
	marker := []byte(attemptEnv + "=" + id + "\x00")
	if len(environ) > 0 && environ[len(environ)-1] != 0 {
		// A process that wrote over its environment area can leave
		// the last entry without its NUL.
		environ = append(environ, 0)
	}
	for i := 0; ; {
		j := bytes.Index(environ[i:], marker)
		if j < 0 {
			return false
		}
		if i+j == 0 || environ[i+j-1] == 0 {
			return true
		}
		i += j + 1
	}
}

// readEnviron reads the environment process pid started with. It is empty
// for a zombie, and unreadable for a process of another user or one that is
// not dumpable (for example after executing a setuid program).
func readEnviron(pid int) ([]byte, error) {
	return os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
}

// dead reports whether the state letter means the process has terminated
// (zombie or dead) even though its /proc entry still exists.
func (s procStat) dead() bool { return s.State == 'Z' || s.State == 'X' || s.State == 'x' }

// signalGroup sends sig to every process in group pgid. A group that no
// longer exists is not an error. It refuses ids that would address the
// caller's own group or all processes.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 || pgid == ownGroup() {
		return fmt.Errorf("refusing to signal process group %d", pgid)
	}
	err := syscall.Kill(-pgid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send %s to process group %d: %w", unix.SignalName(sig), pgid, err)
	}
	return nil
}

// ownGroup returns weir's own process group id, asked once: weir never
// changes its group, and every attempt that ends signals its group.
var ownGroup = sync.OnceValue(syscall.Getpgrp)

// openPidfd returns a non-blocking pidfd for pid registered with the Go
// runtime's poller, or an error when the kernel (or a sandbox) does not
// support it.
func openPidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid)), nil
}

// waitPidfd blocks until the process behind pidfd f has terminated. It parks
// the goroutine in the runtime poller instead of holding an OS thread. It
// does not reap the process.
func waitPidfd(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("wait on %s: %w", f.Name(), err)
	}
	var pollErr error
	err = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			_, perr := unix.Poll(fds, 0)
			if errors.Is(perr, unix.EINTR) {
				continue
			}
			if perr != nil {
				pollErr = perr
				return true
			}
			return fds[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	if err == nil {
		err = pollErr
	}
	if err != nil {
		return fmt.Errorf("wait on %s: %w", f.Name(), err)
	}
	return nil
}

// waitChildExit blocks until child pid has terminated, leaving it unreaped so
// that its pid, and with it the process group id, cannot be reused yet. It
// holds no OS thread while it waits, unless the kernel lacks pidfds.
func waitChildExit(pid int) error {
	if f, err := openPidfd(pid); err == nil {
		werr := waitPidfd(f)
		_ = f.Close()
		if werr == nil {
			return nil
		}
	}
	return waitidNoReap(pid)
}

// waitidNoReap blocks in waitid until child pid has terminated, leaving it
// unreaped. It holds an OS thread while it waits, and returns as soon as the
// kernel wakes that thread. It is also the fallback of waitChildExit for
// kernels without pidfd support.
func waitidNoReap(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("waitid %d: %w", pid, err)
		}
		return nil
	}
}
