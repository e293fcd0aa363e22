package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"jcsgw/gateway"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "64KiB": 64 << 10, "64k": 64 << 10, "5GiB": 5 << 30, "5 GB": 5 << 30,
		"5TiB": 5 << 40, "1.5MiB": 3 << 19, "5.36870912e+09": 5 << 30, "7B": 7,
	} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "0", "-1", "1.5", "abc", "MiB", "NaN", "Inf", "99999999TiB"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
	n := int64(5 << 40)
	assert.Equal(t, "5TiB", byteSize[int64]{&n}.String())
	n = 1000
	assert.Equal(t, "1000", byteSize[int64]{&n}.String())
}

func TestLimitFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jcsgw.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"max-put-size":"1GiB","max-object-size":1099511627776}`), 0o600))
	t.Setenv("JCSGW_MAX_JSON_BODY", "2MiB")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var l gateway.Limits
	require.NoError(t, limitFlags(fs, &l))
	fs.String("config", "", "")
	args := []string{"--config", cfg, "--max-header-bytes", "128KiB"}
	require.NoError(t, applyConfigFile(fs, args))
	require.NoError(t, fs.Parse(args))
	want := gateway.DefaultLimits()
	want.MaxPutSize, want.MaxObjectSize, want.MaxJSONBody, want.MaxHeaderBytes = 1<<30, 1<<40, 2<<20, 128<<10
	assert.Equal(t, want, l)
	require.NoError(t, l.Validate())

	t.Setenv("JCSGW_MAX_PUT_SIZE", "lots")
	assert.ErrorContains(t, limitFlags(flag.NewFlagSet("serve", flag.ContinueOnError), &l), "JCSGW_MAX_PUT_SIZE")
}
