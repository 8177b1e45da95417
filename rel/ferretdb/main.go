// Command ferretdb is a test peer: FerretDB v1 (a MongoDB wire protocol server)
// embedded with its SQLite backend, so imperial's mongodb:// monitor can be
// tested against a real MongoDB-speaking server without installing MongoDB.
//
// It lives in its own Go module (rel/ferretdb/go.mod) so that FerretDB and its
// dependencies never enter imperial's go.mod. rel/scripts/build-ferretdb.sh
// builds it into bin/ferretdb; rel/peers/ferretdb.go starts it from tests.
// Nothing imports it.
//
// Usage: ferretdb -listen 127.0.0.1:PORT -dir DATA_DIR
// It runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "SQLite data directory (created if missing)")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()
	if *dir == "" {
		slog.Error("ferretdb: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		slog.Error("ferretdb: bad -dir", "err", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		slog.Error("ferretdb: cannot create -dir", "err", err)
		os.Exit(1)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		slog.Error("ferretdb: bad -log-level", "err", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		logger.Error("ferretdb: start", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("ferretdb: listening", "uri", f.MongoDBURI())
	if err := f.Run(ctx); err != nil {
		logger.Error("ferretdb: run", "err", err)
		os.Exit(1)
	}
}
