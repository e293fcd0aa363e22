package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"jcsgw"
	"jcsgw/gateway"
)

// openOffline opens the data dir for maintenance. The catalog file is
// locked, so this fails while a server is running on the same data dir.
func openOffline(ctx context.Context, fs *flag.FlagSet, args []string) (*jcsgw.Server, error) {
	var f serveFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return jcsgw.Open(ctx, jcsgw.Config{DataDir: f.data, AccessKey: f.access, SecretKey: f.secret,
		LocalRoots: splitList(f.localRoots), Logger: newLogger(os.Stderr, "text")})
}

func fsck(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fsck", flag.ContinueOnError)
	repair := fs.Bool("repair", false, "fix what can be fixed: refcounts, orphans, missing blobs (from another space, or drop the lost objects)")
	rehash := fs.Bool("rehash", false, "re-read every blob and check its content against its name")
	srv, err := openOffline(ctx, fs, args)
	if err != nil {
		return err
	}
	defer srv.Close()
	rep, err := srv.Service().Fsck(ctx, gateway.FsckOptions{Repair: *repair, Rehash: *rehash})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
	if !rep.Clean() && !*repair {
		return fmt.Errorf("the catalog and the stores disagree; run with --repair to fix")
	}
	return nil
}

func gc(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	age := fs.Duration("age", 24*time.Hour, "abort multipart uploads started longer ago than this")
	srv, err := openOffline(ctx, fs, args)
	if err != nil {
		return err
	}
	defer srv.Close()
	rep, err := srv.Service().GC(ctx, *age)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(rep)
}
