package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/sluicedb/sluice/internal/testfs"
)

func TestCatalogKeepsCreationOrderAndForgetsDrops(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"zeta", "alpha", "mid"} {
		if err := db.AddCatalog(name, uint32(16384+i), "CREATE TABLE "+name+" (x INT)"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DropCatalog("alpha"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name)
	}
	if strings.Join(got, ",") != "zeta,mid" || entries[1].OID != 16386 {
		t.Fatalf("catalog = %v (%+v), want zeta,mid in creation order with their OIDs", got, entries)
	}
	// A new object after a reopen still sorts last.
	if err := db.AddCatalog("aardvark", 16390, "CREATE TABLE aardvark (x INT)"); err != nil {
		t.Fatal(err)
	}
	entries, _ = db.Catalog()
	if entries[len(entries)-1].Name != "aardvark" {
		t.Fatalf("new entry not last: %+v", entries)
	}
}

func TestTableRowsAreDroppedWithTheTable(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, ab := db.Table("a"), db.Table("ab")
	if err := a.Apply(nil, [][2]string{{"k1", "r1"}, {"k2", "r2"}}); err != nil {
		t.Fatal(err)
	}
	if err := ab.Apply(nil, [][2]string{{"k1", "other"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Apply([]string{"k1"}, nil); err != nil {
		t.Fatal(err)
	}
	rows := func(l *TableLog) string {
		var out []string
		if err := l.Rows(func(k, r string) { out = append(out, k+"="+r) }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	if got := rows(a); got != "k2=r2" {
		t.Fatalf("a = %s", got)
	}
	if err := db.DropCatalog("a"); err != nil {
		t.Fatal(err)
	}
	if got := rows(a); got != "" {
		t.Fatalf("a after drop = %s", got)
	}
	if got := rows(ab); got != "k1=other" {
		t.Fatalf("dropping a touched ab: %s", got)
	}
}

func TestASecondOpenOfTheSameDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "in use by another Sluice") {
		t.Fatalf("second open: %v", err)
	}
}

// checkpointAt saves checkpoint epoch: a part and a keyed space that both
// say which epoch they are.
func checkpointAt(db *DB, epoch uint64) error {
	e := strconv.FormatUint(epoch, 10)
	return db.SaveCheckpoint(epoch, map[string][]byte{"part": []byte("state " + e)}, []KeyedChanges{{
		Space: "space", All: true,
		Each: func(fn func(key, value []byte) error) error { return fn([]byte("key"), []byte("value "+e)) },
	}})
}

// checkpointIs fails t unless db holds checkpoint epoch as checkpointAt
// wrote it.
func checkpointIs(t *testing.T, db *DB, epoch uint64) {
	t.Helper()
	e := strconv.FormatUint(epoch, 10)
	got, parts, err := db.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	if err := db.CheckpointEntries("space", func(k, v []byte) error {
		entries = append(entries, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != epoch || string(parts["part"]) != "state "+e || strings.Join(entries, ",") != "key=value "+e {
		t.Fatalf("checkpoint = epoch %d, parts %q, entries %q; want epoch %s throughout", got, parts, entries, e)
	}
}

func setReserve(db *DB, reserve uint64) {
	db.space.mu.Lock()
	db.space.reserve = reserve
	db.space.mu.Unlock()
}

func TestAFullDiskRefusesCheckpointsUntilThereIsRoom(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpointAt(db, 1); err != nil {
		t.Fatal(err)
	}
	free, _, err := freeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	setReserve(db, free+1<<30)
	err = checkpointAt(db, 2)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "free space on "+dir+"'s filesystem; checkpoints resume by themselves") {
		t.Fatalf("checkpoint on a full disk: %v, want ErrDiskFull saying what to do", err)
	}
	if err := db.Table("t").Apply(nil, [][2]string{{"k", "r"}}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("table write on a full disk: %v, want ErrDiskFull", err)
	}
	checkpointIs(t, db, 1)

	setReserve(db, defaultReserve)
	if err := checkpointAt(db, 3); err != nil {
		t.Fatalf("checkpoint once there is room again: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkpointIs(t, db, 3)
	if fi, err := os.Stat(filepath.Join(dir, ballastName)); err != nil || fi.Size() != defaultBallast {
		t.Fatalf("the ballast after a reopen: %v, %v", fi, err)
	}
}

func TestOpenRefusesAFullDisk(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenWith(dir, Options{Reserve: 1 << 62})
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "needed to start") {
		t.Fatalf("open on a full disk: %v, want ErrDiskFull", err)
	}
	// The refused Open let go of the directory.
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// When Pebble runs out of space despite the check, vfs.OnDiskFull calls
// onDiskFull (and a background job reports ENOSPC): the ballast goes, and it
// comes back with the next write that finds room.
func TestRunningOutOfSpaceSpendsTheBallast(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ballast := filepath.Join(dir, ballastName)
	enospc := fmt.Errorf("write %s/000004.sst: %w", dir, syscall.ENOSPC)
	db.backgroundError(enospc)
	db.space.onDiskFull() // as Pebble's FS calls it, many times
	if _, err := os.Stat(ballast); !os.IsNotExist(err) {
		t.Fatalf("ballast after ENOSPC: %v, want it deleted", err)
	}
	if !errors.Is(db.BackgroundError(), syscall.ENOSPC) {
		t.Fatalf("BackgroundError() = %v", db.BackgroundError())
	}
	if err := checkpointAt(db, 1); err != nil {
		t.Fatalf("checkpoint with room again: %v", err)
	}
	if fi, err := os.Stat(ballast); err != nil || fi.Size() != defaultBallast {
		t.Fatalf("ballast after the disk-full state: %v, %v", fi, err)
	}
	checkpointIs(t, db, 1)
}

// TestARealFullDisk fills a small tmpfs: checkpoints are refused with
// ErrDiskFull (Pebble never sees ENOSPC, so nothing panics), resume in the
// same process once the filler is gone, and survive a reopen. Open on the
// full filesystem fails rather than hang.
func TestARealFullDisk(t *testing.T) {
	mnt := smallFilesystem(t)
	dir := filepath.Join(mnt, "data")
	opts := smallOptions
	db, err := OpenWith(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	// Checkpoints smaller than the memtable: no flush is running when the
	// disk fills up.
	for epoch := uint64(1); epoch <= 3; epoch++ {
		if err := checkpointAt(db, epoch); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	for epoch := uint64(4); epoch <= 5; epoch++ {
		if err := checkpointAt(db, epoch); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("checkpoint %d on a full disk: %v, want ErrDiskFull", epoch, err)
		}
	}
	checkpointIs(t, db, 3)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := checkpointAt(db, 6); err != nil {
		t.Fatalf("checkpoint once there is room again: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ballastName)); err != nil || fi.Size() != opts.Ballast {
		t.Fatalf("ballast: %v, %v", fi, err)
	}
	if msg := db.space.failed.Load(); msg != nil {
		t.Fatalf("Pebble called Fatalf: %s", *msg)
	}
	if err := db.BackgroundError(); err != nil {
		t.Fatalf("Pebble's background work failed: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	fill(t, filler)
	if _, err := OpenWith(dir, opts); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("open on a full disk: %v, want ErrDiskFull", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if db, err = OpenWith(dir, opts); err != nil {
		t.Fatal(err)
	}
	checkpointIs(t, db, 6)
}

// TestTheBallastCatchesAWriteTheCheckMissed commits past the space check
// on a full tmpfs, as when another process fills the disk between the check
// and the write: Pebble hits ENOSPC, the callback deletes the ballast and
// marks the disk full, Pebble's retry of the write succeeds in the space
// freed, and the guard refuses what comes next until there is room.
func TestTheBallastCatchesAWriteTheCheckMissed(t *testing.T) {
	mnt := smallFilesystem(t)
	dir := filepath.Join(mnt, "data")
	db, err := OpenWith(dir, smallOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	if err := checkpointAt(db, 1); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	// Batches of 100 KiB, far smaller than the ballast: the first write
	// that meets ENOSPC fits in what the ballast frees. (The WAL is
	// preallocated, so the first few may not meet it at all.)
	value := make([]byte, 100<<10)
	for i := 0; !db.space.full.Load(); i++ {
		if i == 40 {
			t.Fatal("4 MiB written to a full disk and no ENOSPC seen")
		}
		b := db.db.NewBatch()
		b.Set([]byte("unguarded"), value, nil)
		err := b.Commit(pebble.Sync)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ballastName)); !os.IsNotExist(err) {
		t.Fatalf("ballast after ENOSPC: %v, want it deleted", err)
	}
	if err := checkpointAt(db, 2); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("checkpoint after ENOSPC: %v, want ErrDiskFull", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := checkpointAt(db, 3); err != nil {
		t.Fatalf("checkpoint once there is room again: %v", err)
	}
	if msg := db.space.failed.Load(); msg != nil {
		t.Fatalf("Pebble called Fatalf: %s", *msg)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = OpenWith(dir, smallOptions); err != nil {
		t.Fatal(err)
	}
	checkpointIs(t, db, 3)
}

// smallOptions suit a 48 MiB filesystem.
var smallOptions = Options{Reserve: 6 << 20, Ballast: 2 << 20, MemTableSize: 1 << 20}

// smallFilesystem mounts a 48 MiB tmpfs to fill, or skips t when it cannot.
func smallFilesystem(t *testing.T) string { return testfs.Small(t, "48m") }

// fill writes path until its filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	testfs.Fill(t, path)
	if free, _, _ := freeSpace(filepath.Dir(path)); free >= 4096 {
		t.Fatalf("filled the disk, yet %d bytes are free", free)
	}
}

// A batch of lookups finds exactly the stored keys among those asked, in a
// space of its own.
func TestCheckpointEntriesOfFindsTheStoredKeys(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries := map[string]string{"b": "2", "d": "4", "e": "5"}
	each := func(fn func(k, v []byte) error) error {
		for k, v := range entries {
			if err := fn([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}
	other := func(fn func(k, v []byte) error) error { return fn([]byte("c"), []byte("other")) }
	if err := db.SaveCheckpoint(1, nil, []KeyedChanges{{Space: "x", Each: each}, {Space: "y", Each: other}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	keys := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("f")}
	err = db.CheckpointEntriesOf("x", keys, func(i int, v []byte) error {
		got = append(got, string(keys[i])+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "b=2 d=4"; strings.Join(got, " ") != want {
		t.Errorf("found %v, want %s", got, want)
	}
}
