package engine

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// maxSpareDirs bounds the work directories a run keeps for reuse; past it,
// an ended attempt's directory simply stays where it is.
const maxSpareDirs = 16

// workDirs hands the empty work directories of a run's ended attempts to the
// attempts that start next. Every attempt gets a fresh, empty working
// directory (its current directory and TMPDIR), and creating one costs the
// filesystem an inode and a data block: on ext4 a mkdir took about as long
// as starting the step's process. Most steps leave their directory empty
// (their outputs go to artifact paths and their output goes to the log,
// which lives beside it), so such a directory is renamed to the next
// attempt's name instead, once it is checked to be empty: a rename is a
// fraction of a mkdir's cost. A directory a step left files in (executor
// output, output parameters, anything else) is never reused.
//
// It is safe for concurrent use: attempts start on several goroutines.
type workDirs struct {
	mu    sync.Mutex
	spare []string
}

// give offers dir, the work directory of an attempt whose processes have
// all ended, for reuse.
func (w *workDirs) give(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.spare) < maxSpareDirs {
		w.spare = append(w.spare, dir)
	}
}

// take makes dir, a new attempt's work directory, out of a spare one if an
// empty one is at hand, and reports whether it did. When it did not, the
// caller creates dir itself.
func (w *workDirs) take(dir string) bool {
	for {
		w.mu.Lock()
		n := len(w.spare)
		if n == 0 {
			w.mu.Unlock()
			return false
		}
		cand := w.spare[n-1]
		w.spare = w.spare[:n-1]
		w.mu.Unlock()
		if empty, err := emptyDir(cand); err != nil || !empty {
			continue // kept as it is, with what the step left there
		}
		if err := os.Rename(cand, dir); err == nil {
			return true
		}
	}
}

// emptyDir reports whether directory dir has no entries.
func emptyDir(dir string) (bool, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	var buf [1024]byte
	for {
		n, err := unix.ReadDirent(fd, buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", dir, err)
		}
		if n <= 0 {
			return true, nil
		}
		// ParseDirent leaves out "." and "..".
		if _, count, _ := unix.ParseDirent(buf[:n], 1, nil); count > 0 {
			return false, nil
		}
	}
}
