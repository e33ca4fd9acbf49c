package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// pathTTL is how long a resolved executable path is reused without looking
// it up again. Looking a name up costs a stat per PATH entry before the one
// that holds it; a loop of thousands of short steps would pay that for every
// step.
const pathTTL = 2 * time.Second

// pathCache resolves command names to executables through PATH and
// remembers successful lookups for pathTTL.
type pathCache struct {
	mu      sync.Mutex
	entries map[pathKey]pathEntry
	now     func() time.Time
}

type pathKey struct{ name, path string }

type pathEntry struct {
	exe string
	at  time.Time
}

func newPathCache() *pathCache {
	return &pathCache{entries: make(map[pathKey]pathEntry), now: time.Now}
}

// resolve finds the executable for name. A name with a slash is used as is
// (relative to the working directory). Otherwise name is looked up in the
// absolute entries of the PATH that env sets, or of the weir process's own
// PATH when env sets none. A name that is found nowhere is an *exec.Error
// wrapping exec.ErrNotFound.
func (c *pathCache) resolve(name string, env []string) (string, error) {
	if strings.ContainsRune(name, '/') {
		return name, nil
	}
	path, ok := "", false
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "PATH="); found {
			path, ok = v, true
		}
	}
	if !ok {
		path = os.Getenv("PATH")
	}
	k := pathKey{name, path}
	now := c.now()
	c.mu.Lock()
	e, hit := c.entries[k]
	c.mu.Unlock()
	if hit && now.Sub(e.at) < pathTTL {
		return e.exe, nil
	}
	exe, err := lookPath(name, path)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.entries) > 1024 {
		clear(c.entries)
	}
	c.entries[k] = pathEntry{exe: exe, at: now}
	c.mu.Unlock()
	return exe, nil
}

// lookPath finds name in the absolute directories of path: the first regular
// file with an execute bit wins. Relative entries are ignored, so that what
// runs never depends on the working directory.
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}
