package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TextHandler writes exactly what slog's text handler writes, for the
// records it formats itself and for those it hands over.
func TestTextHandlerMatchesSlog(t *testing.T) {
	odd := []string{"", "plain", "a b", "x=y", `q"uote`, `back\slash`, "é", "non\u00a0breaking", "ctl\x01",
		"bad\xffutf8", "tab\t", "new\nline", "\x7f", "emoji😀", "zero\u200bwidth", strings.Repeat("long", 2000)}
	at := time.Date(2026, 12, 3, 14, 5, 6, 987654321, time.FixedZone("x", 3600))
	var recs []slog.Record
	for _, s := range odd {
		r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("id", s), slog.String(s, "key"), slog.Int("status", 204), slog.Int64("in", -5),
			slog.Uint64("u", 1<<63), slog.Bool("ok", true), slog.Duration("duration", 1234567*time.Nanosecond),
			slog.String("remote", "127.0.0.1:5555"), slog.String("user", "AK"), slog.String("op", "DeleteObject"))
		recs = append(recs, r)
		r = slog.NewRecord(time.Time{}, slog.LevelWarn, s, 0)
		r.AddAttrs(slog.Duration("d", 0))
		recs = append(recs, r)
	}
	// Handed over: other kinds and groups.
	r := slog.NewRecord(at, slog.LevelError, "gc failed", 0)
	r.AddAttrs(slog.Any("err", context.Canceled), slog.Float64("f", 1.5), slog.Time("t", at), slog.Group("g", slog.Int("n", 1)))
	recs = append(recs, r)
	for i, r := range recs {
		var got, want bytes.Buffer
		require.NoError(t, NewTextHandler(&got).Handle(context.Background(), r))
		require.NoError(t, slog.NewTextHandler(&want, nil).Handle(context.Background(), r))
		require.Equal(t, want.String(), got.String(), "record %d", i)
	}
	// A handler with attributes of its own is slog's.
	var got, want bytes.Buffer
	slog.New(NewTextHandler(&got)).With("k", "v").Info("m", "a", 1)
	slog.New(slog.NewTextHandler(&want, nil)).With("k", "v").Info("m", "a", 1)
	require.Equal(t, strings.SplitN(want.String(), " ", 2)[1], strings.SplitN(got.String(), " ", 2)[1])
	require.False(t, NewTextHandler(&got).Enabled(context.Background(), slog.LevelDebug))
}

func BenchmarkRequestLine(b *testing.B) {
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{{"telemetry", NewTextHandler(discard{})}, {"slog", slog.NewTextHandler(discard{}, nil)}} {
		b.Run(h.name, func(b *testing.B) {
			l := slog.New(h.h)
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(context.Background(), slog.LevelInfo, "request",
					slog.String("id", "1A2B3C4D0000000001F"), slog.String("user", "AK"), slog.String("front", "s3"),
					slog.String("op", "DeleteObject"), slog.String("method", "DELETE"), slog.Int("status", 204),
					slog.Int64("in", 0), slog.Int64("out", 0), slog.Duration("duration", 1234567),
					slog.String("remote", "127.0.0.1:41234"))
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
