package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/jsonenc"
)

// handleVersion is the version of the handle encoding written by this package.
const handleVersion = 1

// handleRef is the decoded form of a local executor.Handle. It holds what a
// restarted weir process needs to find, identify and stop the attempt's
// process group again.
type handleRef struct {
	// V is the encoding version (handleVersion).
	V int `json:"v"`
	// Attempt is the attempt id the process was started for.
	Attempt string `json:"attempt"`
	// PID is the process id of the attempt's leader process.
	PID int `json:"pid"`
	// PGID is the id of the process group the leader created for itself.
	PGID int `json:"pgid"`
	// Start is 0 in handles written by Start: the leader is then told
	// from a later process that reuses its pid by the attempt marker
	// (attemptEnv=<Attempt>) in its environment. Handles written by
	// earlier versions, and by Find, hold the leader's start time in
	// clock ticks after boot (field 22 of /proc/<pid>/stat), which
	// identifies it instead.
	Start uint64 `json:"start"`
	// Boot is the kernel boot id at start time, empty when unknown. A
	// different boot id means the host rebooted and the process is gone.
	Boot string `json:"boot,omitempty"`
	// Log is the attempt's combined stdout and stderr file.
	Log string `json:"log"`
}

// encode renders ref as the compact JSON handle, exactly as json.Marshal
// would, without its reflection: a handle is encoded for every attempt
// started.
func (r handleRef) encode() executor.Handle {
	b := make([]byte, 0, 96+len(r.Attempt)+len(r.Boot)+len(r.Log))
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.V), 10)
	b = append(b, `,"attempt":`...)
	b = jsonenc.AppendString(b, r.Attempt)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(r.PID), 10)
	b = append(b, `,"pgid":`...)
	b = strconv.AppendInt(b, int64(r.PGID), 10)
	b = append(b, `,"start":`...)
	b = strconv.AppendUint(b, r.Start, 10)
	if r.Boot != "" {
		b = append(b, `,"boot":`...)
		b = jsonenc.AppendString(b, r.Boot)
	}
	b = append(b, `,"log":`...)
	b = jsonenc.AppendString(b, r.Log)
	return executor.Handle(append(b, '}'))
}

// key identifies the process a handle refers to, independent of field order.
func (r handleRef) key() string {
	return fmt.Sprintf("%d/%d/%s", r.PID, r.Start, r.Attempt)
}

// errBadHandle is wrapped by every handle decoding error.
var errBadHandle = errors.New("invalid local executor handle")

// parseHandle decodes and validates h. Validation is strict because the
// process group id is used as a kill(2) target: 0 and 1 would address the
// caller's own group or every process.
func parseHandle(h executor.Handle) (handleRef, error) {
	var r handleRef
	s := strings.TrimSpace(string(h))
	if s == "" {
		return r, fmt.Errorf("%w: empty", errBadHandle)
	}
	// Unknown fields are ignored so that handles stay readable if fields
	// are added later; incompatible changes bump the version instead.
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%w: %w", errBadHandle, err)
	}
	if dec.More() {
		return r, fmt.Errorf("%w: trailing data", errBadHandle)
	}
	switch {
	case r.V != handleVersion:
		return r, fmt.Errorf("%w: unsupported version %d", errBadHandle, r.V)
	case r.Attempt == "":
		return r, fmt.Errorf("%w: missing attempt id", errBadHandle)
	case r.PID <= 1:
		return r, fmt.Errorf("%w: bad pid %d", errBadHandle, r.PID)
	case r.PGID <= 1:
		return r, fmt.Errorf("%w: bad process group %d", errBadHandle, r.PGID)
	case r.Log == "":
		return r, fmt.Errorf("%w: missing log path", errBadHandle)
	}
	return r, nil
}

var (
	bootOnce sync.Once
	bootVal  string
)

// bootID returns the kernel's boot id, or "" when it cannot be read.
func bootID() string {
	bootOnce.Do(func() {
		b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if err == nil {
			bootVal = strings.TrimSpace(string(b))
		}
	})
	return bootVal
}
