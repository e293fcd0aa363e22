package backends

import (
	"bytes"
	"context"
	"testing"
)

// A small blob that waits to be placed keeps only its own bytes after
// Trim, and reads back whole once placed; the cut buffer never goes back
// to the pool, whose buffers must stay large enough for a small PUT.
func TestLocalTrimsAWaitingSmallBlob(t *testing.T) {
	ctx := context.Background()
	l, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := genData(70, 100)
	bw, err := l.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(data[:40])
	bw.Write(data[40:])
	w := bw.(*localWriter)
	if cap(w.small) != recordRoom+keptSmall {
		t.Fatalf("a small blob's buffer holds %d bytes, want the pool's %d", cap(w.small), recordRoom+keptSmall)
	}
	w.Trim()
	if cap(w.small) != recordRoom+len(data) {
		t.Fatalf("after Trim the buffer holds %d bytes, want %d", cap(w.small), recordRoom+len(data))
	}
	name := blobName(data)
	durable, err := w.Place(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := durable(); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, l, name, 0, -1); !bytes.Equal(got, data) {
		t.Fatalf("read back %q, want %q", got, data)
	}
	// The pool takes back its own buffers only.
	if !poolsSmall(takeSmall()) {
		t.Fatal("the pool does not take back its own buffer")
	}
	if poolsSmall(make([]byte, recordRoom, recordRoom+len(data))) {
		t.Fatal("a buffer cut by Trim would go back to the pool")
	}
	if poolsSmall(make([]byte, 0, 2*(recordRoom+keptSmall))) {
		t.Fatal("a grown buffer would go back to the pool")
	}

	// Most of a buffer used: nothing to gain, nothing copied.
	bw, _ = l.Create(ctx)
	bw.Write(genData(71, 10<<10))
	w = bw.(*localWriter)
	before := &w.small[0]
	w.Trim()
	if &w.small[0] != before {
		t.Fatal("Trim copied a buffer that was mostly used")
	}
	w.Abort()
}
