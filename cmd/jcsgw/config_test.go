package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jcsgw.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"addr":"127.0.0.1:1111","data":"/from/file","gc-age":"3h","local-roots":["/a","/b"]}`), 0o600))
	t.Setenv("JCSGW_DATA", "/from/env")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	fs.StringVar(&f.localRoots, "local-roots", "", "")
	age := fs.Duration("gc-age", time.Hour, "")
	fs.String("config", "", "")
	args := []string{"--config", cfg, "--addr", "127.0.0.1:2222"}
	require.NoError(t, applyConfigFile(fs, args))
	require.NoError(t, fs.Parse(args))
	assert.Equal(t, "127.0.0.1:2222", f.addr, "a flag beats the file")
	assert.Equal(t, "/from/env", f.data, "the environment beats the file")
	assert.Equal(t, 3*time.Hour, *age, "the file beats the default")
	assert.Equal(t, "/a,/b", f.localRoots)

	require.NoError(t, os.WriteFile(cfg, []byte(`{"no-such-flag":1}`), 0o600))
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs2.String("config", "", "")
	assert.ErrorContains(t, applyConfigFile(fs2, []string{"-config=" + cfg}), `"no-such-flag" is not a setting`)
}
