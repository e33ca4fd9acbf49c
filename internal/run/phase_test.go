package run

import (
	"errors"
	"testing"
)

func TestTerminalPhasesNeverChange(t *testing.T) {
	for _, from := range Phases {
		if !from.Terminal() {
			continue
		}
		for _, to := range Phases {
			err := CheckTransition("run", "r1", from, to)
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Errorf("%s -> %s allowed, want TransitionError", from, to)
			}
		}
	}
}

func TestTransitionTable(t *testing.T) {
	cases := []struct {
		from, to Phase
		ok       bool
	}{
		{Pending, Running, true},
		{Pending, Skipped, true},
		{Pending, Cached, true},
		{Pending, Succeeded, true},
		{Skipped, Running, false},
		{Running, Succeeded, true},
		{Running, Failed, true},
		{Running, Canceled, true},
		{Running, Pending, false},
		{Running, Running, true},
		{Succeeded, Failed, false},
		{Failed, Running, false},
	}
	for _, c := range cases {
		err := CheckTransition("task run", "t", c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s -> %s: err=%v, want ok=%v", c.from, c.to, err, c.ok)
		}
	}
}

func TestParsePhase(t *testing.T) {
	for _, p := range Phases {
		got, err := ParsePhase(string(p))
		if err != nil || got != p {
			t.Errorf("ParsePhase(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := ParsePhase("bogus"); err == nil {
		t.Error("ParsePhase(bogus) succeeded")
	}
}

func TestCompactKeepsOneUpdatePerRecord(t *testing.T) {
	a, b, c := &TaskRun{ID: "a"}, &TaskRun{ID: "b"}, &TaskRun{ID: "c"}
	ch := &Changes{NewTaskRuns: []*TaskRun{c}, TaskRuns: []*TaskRun{a, b, a, c, b}}
	ch.Compact()
	if len(ch.TaskRuns) != 2 || ch.TaskRuns[0] != a || ch.TaskRuns[1] != b {
		t.Errorf("compacted updates = %v", ch.TaskRuns)
	}
}
