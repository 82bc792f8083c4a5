package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// DB is the durable state of one Sluice instance.
type DB struct {
	db    *pebble.DB
	lock  *pebble.Lock
	seq   uint64
	space *space
	bgErr atomic.Pointer[error]
}

// Options tune OpenWith. The zero value is what Open uses; tests set them
// to bring about a full disk without filling a real one.
type Options struct {
	// Reserve is the least free space, in bytes, on the data directory's
	// filesystem with which a write is attempted (default 64 MiB; more when
	// Pebble's memtable or the batches are large). Below it writes fail
	// with ErrDiskFull and Pebble is not called.
	Reserve int64
	// Ballast is the size of the file kept in the data directory and
	// deleted when Pebble runs out of space anyway (default 8 MiB).
	Ballast int64
	// MemTableSize is Pebble's memtable size (default Pebble's, 4 MiB).
	MemTableSize int64
}

// Open opens (creating if needed) the state under dir. A directory held by
// another running Sluice, not writable, on a full disk, or not a Sluice data
// directory gets an error that says so.
func Open(dir string) (*DB, error) { return OpenWith(dir, Options{}) }

// OpenWith is Open with options.
func OpenWith(dir string, o Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w (choose another with --data-dir)", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w (fix its permissions or choose another with --data-dir)", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	d := &DB{}
	opts := &pebble.Options{Logger: quietLogger{d}, CacheSize: blockCacheSize, MemTableSize: uint64(o.MemTableSize)}
	// Operators that spill look up entries one by one, mostly for keys seen
	// for the first time: a Bloom filter answers those without reading a
	// block. Deeper levels inherit it.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	opts.EventListener = &pebble.EventListener{BackgroundError: d.backgroundError}
	opts.EnsureDefaults()
	d.space = newSpace(dir, o, opts.MemTableSize)
	opts.FS = vfs.OnDiskFull(vfs.Default, d.space.onDiskFull)
	// Lock first, so that the space check and the ballast are this
	// process's alone.
	lock, err := pebble.LockDirectory(dir, opts.FS)
	if err != nil {
		return nil, inUse(dir, err)
	}
	opts.Lock = lock
	fail := func(err error) (*DB, error) {
		lock.Close()
		return nil, err
	}
	// Pebble's Open on a full disk does not fail: it retries flushing the
	// replayed log forever. So room for the reserve (and the ballast, if
	// it is not there yet) is a condition of starting.
	need := d.space.need(0)
	if fi, err := os.Stat(d.space.ballast); err != nil || fi.Size() != d.space.ballastLen {
		need += uint64(d.space.ballastLen)
	}
	if free, ok, err := freeSpace(dir); err != nil {
		return fail(fmt.Errorf("check the free space of data directory %s: %w", dir, err))
	} else if ok && free < need {
		return fail(fmt.Errorf("data directory %s: %w: %s free on its filesystem, %s needed to start (free space on %s's filesystem, then start again)",
			dir, ErrDiskFull, formatBytes(free), formatBytes(need), dir))
	}
	if err := writeBallast(d.space.ballast, d.space.ballastLen); err != nil {
		return fail(fmt.Errorf("data directory %s: write the reserve file %s: %w (free space on %s's filesystem, then start again)",
			dir, d.space.ballast, err, dir))
	}
	d.space.hasBallast.Store(true)
	db, err := pebble.Open(dir, opts)
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock") {
			return fail(inUse(dir, err))
		}
		return fail(fmt.Errorf("open the state in %s: %w (if it is damaged, move it away and start with an empty --data-dir)", dir, err))
	}
	d.db, d.lock = db, lock
	v, closer, err := db.Get(seqKey)
	switch {
	case err == nil:
		d.seq = binary.BigEndian.Uint64(v)
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		db.Close()
		return fail(fmt.Errorf("read the state in %s: %w", dir, err))
	}
	return d, nil
}

func inUse(dir string, err error) error {
	return fmt.Errorf("data directory %s is in use by another Sluice process: %w (stop it, or choose another --data-dir)", dir, err)
}

// backgroundError keeps the last error of Pebble's flushes and compactions,
// which Pebble retries by itself; running out of space marks the disk full.
func (d *DB) backgroundError(err error) {
	d.bgErr.Store(&err)
	if isENOSPC(err) {
		d.space.onDiskFull()
	}
}

// BackgroundError is the last error of Pebble's background work (flushes,
// compactions), nil if there was none. Pebble retries such work, so it says
// what went wrong, not that something is still wrong.
func (d *DB) BackgroundError() error {
	if p := d.bgErr.Load(); p != nil {
		return *p
	}
	return nil
}

// commit writes b, synced, if the disk has room for it.
func (d *DB) commit(b *pebble.Batch) error {
	n := uint64(b.Len())
	if err := d.space.check(n); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	d.space.committed(n)
	return nil
}

// blockCacheSize is Pebble's cache of data blocks: the entries that spilling
// operators read back come through it.
const blockCacheSize = 32 << 20

// Close closes the database.
func (d *DB) Close() error {
	err := d.db.Close()
	if lerr := d.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

var seqKey = []byte("mseq")

// CatalogEntry is a stored catalog object.
type CatalogEntry struct {
	Name string
	OID  uint32
	SQL  string
	seq  uint64
}

func catalogKey(name string) []byte { return append([]byte{'c'}, name...) }

// AddCatalog records an object's creating statement.
func (d *DB) AddCatalog(name string, oid uint32, sql string) error {
	seq := d.seq + 1
	v := make([]byte, 12, 12+len(sql))
	binary.BigEndian.PutUint64(v, seq)
	binary.BigEndian.PutUint32(v[8:], oid)
	v = append(v, sql...)
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.Set(catalogKey(name), v, nil); err != nil {
		return err
	}
	if err := b.Set(seqKey, binary.BigEndian.AppendUint64(nil, seq), nil); err != nil {
		return err
	}
	if err := d.commit(b); err != nil {
		return err
	}
	d.seq = seq
	return nil
}

// DropCatalog forgets an object and, for a table, its rows.
func (d *DB) DropCatalog(name string) error {
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.Delete(catalogKey(name), nil); err != nil {
		return err
	}
	for _, lo := range [][]byte{tablePrefix(name), positionPrefix(name)} {
		if err := b.DeleteRange(lo, prefixEnd(lo), nil); err != nil {
			return err
		}
	}
	return d.commit(b)
}

// Catalog returns the stored objects in creation order.
func (d *DB) Catalog() ([]CatalogEntry, error) {
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{'c'}, UpperBound: []byte{'d'}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []CatalogEntry
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < 12 {
			return nil, fmt.Errorf("catalog entry %q is damaged", it.Key()[1:])
		}
		out = append(out, CatalogEntry{Name: string(it.Key()[1:]), seq: binary.BigEndian.Uint64(v),
			OID: binary.BigEndian.Uint32(v[8:]), SQL: string(v[12:])})
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

func tablePrefix(table string) []byte {
	k := append([]byte{'t'}, table...)
	return append(k, 0)
}

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// positionPrefix precedes the keys of a connector-fed table's positions,
// one per split.
func positionPrefix(table string) []byte {
	k := append([]byte{'p'}, table...)
	return append(k, 0)
}

// TableLog stores the rows of one table.
type TableLog struct {
	db        *DB
	prefix    []byte
	positions []byte
}

// Table returns the log of table name.
func (d *DB) Table(name string) *TableLog {
	return &TableLog{db: d, prefix: tablePrefix(name), positions: positionPrefix(name)}
}

// Apply durably deletes the rows with keys deleted and sets the rows put
// (key, row pairs), in one synced batch.
func (t *TableLog) Apply(deleted []string, put [][2]string) error {
	return t.ApplyAt(deleted, put, "", "")
}

// ApplyAt is Apply that also records, in the same batch, that the table holds
// its connector's split up to position pos (nothing is recorded when split
// is empty): a crash leaves the rows and the position in agreement.
func (t *TableLog) ApplyAt(deleted []string, put [][2]string, split, pos string) error {
	d := t.db
	b := d.db.NewBatch()
	defer b.Close()
	if split != "" {
		if err := b.Set(append(append([]byte(nil), t.positions...), split...), []byte(pos), nil); err != nil {
			return err
		}
	}
	for _, k := range deleted {
		if err := b.Delete(append(append([]byte(nil), t.prefix...), k...), nil); err != nil {
			return err
		}
	}
	for _, kv := range put {
		if err := b.Set(append(append([]byte(nil), t.prefix...), kv[0]...), []byte(kv[1]), nil); err != nil {
			return err
		}
	}
	return d.commit(b)
}

// Rows calls fn with every stored row of the table, in key order.
func (t *TableLog) Rows(fn func(key, row string)) error {
	it, err := t.db.db.NewIter(&pebble.IterOptions{LowerBound: t.prefix, UpperBound: prefixEnd(t.prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		fn(string(it.Key()[len(t.prefix):]), string(it.Value()))
	}
	return it.Error()
}

// Keys of the last complete checkpoint: its epoch, and each part of its
// state by name (a view's dataflow, a table's rows, a sink's undelivered
// epochs).
var (
	checkpointEpochKey = []byte("e")
	checkpointPrefix   = []byte("k")
)

// KeyedChanges are the changes, since the previous checkpoint, of one keyed
// space of state (the entries of a keyed operator: aggregation groups, a
// view's rows). Each calls fn with every change in order; a nil value
// deletes the key. With All the space's stored entries are replaced.
type KeyedChanges struct {
	Space string
	All   bool
	Each  func(fn func(key, value []byte) error) error
}

// Keyed spaces: "s" space NUL key holds an entry, "f" space marks that the
// space exists, so that the spaces of dropped views can be found and removed.
func spacePrefix(space string) []byte { return append(append([]byte{'s'}, space...), 0) }
func spaceMarker(space string) []byte { return append([]byte{'f'}, space...) }

// SaveCheckpoint replaces the stored checkpoint with the state of epoch, in
// one synced batch: the parts by name, and the keyed spaces updated by their
// changes (spaces that are not in changes are dropped). A crash leaves
// either the old checkpoint or the new one, never a mixture.
func (d *DB) SaveCheckpoint(epoch uint64, parts map[string][]byte, changes []KeyedChanges) error {
	// Refused now, the batch is not built for nothing.
	if err := d.space.check(0); err != nil {
		return err
	}
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(checkpointPrefix, prefixEnd(checkpointPrefix), nil); err != nil {
		return err
	}
	for name, state := range parts {
		if err := b.Set(append(append([]byte(nil), checkpointPrefix...), name...), state, nil); err != nil {
			return err
		}
	}
	present := make(map[string]bool, len(changes))
	for _, c := range changes {
		present[c.Space] = true
	}
	stale, err := d.spaces(func(space string) bool { return !present[space] })
	if err != nil {
		return err
	}
	for _, space := range stale {
		lo := spacePrefix(space)
		if err := b.DeleteRange(lo, prefixEnd(lo), nil); err != nil {
			return err
		}
		if err := b.Delete(spaceMarker(space), nil); err != nil {
			return err
		}
	}
	for _, c := range changes {
		prefix := spacePrefix(c.Space)
		if c.All {
			if err := b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
				return err
			}
		}
		if err := b.Set(spaceMarker(c.Space), nil, nil); err != nil {
			return err
		}
		key := append([]byte(nil), prefix...)
		err := c.Each(func(k, v []byte) error {
			key = append(key[:len(prefix)], k...)
			if v == nil {
				return b.Delete(key, nil)
			}
			return b.Set(key, v, nil)
		})
		if err != nil {
			return err
		}
	}
	if err := b.Set(checkpointEpochKey, binary.BigEndian.AppendUint64(nil, epoch), nil); err != nil {
		return err
	}
	return d.commit(b)
}

// spaces returns the stored keyed spaces for which keep says yes.
func (d *DB) spaces(keep func(string) bool) ([]string, error) {
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{'f'}, UpperBound: []byte{'g'}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []string
	for it.First(); it.Valid(); it.Next() {
		if space := string(it.Key()[1:]); keep(space) {
			out = append(out, space)
		}
	}
	return out, it.Error()
}

// CheckpointEntries calls fn with every entry of a keyed space of the
// stored checkpoint, in key order. The slices are valid only during the call.
func (d *DB) CheckpointEntries(space string, fn func(key, value []byte) error) error {
	prefix := spacePrefix(space)
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key()[len(prefix):], it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// CheckpointEntry calls fn with the value of key in a keyed space of the
// stored checkpoint and reports whether there is one. The value is valid
// only during the call.
func (d *DB) CheckpointEntry(space string, key []byte, fn func(value []byte) error) (bool, error) {
	k := append(spacePrefix(space), key...)
	v, closer, err := d.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer closer.Close()
	return true, fn(v)
}

// CheckpointEntriesOf calls fn(i, value) for each of keys (in ascending
// order, as bytes.Compare orders them) that a keyed space of the stored
// checkpoint holds. One iterator serves them all, so that a batch of
// lookups pays for opening it once and reads neighbouring keys from the
// same blocks. The value is valid only during the call.
func (d *DB) CheckpointEntriesOf(space string, keys [][]byte, fn func(i int, value []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	prefix := spacePrefix(space)
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	key := append([]byte(nil), prefix...)
	for i, k := range keys {
		key = append(key[:len(prefix)], k...)
		// A prefix seek consults the Bloom filters: most keys of a batch
		// may be absent.
		if it.SeekPrefixGE(key) && bytes.Equal(it.Key(), key) {
			if err := fn(i, it.Value()); err != nil {
				return err
			}
		}
	}
	return it.Error()
}

// Checkpoint returns the last complete checkpoint: its epoch (0 when there
// is none) and its parts by name.
func (d *DB) Checkpoint() (uint64, map[string][]byte, error) {
	v, closer, err := d.db.Get(checkpointEpochKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if len(v) != 8 {
		closer.Close()
		return 0, nil, fmt.Errorf("the checkpoint's epoch is damaged")
	}
	epoch := binary.BigEndian.Uint64(v)
	closer.Close()
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: checkpointPrefix, UpperBound: prefixEnd(checkpointPrefix)})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	parts := map[string][]byte{}
	for it.First(); it.Valid(); it.Next() {
		parts[string(it.Key()[len(checkpointPrefix):])] = append([]byte(nil), it.Value()...)
	}
	return epoch, parts, it.Error()
}

// Positions calls fn with every split's stored position.
func (t *TableLog) Positions(fn func(split, pos string)) error {
	it, err := t.db.db.NewIter(&pebble.IterOptions{LowerBound: t.positions, UpperBound: prefixEnd(t.positions)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		fn(string(it.Key()[len(t.positions):]), string(it.Value()))
	}
	return it.Error()
}

// quietLogger keeps Pebble's informational messages out of Sluice's logs
// (the errors of background work are kept by the EventListener, see
// BackgroundError).
//
// Fatalf is how Pebble reports what it cannot recover from, such as a
// commit that hit a full disk despite the space guard: the DB is then
// wedged for the rest of the process. Fatalf says so on stderr, marks the
// DB failed so that later writes return an error instead of hanging in
// Pebble (a recovered panic would otherwise leave them to), and panics.
type quietLogger struct{ d *DB }

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (l quietLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.d != nil && l.d.space != nil {
		l.d.space.fail(msg)
	}
	fmt.Fprintf(os.Stderr, "sluice: storage failed: %s (what was written before is safe; restart Sluice once the cause is fixed)\n", msg)
	panic("storage failed: " + msg)
}
