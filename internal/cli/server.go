package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/server"
	"github.com/weir-dev/weir/internal/store"
)

type serverFlags struct {
	addr         string
	database     string
	pipelineRoot string
	maxRuns      int
	parallelism  int
	verbose      bool
	authToken    string
	tokenFile    string
	maxBody      int64
}

func newServerCmd(e *env) *cobra.Command {
	f := &serverFlags{}
	c := &cobra.Command{
		Use:   "server",
		Short: "Serve the KFP-compatible API and run submitted pipelines",
		Long: `Serve the KFP v2beta1 REST API (what kfp.Client talks to) and drive every
submitted run. State lives in WEIR_HOME (an embedded SQLite database), or
in PostgreSQL with --database postgres://...; runs that were going when the
server stopped resume when it starts again.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error { return e.server(c.Context(), f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8888", "address to listen on")
	fl.StringVar(&f.database, "database", "", "database: a SQLite file path or a postgres:// URL (default $WEIR_HOME/weir.db)")
	fl.StringVar(&f.pipelineRoot, "pipeline-root", "", "default artifact directory of runs (default $WEIR_HOME/artifacts)")
	fl.IntVar(&f.maxRuns, "max-concurrent-runs", 0, "runs driven at once (default: no limit)")
	fl.IntVar(&f.parallelism, "parallelism", 0, "attempts running at once per run (default: number of CPUs)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every request")
	fl.StringVar(&f.authToken, "auth-token", "", "require every request to carry \"Authorization: Bearer TOKEN\" (also WEIR_AUTH_TOKEN)")
	fl.StringVar(&f.tokenFile, "auth-token-file", "", "read the required bearer token from this file")
	fl.Int64Var(&f.maxBody, "max-body-bytes", 32<<20, "largest request body accepted (uploads included)")
	return c
}

func (e *env) server(ctx context.Context, f *serverFlags) error {
	home, err := e.home()
	if err != nil {
		return err
	}
	dbPath := f.database
	if dbPath == "" {
		dbPath = filepath.Join(home, "weir.db")
	}
	root, err := e.pipelineRoot(home, f.pipelineRoot)
	if err != nil {
		return invalid(err)
	}
	token := f.authToken
	if token == "" {
		token = e.getenv("WEIR_AUTH_TOKEN")
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return invalid(fmt.Errorf("--auth-token-file: %w", err))
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return invalid(fmt.Errorf("--auth-token-file %s is empty", f.tokenFile))
		}
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	st, err := store.Open(ctx, dbPath)
	if errors.Is(err, store.ErrUnsupportedDatabase) {
		return invalid(fmt.Errorf("--database: %w", err))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	// The engine reports every change to the server's event streams; the
	// server is created after the engine, before any run is driven.
	var srv *server.Server
	observe := func(ev engine.Event) { srv.Observe(ev) }
	cfg := engine.Config{Parallelism: f.parallelism, Logger: log, Observe: observe}
	if store.IsPostgresURL(dbPath) {
		// PostgreSQL is for deployments that outgrow one machine, where
		// WEIR_HOME may not outlive the server: every change goes to the
		// database at once rather than through a journal on local disk.
		cfg.FlushInterval = -1
	}
	eng := e.newEngine(st, home, cfg)
	svc := engine.NewService(eng, st, f.maxRuns, log)
	srv = server.New(st, svc, server.Config{PipelineRoot: root, Logger: log, ArtifactRoots: []string{home}, AuthToken: token, MaxBodyBytes: f.maxBody})

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return invalid(fmt.Errorf("--addr %s: %w", f.addr, err))
	}
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	svcDone := make(chan error, 1)
	go func() { svcDone <- svc.Run(sigCtx) }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(srv.CloseStreams)
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(ln) }()
	fmt.Fprintf(e.stdout, "weir server listening on http://%s (WEIR_HOME %s)\n", ln.Addr(), home)
	log.Info("server started", slog.String("addr", ln.Addr().String()), slog.String("database", store.Redact(dbPath)))

	select {
	case err = <-httpDone:
		stop()
	case <-sigCtx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	<-svcDone
	log.Info("server stopped; runs in progress resume at the next start")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
