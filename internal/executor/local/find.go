package local

import (
	"context"
	"os"
	"strconv"

	"github.com/weir-dev/weir/internal/executor"
)

// attemptEnv names the environment variable that marks every process of an
// attempt with its id, so that an attempt whose handle was never recorded
// (weir died between starting it and storing the handle) can still be found.
const attemptEnv = "WEIR_ATTEMPT_ID"

// Find looks for the process group of an attempt that has no stored
// handle, by the attempt id in its environment. It returns the handle of
// the group leader (or of any process still in the group), or false when no
// process of the attempt is alive.
func (e *Executor) Find(_ context.Context, attemptID string) (executor.Handle, bool, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return "", false, err
	}
	var best *handleRef
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		env, err := readEnviron(pid)
		if err != nil || !hasMarker(env, attemptID) {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.State == 'Z' || st.PGRP <= 1 {
			continue
		}
		// Its standard output is the attempt's log.
		logPath, _ := os.Readlink("/proc/" + ent.Name() + "/fd/1")
		if logPath == "" {
			logPath = os.DevNull
		}
		ref := handleRef{V: handleVersion, Attempt: attemptID, PID: pid, PGID: st.PGRP, Start: st.Start, Boot: bootID(), Log: logPath}
		if best == nil || pid == st.PGRP {
			best = &ref
		}
		if pid == st.PGRP {
			break
		}
	}
	if best == nil {
		return "", false, nil
	}
	return best.encode(), true, nil
}
