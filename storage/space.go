package storage

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/sluicedb/sluice/internal/atomicfile"
)

// ErrDiskFull is wrapped by the error of a write refused, or an Open
// refused, because the data directory's filesystem has too little room.
// Nothing is written then: the previous checkpoint stays whole, and writes
// resume by themselves once there is room again.
var ErrDiskFull = errors.New("disk full")

// Pebble v2 cannot survive running out of space on its write-ahead log or
// MANIFEST: Commit does not return the error, it calls Logger.Fatalf, and
// the DB is wedged for the rest of the process (every later commit and
// Close hang) even once space is freed. So the space guard makes sure Pebble
// never gets there:
//
//   - before every batch is committed, statfs says how much room is left;
//     below the reserve the write is refused with ErrDiskFull and Pebble is
//     not called;
//   - a ballast file in the data directory holds a few MiB of real blocks.
//     Pebble's filesystem is wrapped by vfs.OnDiskFull, whose callback
//     deletes the ballast and marks the disk full when a write of Pebble's
//     hits ENOSPC anyway (another process filled the disk between the check
//     and the write); Pebble retries that write once, into the space the
//     ballast freed, and the guard refuses the writes after it;
//   - the disk-full state ends when there is room for the reserve and the
//     ballast again: the guard rebuilds the ballast and lets writes through.
const (
	defaultReserve = 64 << 20
	defaultBallast = 8 << 20
	ballastName    = ".sluice-ballast"
)

// space is the free-space guard of one DB.
type space struct {
	dir        string
	ballast    string
	ballastLen int64
	reserve    uint64 // the least free space a write may start with
	memTable   uint64 // Pebble's memtable size: the WAL grows by about that before it rotates

	// mu orders the guard's checks and the rebuilding of the ballast.
	mu        sync.Mutex
	lastBatch uint64 // the size of the last batch committed

	full       atomic.Bool   // set by ENOSPC or a refused write; cleared when there is room again
	hasBallast atomic.Bool   // the ballast is whole on disk
	enospc     atomic.Uint64 // ENOSPCs Pebble reported: callbacks and background errors
	failed     atomic.Pointer[string]
}

func newSpace(dir string, opts Options, memTable uint64) *space {
	s := &space{dir: dir, ballast: filepath.Join(dir, ballastName), ballastLen: opts.Ballast,
		reserve: uint64(opts.Reserve), memTable: memTable}
	if s.reserve == 0 {
		s.reserve = defaultReserve
	}
	if s.ballastLen == 0 {
		s.ballastLen = defaultBallast
	}
	return s
}

// need is the free space a write of a batch of n bytes starts with: the
// reserve, or more when the memtable or the batches are large. The WAL grows
// by up to a memtable (preallocated at 1.1x) before it rotates; a flush
// writes about a memtable of tables and a compaction some more; a large
// batch goes to the WAL and then to a table of its own.
func (s *space) need(n uint64) uint64 {
	return max(s.reserve, 4*s.memTable+2*max(n, s.lastBatch))
}

// onDiskFull is the callback of vfs.OnDiskFull: Pebble hit ENOSPC. It is
// called for every ENOSPC (a failing background flush retries in a tight
// loop), so after the first it costs two atomic operations.
func (s *space) onDiskFull() {
	s.enospc.Add(1)
	s.full.Store(true)
	if s.hasBallast.Swap(false) {
		os.Remove(s.ballast)
	}
}

// check says whether a batch of n bytes may be committed.
func (s *space) check(n uint64) error {
	if msg := s.failed.Load(); msg != nil {
		return fmt.Errorf("the state in %s can no longer be written after a storage failure (%s): restart Sluice; what was written before is safe", s.dir, *msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	free, ok, err := freeSpace(s.dir)
	if err != nil {
		return fmt.Errorf("check the free space of %s: %w", s.dir, err)
	}
	if !ok {
		return nil // the platform cannot tell: Pebble is on its own
	}
	need := s.need(n)
	if s.full.Load() {
		// Leave the disk-full state only with room for the reserve and
		// the ballast, so that the next ENOSPC finds a ballast to delete.
		want := need
		if !s.hasBallast.Load() {
			want += uint64(s.ballastLen)
		}
		if free < want {
			return s.refuse(free, want)
		}
		if !s.hasBallast.Load() {
			seen := s.enospc.Load()
			if err := writeBallast(s.ballast, s.ballastLen); err != nil {
				return fmt.Errorf("%w: cannot rebuild the reserve file %s: %v; free space on %s's filesystem; checkpoints resume by themselves",
					ErrDiskFull, s.ballast, err, s.dir)
			}
			s.hasBallast.Store(true)
			if s.enospc.Load() != seen {
				// Pebble ran out of space while the ballast was written:
				// give the space back and stay full.
				s.onDiskFull()
				return s.refuse(0, want)
			}
			if free, _, err = freeSpace(s.dir); err != nil {
				return fmt.Errorf("check the free space of %s: %w", s.dir, err)
			}
		}
		s.full.Store(false)
	}
	if free < need {
		s.full.Store(true)
		return s.refuse(free, need)
	}
	return nil
}

func (s *space) refuse(free, need uint64) error {
	return fmt.Errorf("%w: %s free on the filesystem of %s, %s needed to write safely; free space on %s's filesystem; checkpoints resume by themselves",
		ErrDiskFull, formatBytes(free), s.dir, formatBytes(need), s.dir)
}

// committed records the size of a batch that went through.
func (s *space) committed(n uint64) {
	s.mu.Lock()
	s.lastBatch = n
	s.mu.Unlock()
}

// fail records that Pebble reported a fatal error: the DB cannot be used
// for the rest of the process, and writes are refused rather than hang.
func (s *space) fail(msg string) {
	s.failed.CompareAndSwap(nil, &msg)
}

// writeBallast writes the ballast file: size bytes of real blocks. The bytes
// are random so that a compressing or deduplicating filesystem stores them
// too (zeros or a sparse file would free nothing when deleted).
func writeBallast(path string, size int64) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		return nil
	}
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		buf := make([]byte, min(size, 1<<20))
		var rng rand.ChaCha8
		rng.Read(buf)
		for left := size; left > 0; left -= int64(len(buf)) {
			if _, err := w.Write(buf[:min(left, int64(len(buf)))]); err != nil {
				return err
			}
		}
		return nil
	})
}

// isENOSPC is what vfs.OnDiskFull counts as a full disk, through wrapping.
func isENOSPC(err error) bool { return errors.Is(err, syscall.ENOSPC) }

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
