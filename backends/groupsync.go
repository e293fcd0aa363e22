package backends

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// groupSync makes the entries of many files renamed into one directory
// durable with one fsync of the directory: every caller waits for an fsync
// that started after its call, and one caller runs it for all who are
// waiting (group commit). Each file's own data is synced by its writer.
type groupSync struct {
	f *os.File // the directory, or a file (see newDataSync)
	// data syncs with fdatasync: the file's bytes and size, not its times.
	data bool

	mu        sync.Mutex
	cond      *sync.Cond
	started   uint64
	completed uint64
	running   bool
	err       error
}

// newDataSync groups fdatasyncs of a file that many writers append to.
func newDataSync(f *os.File) *groupSync {
	g := &groupSync{f: f, data: true}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func newGroupSync(dir string) (*groupSync, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	g := &groupSync{f: f}
	g.cond = sync.NewCond(&g.mu)
	return g, nil
}

// Sync returns once a sync that began after the call has finished.
func (g *groupSync) Sync() error { return g.wait(g.ticket()) }

// ticket names the first sync that covers what was written before the
// call: a sync running now may have begun before the write, so the next.
func (g *groupSync) ticket() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started + 1
}

// wait returns once the sync named by target (or a later one) has
// finished, running it if nobody is.
func (g *groupSync) wait(target uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.completed < target {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		gen := g.started
		g.mu.Unlock()
		var err error
		if g.data {
			err = unix.Fdatasync(int(g.f.Fd()))
		} else {
			err = g.f.Sync()
		}
		g.mu.Lock()
		g.running = false
		g.completed, g.err = gen, err
		g.cond.Broadcast()
	}
	return g.err
}

// dirSyncs keeps one groupSync per directory.
type dirSyncs struct {
	mu sync.Mutex
	m  map[string]*groupSync
}

func (d *dirSyncs) sync(dir string) error {
	d.mu.Lock()
	g, ok := d.m[dir]
	if !ok {
		var err error
		if g, err = newGroupSync(dir); err != nil {
			d.mu.Unlock()
			return err
		}
		if d.m == nil {
			d.m = map[string]*groupSync{}
		}
		d.m[dir] = g
	}
	d.mu.Unlock()
	return g.Sync()
}
