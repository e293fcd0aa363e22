package catalog

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The filter never says "not here" of a key set in the memtable, of any
// table, in the writer's memtable or a copy it published, and says it of
// nearly every key never set: at the 8,192 entries a checkpoint takes a
// memtable at, under 1 % of them get a needless descent.
func TestMemtableFilter(t *testing.T) {
	m := newMemtable()
	rng := rand.New(rand.NewPCG(1, 2))
	tables := []string{"objects", "path_idx", "key_idx", "refs"}
	var set [][2]string
	for i := range checkpointEntries {
		tb, k := tables[rng.IntN(len(tables))], fmt.Sprintf("%08x/%d", rng.Uint64(), i)
		m.set(tb, &entry{key: []byte(k)})
		set = append(set, [2]string{tb, k})
	}
	pub := m.snapshot()
	m.set("objects", &entry{key: []byte("after the copy")}) // shares the filter
	for _, c := range set {
		probe := &entry{key: []byte(c[1])}
		for _, mt := range []*memtable{m, pub} {
			e, ok := mt.get(c[0], probe)
			require.True(t, ok, "%s %s", c[0], c[1])
			require.Equal(t, c[1], string(e.key))
		}
		require.True(t, m.filter.mayHave(c[0], []byte(c[1])))
	}
	_, ok := pub.get("objects", &entry{key: []byte("after the copy")})
	require.False(t, ok, "a copy does not see a later write, whatever its filter says")

	// The same key in another table, and keys never set.
	needless := 0
	const probes = 100_000
	for i := range probes {
		k := []byte(fmt.Sprintf("absent/%d", i))
		if m.filter.mayHave(tables[i%len(tables)], k) {
			needless++
		}
	}
	require.Less(t, needless, probes/100, "false answers: %d of %d", needless, probes)
	other := 0
	for _, c := range set {
		if m.filter.mayHave("packages", []byte(c[1])) {
			other++
		}
	}
	require.Less(t, other, len(set)/100, "keys of other tables taken for this one's")

	// An empty memtable, filter or not, holds nothing.
	_, ok = newMemtable().get("objects", &entry{key: []byte("x")})
	require.False(t, ok)
}
