package backends

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func packFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func readPacked(t *testing.T, p *packs, name string) []byte {
	t.Helper()
	rc, ok, err := p.open(name, 0, -1)
	if err != nil || !ok {
		t.Fatalf("open %s: ok=%v err=%v", name, ok, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkPacked(t *testing.T, p *packs, want map[string][]byte) {
	t.Helper()
	names := p.names()
	slices.Sort(names)
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("names %q, want %q", names, wantNames)
	}
	for n, data := range want {
		if got := readPacked(t, p, n); !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes differ from the %d written", n, len(got), len(data))
		}
	}
}

func packName(i int) string { return fmt.Sprintf("Full%060d", i) }

// mustOpenPacks opens the packs in dir.
func mustOpenPacks(t *testing.T, dir string) *packs {
	t.Helper()
	p, err := openPacks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// putSeries puts blobs from..to-1 of size bytes each (size < 0: i*97) and
// records them in want.
func putSeries(t *testing.T, p *packs, from, to, size int, want map[string][]byte) {
	t.Helper()
	for i := from; i < to; i++ {
		n := size
		if n < 0 {
			n = i * 97
		}
		data := genData(uint64(i), n)
		if err := p.put(packName(i), data); err != nil {
			t.Fatal(err)
		}
		want[packName(i)] = data
	}
}

// mustRemove removes blob i, which must be stored, and forgets it in want.
func mustRemove(t *testing.T, p *packs, i int, want map[string][]byte) {
	t.Helper()
	if ok, err := p.remove(packName(i)); !ok || err != nil {
		t.Fatalf("remove %d: %v %v", i, ok, err)
	}
	delete(want, packName(i))
}

// What was put and not removed is found again by a fresh reader, whatever
// the order of puts, removes and re-puts of the same name.
func TestPacksReopen(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 50, -1, want)
	for i := 0; i < 50; i += 3 {
		mustRemove(t, p, i, want)
	}
	// Removed, then stored again: the later put wins.
	if err := p.put(packName(3), []byte("again")); err != nil {
		t.Fatal(err)
	}
	want[packName(3)] = []byte("again")
	if ok, _ := p.remove("FullNeverStored"); ok {
		t.Fatal("removed a name never stored")
	}
	checkPacked(t, p, want)
	p.close()

	q := mustOpenPacks(t, dir)
	checkPacked(t, q, want)
	// Ranges.
	rc, _, err := q.open(packName(10), 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, want[packName(10)][5:12]) {
		t.Fatalf("range read %q", b)
	}
}

// A crash mid-append leaves a torn record at the end of the last pack: it
// and what follows are ignored, everything before stays, and new records go
// to a new pack.
func TestPacksTornTail(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 5, 1000, want)
	good := p.active.size // the file goes on with zeros (see writeRecordLocked)
	p.close()
	files := packFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("pack files %q", files)
	}
	path := filepath.Join(dir, files[0])
	if st, _ := os.Stat(path); st.Size() <= good {
		t.Fatalf("pack of %d bytes of records is %d bytes long: not written ahead", good, st.Size())
	}
	for _, tail := range [][]byte{
		appendRecord(nil, recPut, packName(9), genData(9, 500))[:300],         // cut short
		corrupt(appendRecord(nil, recPut, packName(9), genData(9, 500)), 100), // bad checksum
		make([]byte, 64), // zeros: never written
	} {
		if err := os.Truncate(path, good); err != nil {
			t.Fatal(err)
		}
		f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		f.Write(tail)
		f.Write(appendRecord(nil, recPut, packName(10), []byte("after the tear")))
		f.Close()
		q := mustOpenPacks(t, dir)
		checkPacked(t, q, want)
		if err := q.put(packName(11), []byte("new")); err != nil {
			t.Fatal(err)
		}
		if got := packFiles(t, dir); len(got) != 2 {
			t.Fatalf("after a put, pack files %q", got)
		}
		q.remove(packName(11))
		q.close()
		for _, f := range packFiles(t, dir) {
			if filepath.Join(dir, f) != path {
				os.Remove(filepath.Join(dir, f))
			}
		}
	}
}

func corrupt(b []byte, at int) []byte {
	b[at] ^= 0xff
	return b
}

// Deleting most of a pack's blobs and compacting moves the rest forward and
// removes the pack; a pack with nothing live left is removed at once.
func TestPacksCompaction(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 40, 4096, want)
	p.close() // the next put starts a second pack
	p = mustOpenPacks(t, dir)
	putSeries(t, p, 40, 45, 4096, want)
	first := packFiles(t, dir)[0]
	for i := range 40 {
		if i%10 == 0 {
			continue
		}
		p.remove(packName(i))
		delete(want, packName(i))
	}
	n, err := p.compact()
	if err != nil || n != 1 {
		t.Fatalf("compact: %d %v", n, err)
	}
	if slices.Contains(packFiles(t, dir), first) {
		t.Fatalf("compacted pack %s still there: %q", first, packFiles(t, dir))
	}
	checkPacked(t, p, want)
	p.close()
	q := mustOpenPacks(t, dir)
	checkPacked(t, q, want)

	// Everything in the (now inactive) pack removed: it goes at once.
	for n := range want {
		if _, err := q.remove(n); err != nil {
			t.Fatal(err)
		}
	}
	q.close()
	if got := packFiles(t, dir); len(got) > 1 { // at most the last active one, holding delete records
		t.Fatalf("pack files left: %q", got)
	}
	r := mustOpenPacks(t, dir)
	checkPacked(t, r, map[string][]byte{})
	if _, err := r.compact(); err != nil {
		t.Fatal(err)
	}
	if got := packFiles(t, dir); len(got) != 0 {
		t.Fatalf("dead packs not removed by compact: %q", got)
	}
}

// Concurrent writers, identical and distinct, with readers and removers.
func TestPacksConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 50 {
				name := packName(w*1000 + i)
				data := genData(uint64(w*1000+i), 100+i)
				if err := p.put(name, data); err != nil {
					t.Error(err)
					return
				}
				if err := p.put(packName(-1), []byte("shared")); err != nil {
					t.Error(err)
					return
				}
				if got := readPacked(t, p, name); !bytes.Equal(got, data) {
					t.Errorf("%s differs", name)
					return
				}
				if i%2 == 0 {
					p.remove(name)
				}
			}
		})
	}
	wg.Wait()
	p.close()
	q := mustOpenPacks(t, dir)
	if got := len(q.names()); got != 16*25+1 {
		t.Fatalf("%d blobs after reopen, want %d", got, 16*25+1)
	}
}

// A reader keeps reading a blob whose pack is compacted away under it, and
// the shared read handle of a removed pack closes with its last reader.
func TestPacksReadWhilePackGoes(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 10, 4096, want)
	p.close() // the next put starts a second pack
	p = mustOpenPacks(t, dir)
	putSeries(t, p, 10, 11, 4096, want)

	rc, ok, err := p.open(packName(0), 100, 1000)
	if err != nil || !ok {
		t.Fatalf("open: %v %v", ok, err)
	}
	first := p.index[packName(0)].pack
	for i := 1; i < 10; i++ {
		p.remove(packName(i))
		delete(want, packName(i))
	}
	if n, err := p.compact(); err != nil || n != 1 {
		t.Fatalf("compact: %d %v", n, err)
	}
	if !first.gone || first.rf == nil {
		t.Fatalf("the compacted pack's handle must stay open while read: gone=%v", first.gone)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[packName(0)][100:1100]) {
		t.Fatal("bytes read from the compacted pack differ")
	}
	rc.Close()
	rc.Close() // twice is harmless
	if first.rf != nil || first.readers != 0 {
		t.Fatalf("handle of the removed pack still open (readers %d)", first.readers)
	}
	checkPacked(t, p, want)

	// WriteTo hands the rest of a window over in one piece.
	rc, _, _ = p.open(packName(10), 10, -1)
	var buf bytes.Buffer
	if _, err := io.CopyN(io.Discard, rc, 6); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.(io.WriterTo).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if !bytes.Equal(buf.Bytes(), want[packName(10)][16:]) {
		t.Fatalf("WriteTo after a read: %d bytes", buf.Len())
	}
	p.close()
	if p.handles != 0 {
		t.Fatalf("%d read handles left open after close", p.handles)
	}
}

// Records cross the zeros written ahead of them many times, deletes among
// them, and all of it reads back after a reopen; the zeros after the last
// record end the pack.
func TestPacksRecordsOverZerosWrittenAhead(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 1500, 3000, want) // ~4.4 MiB: four steps of zeros
	for i := 0; i < 1500; i += 3 {
		if _, err := p.remove(packName(i)); err != nil {
			t.Fatal(err)
		}
		delete(want, packName(i))
	}
	putSeries(t, p, 1500, 1600, 100<<10, want) // larger records, as large blobs near smallBlob
	checkPacked(t, p, want)
	size, zeroed := p.active.size, p.active.zeroed
	if zeroed < size || zeroed > size+zeroStep+(100<<10) {
		t.Fatalf("records end at %d, zeros at %d: not within one step ahead", size, zeroed)
	}
	p.close()
	q := mustOpenPacks(t, dir)
	checkPacked(t, q, want)
	q.close()
}

// Delete records wait in memory for the next write: a crash before it
// loses them (the blob comes back unreferenced, for the gateway's
// recovery), but never puts a delete after a later put of the same name;
// the next put, enough of them, or a short while writes them out.
func TestPacksDeletesGoOutWithTheNextWrite(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	putSeries(t, p, 0, 10, 100, want)
	mustRemove(t, p, 2, want)
	mustRemove(t, p, 5, want)
	// Removed, then stored again before any other write: the put wins.
	if err := p.put(packName(5), []byte("again")); err != nil {
		t.Fatal(err)
	}
	want[packName(5)] = []byte("again")
	checkPacked(t, mustOpenPacks(t, dir), want) // a crash now: both deletes were written with the put

	// Many removes write themselves out, a few KiB at a time.
	putSeries(t, p, 100, 400, 10, want)
	for i := 100; i < 400; i++ {
		mustRemove(t, p, i, want)
	}
	q := mustOpenPacks(t, dir) // a crash: the last few removes are lost
	back := 0
	for _, n := range q.names() {
		if _, ok := want[n]; !ok {
			back++
		}
	}
	rec := len(appendRecord(nil, recDelete, packName(0), nil))
	if back*rec >= delsFlushAt {
		t.Fatalf("%d removed blobs came back after a crash, want fewer than a flush's %d", back, delsFlushAt/rec)
	}
	// The rest go out after a short while, without any other write.
	deadline := time.Now().Add(5 * time.Second)
	for {
		q := mustOpenPacks(t, dir)
		if len(q.names()) == len(want) {
			checkPacked(t, q, want)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d blobs at rest %v after the flush delay, want %d", len(q.names()), delsFlushDelay, len(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.close()
	checkPacked(t, mustOpenPacks(t, dir), want)
}

// TestPackAppendInPlace: a record made around the caller's bytes (the
// buffer's room holding its header and name, the longest name too) or,
// with too little room, copied, reads back byte for byte, also after a
// reopen, and the caller's later use of its buffer changes nothing stored.
func TestPackAppendInPlace(t *testing.T) {
	dir := t.TempDir()
	p := mustOpenPacks(t, dir)
	want := map[string][]byte{}
	long := "L" + packName(0)[1:] + string(bytes.Repeat([]byte("n"), maxPackedName-len(packName(0))))
	cases := []struct {
		name string
		room int
		size int
	}{
		{packName(1), recordRoom, 4096},
		{long, recordRoom, 1000},
		{packName(2), packHeaderSize + len(packName(2)), 77}, // exactly enough room
		{packName(3), 3, 500},                                // too little: copied
		{packName(4), recordRoom, 0},
	}
	for i, c := range cases {
		buf := make([]byte, c.room, c.room+c.size)
		for j := 0; j < c.size; j++ {
			buf = append(buf, byte(i*31+j))
		}
		data := bytes.Clone(buf[c.room:])
		durable, err := p.appendIn(c.name, buf, c.room)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := durable(); err != nil {
			t.Fatal(err)
		}
		for j := range buf {
			buf[j] = 0xee // the buffer is the caller's again
		}
		want[c.name] = data
	}
	if _, err := p.appendIn(string(bytes.Repeat([]byte("x"), maxPackedName+1)), make([]byte, recordRoom+1), recordRoom); err == nil {
		t.Fatal("a name longer than a record holds was packed")
	}
	checkPacked(t, p, want)
	p.close()
	checkPacked(t, mustOpenPacks(t, dir), want)
}
