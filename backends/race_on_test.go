//go:build race

package backends

// raceEnabled trims the largest test data under the race detector, which
// makes byte-crunching loops many times slower.
const raceEnabled = true
