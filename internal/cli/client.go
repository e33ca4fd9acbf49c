package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The CLI as a client of `weir server`: with --server (or WEIR_SERVER) the
// commands below talk to the server's REST API instead of WEIR_HOME.

// clientFlags are the flags of every command that can talk to a server.
type clientFlags struct {
	server string
	token  string
}

func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", "", "URL of a weir server, e.g. http://127.0.0.1:8888 (default $WEIR_SERVER)")
	fs.StringVar(&f.token, "token", "", "bearer token to send to the server (default $WEIR_TOKEN)")
}

// client talks to a weir server.
type client struct {
	base  string // the server URL, without a trailing slash
	token string
	http  *http.Client
}

// client returns the server client the flags or the environment ask for,
// or nil when neither names a server.
func (e *env) client(f *clientFlags) (*client, error) {
	base := f.server
	if base == "" {
		base = e.getenv("WEIR_SERVER")
	}
	if base == "" {
		return nil, nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid(fmt.Errorf("--server %q: want a URL such as http://127.0.0.1:8888", base))
	}
	token := f.token
	if token == "" {
		token = e.getenv("WEIR_TOKEN")
	}
	return &client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}, nil
}

// needClient is client for commands that only exist against a server.
func (e *env) needClient(f *clientFlags) (*client, error) {
	c, err := e.client(f)
	if err == nil && c == nil {
		err = invalid(errors.New("this command talks to a weir server: pass --server URL or set WEIR_SERVER"))
	}
	return c, err
}

// apiStatus is the google.rpc.Status body of a server error.
type apiStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// request sends a request; a response with an error status becomes an
// error carrying the server's message, with exit code 2 for a bad request
// and 1 otherwise.
func (c *client) request(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, below
		}
		return nil, fmt.Errorf("server %s: %w", c.base, err)
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st apiStatus
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &st) == nil && st.Message != "" {
		msg = st.Message
	}
	if msg == "" {
		msg = resp.Status
	}
	code := ExitFailed
	if resp.StatusCode == http.StatusBadRequest {
		code = ExitInvalid
	}
	return nil, &ExitError{Code: code, Err: errors.New(msg)}
}

// call sends in (if not nil) as JSON and returns the response body; when
// out is not nil the body is decoded into it.
func (c *client) call(ctx context.Context, method, path string, q url.Values, in, out any) ([]byte, error) {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := c.request(ctx, method, path, q, body, ct)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", c.base, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("server %s: %s %s: unexpected response: %w", c.base, method, path, err)
		}
	}
	return raw, nil
}

// printJSON prints a response body as `-o json` does everywhere: indented
// by two spaces, as the local commands print theirs.
func (e *env) printJSON(raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := e.stdout.Write(buf.Bytes())
	return err
}

// escapePath escapes each segment of a slash-separated path (a task path).
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// addClientCmds adds the server-only commands (pipelines, experiments,
// runs submit/terminate/watch) and teaches `runs list/get/logs` and `logs`
// to go to a server when one is named.
func addClientCmds(e *env, root *cobra.Command) {
	root.AddCommand(newPipelinesCmd(e), newExperimentsCmd(e))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "runs":
			extendRunsCmd(e, c)
		case "logs":
			f := &clientFlags{}
			f.register(c.Flags())
			withLogsFromServer(e, c, f)
		}
	}
}

// extendRunsCmd adds the server flags and subcommands to `weir runs`, and
// sends list and get to the server when one is named.
func extendRunsCmd(e *env, runs *cobra.Command) {
	f := &clientFlags{}
	f.register(runs.PersistentFlags())
	runs.Short = "List, inspect, submit and follow runs (of WEIR_HOME, or of a server with --server)"
	for _, c := range runs.Commands() {
		local := c.RunE
		switch c.Name() {
		case "list":
			c.RunE = func(c *cobra.Command, args []string) error {
				cl, err := e.client(f)
				if cl == nil || err != nil {
					return orLocal(err, local, c, args)
				}
				output, _ := c.Flags().GetString("output")
				limit, _ := c.Flags().GetInt("limit")
				if err := checkOutput(output); err != nil {
					return err
				}
				return e.remoteRunsList(c.Context(), cl, output, limit)
			}
		case "get":
			c.RunE = func(c *cobra.Command, args []string) error {
				cl, err := e.client(f)
				if cl == nil || err != nil {
					return orLocal(err, local, c, args)
				}
				output, _ := c.Flags().GetString("output")
				if err := checkOutput(output); err != nil {
					return err
				}
				return e.remoteRunsGet(c.Context(), cl, args[0], output)
			}
		}
	}
	logs := newLogsCmd(e)
	logs.Short = "Print a task's output (stdout and stderr); with --follow, as it is written"
	withLogsFromServer(e, logs, f)
	runs.AddCommand(newSubmitCmd(e, f), newTerminateCmd(e, f), newWatchCmd(e, f), newRetryCmd(e, f), logs)
}

func orLocal(err error, local func(*cobra.Command, []string) error, c *cobra.Command, args []string) error {
	if err != nil {
		return err
	}
	return local(c, args)
}

// withLogsFromServer sends a logs command to the server when one is named,
// and adds --follow (which needs one).
func withLogsFromServer(e *env, c *cobra.Command, f *clientFlags) {
	var follow bool
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing the output as it is written, until the attempt ends (needs --server)")
	local := c.RunE
	c.RunE = func(c *cobra.Command, args []string) error {
		cl, err := e.client(f)
		if err != nil {
			return err
		}
		if cl == nil {
			if follow {
				return invalid(errors.New("--follow streams logs from a weir server: pass --server URL or set WEIR_SERVER"))
			}
			return local(c, args)
		}
		attempt, _ := c.Flags().GetInt("attempt")
		return e.remoteLogs(c.Context(), cl, args[0], args[1], attempt, follow)
	}
}
