package engine_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/sluicedb/sluice/internal/difftest"
)

var (
	diffSeed  = flag.Uint64("difftest.seed", 0, "run TestDifferential for this seed only")
	diffSeeds = flag.Int("difftest.seeds", 12, "how many seeds TestDifferential runs (seeds 1..n)")
	diffRows  = flag.Int("difftest.rows", 500, "rows in each seed's stream in TestDifferential")
	diffBugs  = flag.Bool("difftest.knownbugs", false, "run TestDifferential's cases marked with a known bug instead of skipping them")
)

// TestDifferential compares every view of the differential matrix with
// PostgreSQL over seeded random streams (see internal/difftest). A failure
// names its seed; rerun it alone with
//
//	go test ./engine -run TestDifferential -difftest.seed=N
func TestDifferential(t *testing.T) {
	var seeds []uint64
	switch {
	case *diffSeed != 0:
		seeds = []uint64{*diffSeed}
	case testing.Short():
		seeds = []uint64{1, 2}
	default:
		for i := 1; i <= *diffSeeds; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	difftest.Run(t, difftest.Options{
		NewSluice: func(t testing.TB) difftest.Connect {
			connect, _ := startServer(t)
			return connect
		},
		Seeds:     seeds,
		Rows:      *diffRows,
		KnownBugs: *diffBugs,
		Replay: func(seed uint64) string {
			return fmt.Sprintf("go test ./engine -run TestDifferential -difftest.seed=%d -difftest.rows=%d", seed, *diffRows)
		},
	})
}
