package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

func newRunsCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "runs", Short: "List and inspect runs stored in WEIR_HOME"}
	var output string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return e.runsList(c.Context(), output, limit)
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	list.Flags().IntVar(&limit, "limit", 50, "show at most this many runs")
	get := &cobra.Command{
		Use:   "get RUN",
		Short: "Show a run: its tasks, states, attempts, durations and outputs",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return e.runsGet(c.Context(), args[0], output)
		},
	}
	get.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	c.AddCommand(list, get)
	return c
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return invalid(fmt.Errorf("--output %q: want text or json", o))
	}
	return nil
}

func (e *env) runsList(ctx context.Context, output string, limit int) error {
	st, _, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.ListRuns(ctx, limit)
	if err != nil {
		return err
	}
	if output == "json" {
		type item struct {
			RunID      string    `json:"run_id"`
			Pipeline   string    `json:"pipeline"`
			Name       string    `json:"name"`
			State      run.Phase `json:"state"`
			CreatedAt  string    `json:"created_at"`
			DurationMS int64     `json:"duration_ms"`
		}
		items := []item{}
		for _, r := range runs {
			items = append(items, item{r.ID, r.PipelineName, r.DisplayName, r.Phase, r.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), millis(r.CreatedAt, r.FinishedAt)})
		}
		return writeJSON(e.stdout, items)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tPIPELINE\tSTATE\tCREATED\tDURATION")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.PipelineName, r.Phase, r.CreatedAt.Local().Format("2006-01-02 15:04:05"), formatDuration(millis(r.CreatedAt, r.FinishedAt)))
	}
	return tw.Flush()
}

func (e *env) runsGet(ctx context.Context, id, output string) error {
	st, _, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := st.Snapshot(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return invalid(fmt.Errorf("no run %s in this WEIR_HOME", id))
	}
	if err != nil {
		return err
	}
	sum := summarize(snap)
	if output == "json" {
		return writeJSON(e.stdout, sum)
	}
	report.WriteDetails(e.stdout, sum)
	return nil
}

func newLogsCmd(e *env) *cobra.Command {
	var attempt int
	c := &cobra.Command{
		Use:   "logs RUN TASK",
		Short: "Print a task's output (stdout and stderr) from its last attempt",
		Args:  exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return e.logs(c.Context(), args[0], args[1], attempt)
		},
	}
	c.Flags().IntVar(&attempt, "attempt", 0, "attempt number (default: the last)")
	return c
}

func (e *env) logs(ctx context.Context, runID, task string, number int) error {
	st, _, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := st.Snapshot(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return invalid(fmt.Errorf("no run %s in this WEIR_HOME", runID))
	}
	if err != nil {
		return err
	}
	var tr *run.TaskRun
	var names []string
	for _, t := range snap.TaskRuns {
		names = append(names, t.Path)
		if t.Path == task || (tr == nil && t.Name == task) {
			tr = t
		}
	}
	if tr == nil {
		return invalid(fmt.Errorf("run %s has no task %q (tasks: %v)", snap.Run.ID, task, names))
	}
	var chosen *run.Attempt
	for _, a := range snap.Attempts {
		if a.TaskRunID == tr.ID && (number == 0 || a.Number == number) {
			chosen = a
		}
	}
	if chosen == nil {
		if number != 0 {
			return invalid(fmt.Errorf("task %s has no attempt %d", tr.Path, number))
		}
		return invalid(fmt.Errorf("task %s has no logs: it never ran (%s)", tr.Path, tr.Phase))
	}
	f, err := os.Open(chosen.LogPath)
	if err != nil {
		return fmt.Errorf("logs of %s attempt %d: %w", tr.Path, chosen.Number, err)
	}
	defer f.Close()
	_, err = io.Copy(e.stdout, f)
	return err
}
