package engine

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
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
		if ok, err := reusableDir(cand); err != nil || !ok {
			continue // kept as it is, with what the step left there
		}
		if err := os.Rename(cand, dir); err == nil {
			return true
		}
	}
}

// workDirMode is the mode work directories are created with (launch
// creates them with 0755, less the umask), or 0 when the umask cannot be
// read, in which case no directory is reused.
var workDirMode = sync.OnceValue(func() uint32 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0
			}
			return 0o755 &^ uint32(mask)
		}
	}
	return 0
})

// reusableDir reports whether directory dir is as a new work directory
// would be: empty, owned by this process's user and with the mode it was
// created with (a step may have changed its permissions on the way out).
func reusableDir(dir string) (bool, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("stat %s: %w", dir, err)
	}
	if mode := workDirMode(); mode == 0 || uint32(st.Mode)&0o7777 != mode || int(st.Uid) != os.Geteuid() {
		return false, nil
	}
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
