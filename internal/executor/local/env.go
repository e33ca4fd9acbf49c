package local

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
)

// errEnvNUL is the error os/exec returns for an environment entry that
// contains a NUL byte; Start keeps returning it for such a Spec.Env entry.
var errEnvNUL = errors.New("exec: environment variable contains NUL")

// envBase is the weir process's environment prepared for building child
// environments: deduplicated once instead of for every start.
type envBase struct {
	// raw is the os.Environ() result list was computed from.
	raw []string
	// list is raw deduplicated as os/exec does (the last entry of a key
	// wins and keeps its position; entries without "=" stay; empty ones
	// go).
	list []string
	// index maps each key in list to its position.
	index map[string]int
	// err is errEnvNUL if raw holds a NUL byte (which the runtime does
	// not allow in practice).
	err error
}

// envCache holds the envBase of the current os.Environ().
type envCache struct {
	cur atomic.Pointer[envBase]
}

// base returns the envBase for the current environment of the weir process.
// The environment is read on every call, as os/exec does, so that os.Setenv
// calls are seen; it is only deduplicated again when it has changed.
// Comparing with the previous copy is cheap: unchanged entries share their
// bytes, and string comparison stops at identical pointers.
func (c *envCache) base() *envBase {
	raw := os.Environ()
	if b := c.cur.Load(); b != nil && slices.Equal(b.raw, raw) {
		return b
	}
	b := &envBase{raw: raw, index: make(map[string]int, len(raw))}
	keep := make([]bool, len(raw))
	seen := make(map[string]bool, len(raw))
	for i := len(raw) - 1; i >= 0; i-- {
		kv := raw[i]
		if strings.IndexByte(kv, 0) >= 0 {
			b.err = errEnvNUL
			continue
		}
		k, ok := envKey(kv)
		if !ok {
			keep[i] = kv != ""
			continue
		}
		if !seen[k] {
			seen[k] = true
			keep[i] = true
		}
	}
	b.list = make([]string, 0, len(raw))
	for i, kv := range raw {
		if keep[i] {
			if k, ok := envKey(kv); ok {
				b.index[k] = len(b.list)
			}
			b.list = append(b.list, kv)
		}
	}
	c.cur.Store(b)
	return b
}

// envKey returns the key of an environment entry the way os/exec's
// deduplication sees it: the text before the first "=", except that a
// leading "=" belongs to the key. ok is false for an entry without "=".
func envKey(kv string) (key string, ok bool) {
	i := strings.IndexByte(kv, '=')
	if i == 0 {
		i = strings.IndexByte(kv[1:], '=') + 1
	}
	if i < 0 {
		return "", false
	}
	return kv[:i], true
}

// childEnv returns the environment of an attempt's process: the weir
// process's environment, then extra, then marker (attemptEnv=<attempt id>),
// with later entries replacing earlier ones of the same key. The result is
// exactly what exec.Cmd.Start passes for Env = os.Environ() + extra +
// marker: os/exec deduplicates that list keeping the last entry of each key
// in its position, which puts every inherited entry that is not overridden
// first, in order, followed by the surviving entries of extra and marker.
// (That a variable appears only once matters: getenv(3) in the C library
// returns the first entry of a name, while most shells take the last.)
//
// Only the keys of extra and marker need looking up in the inherited
// environment, which is deduplicated and indexed once per change of the
// weir process's environment instead of for every start.
func (c *envCache) childEnv(extra []string, marker string) ([]string, error) {
	if strings.IndexByte(marker, 0) >= 0 {
		return nil, errEnvNUL
	}
	for _, kv := range extra {
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, errEnvNUL
		}
	}
	b := c.base()
	if b.err != nil {
		return nil, b.err
	}
	markerKey, _ := envKey(marker)

	// Entries of the inherited environment replaced by extra or marker. An
	// attempt's Spec.Env is short, so a linear scan beats a map.
	var dropBuf [8]int
	drop := dropBuf[:0]
	if i, ok := b.index[markerKey]; ok {
		drop = append(drop, i)
	}
	for _, kv := range extra {
		if k, ok := envKey(kv); ok {
			if i, ok := b.index[k]; ok && !slices.Contains(drop, i) {
				drop = append(drop, i)
			}
		}
	}

	env := make([]string, 0, len(b.list)-len(drop)+len(extra)+1)
	if len(drop) == 0 {
		env = append(env, b.list...)
	} else {
		for i, kv := range b.list {
			if !slices.Contains(drop, i) {
				env = append(env, kv)
			}
		}
	}
	// An entry of extra survives unless a later one (or marker) has the
	// same key.
	for i, kv := range extra {
		k, ok := envKey(kv)
		switch {
		case !ok:
			if kv != "" {
				env = append(env, kv)
			}
		case k != markerKey && !laterKey(extra[i+1:], k):
			env = append(env, kv)
		}
	}
	return append(env, marker), nil
}

// laterKey reports whether an entry of env has key k.
func laterKey(env []string, k string) bool {
	for _, kv := range env {
		if k2, ok := envKey(kv); ok && k2 == k {
			return true
		}
	}
	return false
}
