package gateway

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeyMissesRememberedBoundedAndForgottenOnAdd(t *testing.T) {
	f := open(t, t.TempDir(), func(c *Config) { c.ServerKey = make([]byte, 32) })
	t.Cleanup(func() { f.cat.Close() })
	svc := f.svc
	ctx := context.Background()

	// The bootstrap key: not in the catalog, the admin's, remembered.
	require.Equal(t, Caller{UserID: AdminUserID}, svc.CallerOf("BOOTSTRAP"))
	require.Contains(t, svc.keys.absent, "BOOTSTRAP")
	_, ok := svc.SecretKey("BOOTSTRAP")
	require.False(t, ok)

	// Made-up keys cannot grow the memory of misses without bound.
	for i := range 200 {
		svc.CallerOf(fmt.Sprintf("MADEUP%03d", i))
		require.LessOrEqual(t, len(svc.keys.absent), maxAbsentKeys)
	}

	// Adding a key forgets every miss, and the new key is found.
	_, secret, err := svc.AddUser(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, svc.keys.absent)
	users, err := svc.ListUsers(ctx)
	require.NoError(t, err)
	var access string
	for _, u := range users {
		if u.Name == "alice" {
			access = u.Keys[0]
		}
	}
	got, ok := svc.SecretKey(access)
	require.True(t, ok)
	require.Equal(t, secret, got)
	require.NotEqual(t, AdminUserID, svc.CallerOf(access).UserID)

	// A failed read proves nothing: the miss is not remembered.
	require.NoError(t, f.cat.Close())
	require.Equal(t, Caller{UserID: AdminUserID}, svc.CallerOf("UNREADABLE"))
	require.NotContains(t, svc.keys.absent, "UNREADABLE")
}
