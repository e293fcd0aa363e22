// Command jcsgw runs the JointCloud Storage gateway (JCS /v1 and S3 on one
// listener) and offers a small signing client for its /v1 API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"jcsgw/gateway/telemetry"
)

const usage = `jcsgw — one store, two dialects: the JCS /v1 API and S3.

Usage:
  jcsgw serve  [flags]                      start the gateway
  jcsgw call   [flags] METHOD PATH [BODY]   send a signed /v1 request (BODY: JSON text or @file)
  jcsgw upload [flags] PACKAGE_ID FILE [PATH]   upload FILE as PATH (default: its base name)
  jcsgw download [flags] OBJECT_ID          write an object's bytes to stdout
  jcsgw fsck [--repair] [--rehash] [flags]  check the catalog against the stores (server stopped)
  jcsgw gc [--age 24h] [flags]              abort old uploads, remove orphans (server stopped)
  jcsgw user add|list|remove|key add|key remove ...   users and access keys (server stopped)

Run "jcsgw COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "call":
		err = call(ctx, args, os.Stdout)
	case "upload":
		err = upload(ctx, args, os.Stdout)
	case "download":
		err = download(ctx, args, os.Stdout)
	case "fsck":
		err = fsck(ctx, args, os.Stdout)
	case "gc":
		err = gc(ctx, args, os.Stdout)
	case "user":
		err = user(ctx, args, os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "jcsgw: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "jcsgw:", err)
		os.Exit(1)
	}
}

// envOr is a flag default taken from the environment.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(telemetry.NewTextHandler(w))
}
