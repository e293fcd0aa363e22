package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
)

const userUsage = `usage:
  jcsgw user add NAME            create a user with one access key (the secret is shown once)
  jcsgw user list                users and their access key IDs
  jcsgw user remove NAME         remove a user who owns no bucket, with its keys
  jcsgw user key add NAME        give a user another access key
  jcsgw user key remove KEY_ID   revoke an access key
(flags: --data DIR; run with the server stopped)`

// user manages users and keys on the data dir.
func user(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), userUsage); fs.PrintDefaults() }
	// Flags may come before or after the words; every flag here takes a value.
	var words, flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			words = append(words, a)
		}
	}
	srv, err := openOffline(ctx, fs, flags)
	if err != nil {
		return err
	}
	defer srv.Close()
	svc := srv.Service()
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	switch {
	case len(words) == 2 && words[0] == "add":
		u, secret, err := svc.AddUser(ctx, words[1])
		if err != nil {
			return err
		}
		return enc.Encode(map[string]any{"user": u.Name, "id": u.ID, "accessKey": u.Keys[0], "secretKey": secret})
	case len(words) == 1 && words[0] == "list":
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return err
		}
		return enc.Encode(users)
	case len(words) == 2 && words[0] == "remove":
		return svc.RemoveUser(ctx, words[1])
	case len(words) == 3 && words[0] == "key" && words[1] == "add":
		ak, sk, err := svc.AddKey(ctx, words[2])
		if err != nil {
			return err
		}
		return enc.Encode(map[string]string{"user": words[2], "accessKey": ak, "secretKey": sk})
	case len(words) == 3 && words[0] == "key" && words[1] == "remove":
		return svc.RemoveKey(ctx, words[2])
	}
	return fmt.Errorf("%s", userUsage)
}
