package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/spec"
)

const kfpAPI = "/apis/v2beta1"

// The KFP objects as far as the text output shows them.
type (
	apiPipeline struct {
		ID          string `json:"pipeline_id"`
		DisplayName string `json:"display_name"`
		Description string `json:"description"`
		CreatedAt   string `json:"created_at"`
	}
	apiVersion struct {
		ID          string `json:"pipeline_version_id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	}
	apiExperiment struct {
		ID          string `json:"experiment_id"`
		DisplayName string `json:"display_name"`
		Description string `json:"description"`
		CreatedAt   string `json:"created_at"`
		LastRunAt   string `json:"last_run_created_at"`
	}
	apiRun struct {
		ID          string `json:"run_id"`
		DisplayName string `json:"display_name"`
		State       string `json:"state"`
		CreatedAt   string `json:"created_at"`
		FinishedAt  string `json:"finished_at"`
	}
)

// when formats an API timestamp for people.
func when(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func newestFirst(limit int) url.Values {
	return url.Values{"page_size": {strconv.Itoa(limit)}, "sort_by": {"created_at desc"}}
}

func newPipelinesCmd(e *env) *cobra.Command {
	f := &clientFlags{}
	c := &cobra.Command{Use: "pipelines", Short: "Upload, list and show the pipelines of a weir server"}
	f.register(c.PersistentFlags())
	var output, name, description string
	var limit int
	upload := &cobra.Command{
		Use:   "upload FILE",
		Short: "Upload a compiled pipeline (KFP IR YAML) as a new pipeline",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := e.needClient(f)
			if err != nil {
				return err
			}
			return e.uploadPipeline(c.Context(), cl, args[0], name, description, output)
		},
	}
	upload.Flags().StringVar(&name, "name", "", "pipeline name (default: the name in the file)")
	upload.Flags().StringVar(&description, "description", "", "pipeline description")
	list := &cobra.Command{
		Use:   "list",
		Short: "List pipelines, newest first",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := e.needClient(f)
			if err != nil {
				return err
			}
			var out struct {
				Pipelines []apiPipeline `json:"pipelines"`
			}
			raw, err := cl.call(c.Context(), "GET", kfpAPI+"/pipelines", newestFirst(limit), nil, &out)
			if err != nil || output == "json" {
				return printed(e, raw, err)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PIPELINE\tNAME\tCREATED")
			for _, p := range out.Pipelines {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.DisplayName, when(p.CreatedAt))
			}
			return tw.Flush()
		},
	}
	list.Flags().IntVar(&limit, "limit", 50, "show at most this many pipelines")
	get := &cobra.Command{
		Use:   "get PIPELINE",
		Short: "Show a pipeline (by id or name) and its versions",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := e.needClient(f)
			if err != nil {
				return err
			}
			p, raw, err := cl.pipeline(c.Context(), args[0])
			if err != nil || output == "json" {
				return printed(e, raw, err)
			}
			var vs struct {
				Versions []apiVersion `json:"pipeline_versions"`
			}
			if _, err := cl.call(c.Context(), "GET", kfpAPI+"/pipelines/"+url.PathEscape(p.ID)+"/versions", newestFirst(100), nil, &vs); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pipeline %s (%s), created %s\n", p.ID, p.DisplayName, when(p.CreatedAt))
			if p.Description != "" {
				fmt.Fprintln(e.stdout, p.Description)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "\nVERSION\tNAME\tCREATED")
			for _, v := range vs.Versions {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", v.ID, v.DisplayName, when(v.CreatedAt))
			}
			return tw.Flush()
		},
	}
	for _, sub := range []*cobra.Command{upload, list, get} {
		sub.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (the API's JSON)")
		sub.PreRunE = func(*cobra.Command, []string) error { return checkOutput(output) }
	}
	c.AddCommand(upload, list, get)
	return c
}

// printed prints a response body as JSON, unless err.
func printed(e *env, raw []byte, err error) error {
	if err != nil {
		return err
	}
	return e.printJSON(raw)
}

// pipeline fetches a pipeline by id, or else by name.
func (c *client) pipeline(ctx context.Context, idOrName string) (*apiPipeline, []byte, error) {
	var p apiPipeline
	raw, err := c.call(ctx, "GET", kfpAPI+"/pipelines/"+url.PathEscape(idOrName), nil, nil, &p)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code == ExitFailed {
		if raw2, err2 := c.call(ctx, "GET", kfpAPI+"/pipelines/names/"+url.PathEscape(idOrName), nil, nil, &p); err2 == nil {
			return &p, raw2, nil
		}
	}
	return &p, raw, err
}

func (e *env) uploadPipeline(ctx context.Context, cl *client, file, name, description, output string) error {
	data, err := readSpecFile(file)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("uploadfile", filepath.Base(file))
	if err != nil {
		return err
	}
	fw.Write(data)
	mw.Close()
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if description != "" {
		q.Set("description", description)
	}
	resp, err := cl.request(ctx, "POST", kfpAPI+"/pipelines/upload", q, &body, mw.FormDataContentType())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if output == "json" {
		return e.printJSON(buf.Bytes())
	}
	var p apiPipeline
	if err := json.Unmarshal(buf.Bytes(), &p); err != nil {
		return fmt.Errorf("upload: unexpected response: %w", err)
	}
	fmt.Fprintf(e.stdout, "pipeline %s (%s) uploaded\n", p.ID, p.DisplayName)
	return nil
}

func readSpecFile(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, invalid(fmt.Errorf("%s: no such file", file))
	}
	if err != nil {
		return nil, invalid(fmt.Errorf("%s: %w", file, err))
	}
	return data, nil
}

func newExperimentsCmd(e *env) *cobra.Command {
	f := &clientFlags{}
	c := &cobra.Command{Use: "experiments", Short: "List and create the experiments of a weir server"}
	f.register(c.PersistentFlags())
	var output, description string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List experiments, newest first",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := e.needClient(f)
			if err != nil {
				return err
			}
			var out struct {
				Experiments []apiExperiment `json:"experiments"`
			}
			raw, err := cl.call(c.Context(), "GET", kfpAPI+"/experiments", newestFirst(limit), nil, &out)
			if err != nil || output == "json" {
				return printed(e, raw, err)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "EXPERIMENT\tNAME\tCREATED\tLAST RUN")
			for _, x := range out.Experiments {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.ID, x.DisplayName, when(x.CreatedAt), when(x.LastRunAt))
			}
			return tw.Flush()
		},
	}
	list.Flags().IntVar(&limit, "limit", 50, "show at most this many experiments")
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an experiment",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := e.needClient(f)
			if err != nil {
				return err
			}
			var x apiExperiment
			raw, err := cl.call(c.Context(), "POST", kfpAPI+"/experiments", nil,
				map[string]any{"display_name": args[0], "description": description}, &x)
			if err != nil || output == "json" {
				return printed(e, raw, err)
			}
			fmt.Fprintf(e.stdout, "experiment %s (%s) created\n", x.ID, x.DisplayName)
			return nil
		},
	}
	create.Flags().StringVar(&description, "description", "", "experiment description")
	for _, sub := range []*cobra.Command{list, create} {
		sub.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (the API's JSON)")
		sub.PreRunE = func(*cobra.Command, []string) error { return checkOutput(output) }
	}
	c.AddCommand(list, create)
	return c
}

// experimentID returns the id of the experiment with this name, creating
// it when there is none (as kfp.Client does).
func (c *client) experimentID(ctx context.Context, name string) (string, error) {
	filter, _ := json.Marshal(map[string]any{"predicates": []any{map[string]any{"operation": "EQUALS", "key": "display_name", "string_value": name}}})
	var out struct {
		Experiments []apiExperiment `json:"experiments"`
	}
	if _, err := c.call(ctx, "GET", kfpAPI+"/experiments", url.Values{"filter": {string(filter)}, "page_size": {"1"}}, nil, &out); err != nil {
		return "", err
	}
	if len(out.Experiments) > 0 {
		return out.Experiments[0].ID, nil
	}
	var x apiExperiment
	if _, err := c.call(ctx, "POST", kfpAPI+"/experiments", nil, map[string]any{"display_name": name}, &x); err != nil {
		return "", err
	}
	return x.ID, nil
}

type submitFlags struct {
	pipeline, version, experiment, name, output string
	params                                      []string
}

func newSubmitCmd(e *env, cf *clientFlags) *cobra.Command {
	f := &submitFlags{}
	c := &cobra.Command{
		Use:   "submit [FILE]",
		Short: "Submit a run to a weir server: of a pipeline file, or of an uploaded pipeline (--pipeline)",
		Long: `Submit a run to a weir server, of a compiled pipeline file or of an uploaded
pipeline (--pipeline ID or name; its latest version unless --version).
Parameters are parsed by their declared type, as with weir run. The command
returns once the run is stored; follow it with weir runs watch RUN.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 1) == (f.pipeline != "") {
				return usageError{fmt.Errorf("submit takes a pipeline FILE or --pipeline ID, not both (usage: %s)", c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			cl, err := e.needClient(cf)
			if err != nil {
				return err
			}
			return e.submit(c.Context(), cl, args, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.pipeline, "pipeline", "", "an uploaded pipeline, by id or name")
	fl.StringVar(&f.version, "version", "", "a version of --pipeline (default: its latest)")
	fl.StringArrayVarP(&f.params, "param", "p", nil, "pipeline parameter NAME=VALUE (repeatable)")
	fl.StringVar(&f.experiment, "experiment", "", "experiment name (created if it does not exist; default: the server's Default)")
	fl.StringVar(&f.name, "name", "", "run name (default: the pipeline name and the time)")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json (the API's JSON)")
	return c
}

func (e *env) submit(ctx context.Context, cl *client, args []string, f *submitFlags) error {
	params := map[string]any{}
	for _, kv := range f.params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return invalid(fmt.Errorf("-p %q: want NAME=VALUE", kv))
		}
		params[name] = value // the server parses it by its declared type
	}
	body := map[string]any{"display_name": f.name, "runtime_config": map[string]any{"parameters": params}}
	if len(args) == 1 {
		data, err := readSpecFile(args[0])
		if err != nil {
			return err
		}
		doc, err := spec.DocumentJSON(data)
		if err != nil {
			return invalid(fmt.Errorf("%s: %w", args[0], err))
		}
		body["pipeline_spec"] = json.RawMessage(doc)
	} else {
		p, _, err := cl.pipeline(ctx, f.pipeline)
		if err != nil {
			return err
		}
		body["pipeline_version_reference"] = map[string]any{"pipeline_id": p.ID, "pipeline_version_id": f.version}
	}
	if f.experiment != "" {
		id, err := cl.experimentID(ctx, f.experiment)
		if err != nil {
			return err
		}
		body["experiment_id"] = id
	}
	var r apiRun
	raw, err := cl.call(ctx, "POST", kfpAPI+"/runs", nil, body, &r)
	if err != nil || f.output == "json" {
		return printed(e, raw, err)
	}
	fmt.Fprintf(e.stdout, "run %s (%s) submitted\n", r.ID, r.DisplayName)
	return nil
}

func newTerminateCmd(e *env, cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "terminate RUN",
		Short: "Cancel a run on a weir server: running tasks are stopped, exit handlers still run",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := e.needClient(cf)
			if err != nil {
				return err
			}
			// Resolve a prefix to the run's id first: actions take ids.
			sum, _, err := cl.summary(c.Context(), args[0])
			if err != nil {
				return err
			}
			if _, err := cl.call(c.Context(), "POST", kfpAPI+"/runs/"+url.PathEscape(sum.RunID)+":terminate", nil, map[string]any{}, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "run %s: termination requested\n", sum.RunID)
			return nil
		},
	}
}

// summary fetches a run's summary (docs/cli.md) and its raw JSON.
func (c *client) summary(ctx context.Context, id string) (*report.Run, []byte, error) {
	var sum report.Run
	raw, err := c.call(ctx, "GET", "/apis/weir/v1/runs/"+url.PathEscape(id), nil, nil, &sum)
	if err != nil {
		return nil, nil, err
	}
	return &sum, raw, nil
}

func (e *env) remoteRunsList(ctx context.Context, cl *client, output string, limit int) error {
	var out struct {
		Runs []apiRun `json:"runs"`
	}
	raw, err := cl.call(ctx, "GET", kfpAPI+"/runs", newestFirst(limit), nil, &out)
	if err != nil || output == "json" {
		return printed(e, raw, err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tNAME\tSTATE\tCREATED\tDURATION")
	for _, r := range out.Runs {
		d := ""
		c, err1 := time.Parse(time.RFC3339Nano, r.CreatedAt)
		f, err2 := time.Parse(time.RFC3339Nano, r.FinishedAt)
		if err1 == nil && err2 == nil {
			d = report.FormatDuration(report.Millis(c, f))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.DisplayName, strings.ToLower(r.State), when(r.CreatedAt), d)
	}
	return tw.Flush()
}

func (e *env) remoteRunsGet(ctx context.Context, cl *client, id, output string) error {
	sum, raw, err := cl.summary(ctx, id)
	if err != nil || output == "json" {
		return printed(e, raw, err)
	}
	report.WriteDetails(e.stdout, sum)
	return nil
}
