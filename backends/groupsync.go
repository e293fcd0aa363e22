package backends

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// groupSync makes many small writes durable with one syncfs(2): every
// caller waits for a sync that started after its call, and one caller runs
// it for all who are waiting (group commit). A file written, closed and
// renamed before Sync returns has its data and its directory entry on disk.
type groupSync struct {
	f *os.File // any file of the file system; syncfs flushes all of it

	mu        sync.Mutex
	cond      *sync.Cond
	started   uint64
	completed uint64
	running   bool
	err       error
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

// Sync returns once a syncfs that began after the call has finished.
func (g *groupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// A sync running now may have begun before our write: we need the next.
	target := g.started + 1
	for g.completed < target {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		gen := g.started
		g.mu.Unlock()
		err := unix.Syncfs(int(g.f.Fd()))
		g.mu.Lock()
		g.running = false
		g.completed, g.err = gen, err
		g.cond.Broadcast()
	}
	return g.err
}
