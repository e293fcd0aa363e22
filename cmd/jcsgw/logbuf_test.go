package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuf counts the writes it receives.
type syncBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuf) state() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestLogBufferGathersLinesIntoOneWrite(t *testing.T) {
	out := &syncBuf{}
	b := newLogBuffer(out, 50*time.Millisecond)
	defer b.Close()
	for i := range 100 {
		fmt.Fprintf(b, "line %d\n", i)
	}
	got, writes := out.state()
	require.Empty(t, got, "lines are held until the delay")
	require.Zero(t, writes)
	require.Eventually(t, func() bool { s, _ := out.state(); return s != "" }, 2*time.Second, 5*time.Millisecond)
	got, writes = out.state()
	require.Equal(t, 1, writes, "100 lines in one write")
	var want strings.Builder
	for i := range 100 {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	require.Equal(t, want.String(), got)

	// The timer is armed again by the next line.
	fmt.Fprintln(b, "later")
	require.Eventually(t, func() bool { s, _ := out.state(); return strings.HasSuffix(s, "later\n") }, 2*time.Second, 5*time.Millisecond)
}

func TestLogBufferWritesOutWhenFull(t *testing.T) {
	out := &syncBuf{}
	b := newLogBuffer(out, time.Hour)
	defer b.Close()
	line := strings.Repeat("x", 1023) + "\n"
	for range maxPending / len(line) {
		b.Write([]byte(line))
	}
	got, writes := out.state()
	require.Equal(t, 1, writes, "a full buffer goes out at once, not after the delay")
	require.Equal(t, maxPending, len(got))
}

func TestLogBufferCloseFlushesAndKeepsOrder(t *testing.T) {
	out := &syncBuf{}
	b := newLogBuffer(out, time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				fmt.Fprintf(b, "g%d %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	b.Close()
	got, _ := out.state()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Len(t, lines, 8*500, "nothing lost")
	next := map[string]int{}
	for _, l := range lines {
		var g string
		var i int
		_, err := fmt.Sscanf(l, "%s %d", &g, &i)
		require.NoError(t, err, "line %q torn", l)
		require.Equal(t, next[g], i, "goroutine %s's lines out of order", g)
		next[g]++
	}

	// After Close a line goes straight out.
	fmt.Fprintln(b, "after close")
	got, _ = out.state()
	require.True(t, strings.HasSuffix(got, "after close\n"))
}
