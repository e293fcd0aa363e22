package jcsgw

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The usage scan is taken again after a second on a small catalog, and
// after a hundred times its own duration on a large one.
func TestStatsDue(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		took, after time.Duration
		due         bool
	}{
		{0, 0, false},
		{2 * time.Millisecond, 999 * time.Millisecond, false},
		{2 * time.Millisecond, 1001 * time.Millisecond, true},
		{10 * time.Millisecond, 1001 * time.Millisecond, true},
		{50 * time.Millisecond, 4 * time.Second, false},
		{50 * time.Millisecond, 5*time.Second + time.Millisecond, true},
		{3 * time.Second, 299 * time.Second, false},
		{3 * time.Second, 301 * time.Second, true},
	} {
		require.Equal(t, c.due, statsDue(at.Add(c.after), at, c.took), "took %v, %v later", c.took, c.after)
	}
	require.True(t, statsDue(at, time.Time{}, 0), "never taken")
}
