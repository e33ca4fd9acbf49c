package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

// newRetryCmd is `weir runs retry RUN`: resume a failed or canceled run
// from the tasks that did not succeed, here (WEIR_HOME) or on a server.
func newRetryCmd(e *env, f *clientFlags) *cobra.Command {
	var output string
	var verbose bool
	c := &cobra.Command{
		Use:   "retry RUN",
		Short: "Resume a failed or canceled run from its failed tasks, keeping what succeeded",
		Long: `Resume a failed or canceled run: tasks that succeeded keep their outputs and do
not run again; failed and canceled tasks (and what they blocked) run again as
new attempts; every old attempt is kept. Without --server the run is one of
WEIR_HOME and is driven here until it ends (exit 0 if it then succeeds).`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cl, err := e.client(f)
			if err != nil {
				return err
			}
			if cl != nil {
				sum, _, err := cl.summary(c.Context(), args[0])
				if err != nil {
					return err
				}
				if _, err := cl.call(c.Context(), "POST", kfpAPI+"/runs/"+url.PathEscape(sum.RunID)+":retry", nil, map[string]any{}, nil); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "run %s: retrying\n", sum.RunID)
				return nil
			}
			return e.retryLocal(c.Context(), args[0], output, verbose)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "stream every task's output, prefixed with the task name")
	return c
}

func (e *env) retryLocal(ctx context.Context, id, output string, verbose bool) error {
	st, home, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.GetRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return invalid(fmt.Errorf("no run %s in this WEIR_HOME", id))
	}
	if err != nil {
		return err
	}
	if err := engine.Retry(ctx, st, r.ID); err != nil {
		if errors.Is(err, run.ErrConflict) {
			return invalid(err)
		}
		return err
	}
	e.tuneRuntime()
	view := newView(e, output == "text", verbose)
	log := e.logger(verbose)
	eng := e.newEngine(st, home, engine.Config{Logger: log, Observe: view.observer()})
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	view.start(r)
	snap, err := eng.ExecuteSnapshot(sigCtx, r.ID)
	view.stop()
	if err != nil {
		return err
	}
	return e.finish(snap, output)
}
