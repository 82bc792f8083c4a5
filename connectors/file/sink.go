package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/internal/atomicfile"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Sink option keys (path is shared with the source).
const (
	optRollRows     = "rollover.rows"
	optRollBytes    = "rollover.bytes"
	optRollInterval = "rollover.interval"
)

// File names. A file is written as .part-<instance>-<n><ext>.tmp and
// published as part-<epoch>-<seq><ext>; a generation of several files is
// published through a commit marker .sluice-commit-<epoch> in the root.
const (
	tmpPrefix    = ".part-"
	tmpSuffix    = atomicfile.TmpSuffix
	finalPrefix  = "part-"
	markerPrefix = ".sluice-commit-"
)

func sinkOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optPath, Type: connectors.OptString, Required: true,
			Doc: "The directory to write to, created if missing. It may hold partition placeholders filled from each row: {column}, {column:date} (YYYY-MM-DD) or {column:hour} (HH, UTC), as in '/data/bids/dt={window_start:date}/'."},
		{Key: optRollRows, Type: connectors.OptInt, Default: "0",
			Doc: "Start a new file after this many rows; 0 means no limit."},
		{Key: optRollBytes, Type: connectors.OptInt, Default: "134217728",
			Doc: "Start a new file once it holds this many bytes (estimated before compression is complete for Parquet); 0 means no limit."},
		{Key: optRollInterval, Type: connectors.OptDuration, Default: "0",
			Doc: "0 publishes the files at every commit (exactly-once). A longer interval lets a file span epochs, published at the first commit this long after its first row (or then, if no commit comes): fewer, bigger files, but a crash loses the rows of the files not yet published."},
	}
}

// sinkSpec is the file connector's sink side.
func sinkSpec() *connectors.SinkSpec {
	return &connectors.SinkSpec{
		Doc:       "Rows written to files in a directory, optionally partitioned by column values: JSON lines, CSV or Parquet, each file published by an atomic rename at a commit.",
		Options:   sinkOptions(),
		Encodes:   []string{"JSON", "CSV", "PARQUET"},
		Types:     []string{"append-only"},
		Guarantee: "exactly-once",
		NewSink: func(ctx context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
			return NewSink(ctx, cfg)
		},
	}
}

// Sink writes a view's rows to files. See the package documentation for
// the life of a file.
type Sink struct {
	tmpl     template
	schema   types.Schema
	alloc    memory.Allocator
	ext      string
	text     *format.Encoder // JSON or CSV; nil for Parquet
	header   []byte          // a CSV header line, written at the top of each file
	pqSchema *arrow.Schema   // Parquet
	codec    compress.Compression
	maxRows  int64
	maxBytes int64
	interval time.Duration
	instance string // names this sink's temporary files

	mu        sync.Mutex
	pending   []arrow.Record       // the open epoch's rows, retained until Commit
	open      map[string]*partFile // the file being filled, by directory
	gen       []*partFile          // every file of the unpublished generation
	genStart  time.Time            // when the generation got its first row
	lastEpoch uint64               // the last epoch whose rows are in gen
	published uint64               // the highest published epoch
	seq       int                  // temporary files created
	timer     *time.Timer          // publishes a quiet generation
	failed    error                // sticky: the error that broke the sink
	lost      error                // rows a failure could not keep
	closed    bool
	line      []byte
	dirBuf    [2][]byte
}

var (
	_ connectors.Sink          = (*Sink)(nil)
	_ connectors.EpochRecorder = (*Sink)(nil)
)

// NewSink checks the configuration, creates the root directory, finishes a
// publication a crash interrupted, deletes the temporary files a crashed
// writer left, and finds the highest epoch already published.
func NewSink(ctx context.Context, cfg connectors.SinkConfig) (*Sink, error) {
	if cfg.Type != "" && cfg.Type != "append-only" {
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"connector file supports sink type append-only only, not %q", cfg.Type).
			WithHint("A file holds rows, not changes: sink an append-only stream, such as a windowed aggregation with EMIT ON WINDOW CLOSE.")
	}
	if f := strings.ToUpper(cfg.Format.Format); f != "" && f != "PLAIN" {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "connector file supports FORMAT PLAIN only, not FORMAT %s", cfg.Format.Format)
	}
	s := &Sink{schema: cfg.Schema, alloc: cfg.Alloc, open: map[string]*partFile{},
		instance: strconv.FormatUint(rand.Uint64()>>16, 36)}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	var err error
	switch enc := strings.ToUpper(cfg.Format.Encode); enc {
	case "JSON", "CSV":
		if s.text, err = format.NewEncoder(enc, cfg.Format.Options, cfg.Schema, nil); err != nil {
			return nil, err
		}
		s.ext = ".jsonl"
		if enc == "CSV" {
			s.ext = ".csv"
			o, _ := format.ParseCSVOptions(cfg.Format.Options) // checked by NewEncoder
			if o.Header {
				s.header = append(s.text.AppendHeader(nil), '\n')
			}
		}
	case "PARQUET":
		if s.pqSchema, err = parquetSchema(cfg.Schema); err != nil {
			return nil, err
		}
		if s.codec, err = parquetCodec(cfg.Format.Options); err != nil {
			return nil, err
		}
		s.ext = ".parquet"
	case "":
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"a file sink needs FORMAT PLAIN ENCODE JSON, ENCODE CSV or ENCODE PARQUET")
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"a file sink supports ENCODE JSON, CSV or PARQUET, not ENCODE %s", cfg.Format.Encode)
	}

	o := cfg.Options
	path := o.String(optPath)
	if strings.TrimSpace(path) == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be empty", optPath)
	}
	if s.tmpl, err = parseTemplate(path, cfg.Schema); err != nil {
		return nil, err
	}
	if s.maxRows, err = o.Int(optRollRows); err != nil {
		return nil, err
	}
	if s.maxBytes, err = o.Int(optRollBytes); err != nil {
		return nil, err
	}
	if s.maxRows < 0 || s.maxBytes < 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "options %q and %q must not be negative", optRollRows, optRollBytes)
	}
	if s.interval, err = o.Duration(optRollInterval); err != nil {
		return nil, err
	}

	if err := os.MkdirAll(s.tmpl.root, 0o755); err != nil {
		return nil, pgerror.New(pgerror.UndefinedFile, "could not create directory %q: %v", s.tmpl.root, unwrapPath(err))
	}
	if err := recoverDir(s.tmpl.root); err != nil {
		return nil, err
	}
	if s.published, err = lastPublished(s.tmpl.root); err != nil {
		return nil, err
	}
	return s, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// recoverDir finishes the publications whose commit marker exists (the
// crash came between the marker and the renames) and deletes every other
// temporary file: rows a crashed writer had not published.
func recoverDir(root string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("read %s: %w", root, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, markerPrefix) || strings.HasSuffix(name, tmpSuffix) {
			continue
		}
		marker := filepath.Join(root, name)
		data, err := os.ReadFile(marker)
		if err != nil {
			return fmt.Errorf("read %s: %w", marker, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			tmp, final, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			tmp, final = filepath.Join(root, tmp), filepath.Join(root, final)
			if err := os.Rename(tmp, final); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("publish %s: %w", final, err)
			}
		}
		if err := os.Remove(marker); err != nil {
			return fmt.Errorf("remove %s: %w", marker, err)
		}
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.Type().IsRegular() && strings.HasSuffix(name, tmpSuffix) &&
			(strings.HasPrefix(name, tmpPrefix) || strings.HasPrefix(name, markerPrefix)) {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove %s: %w", path, err)
			}
		}
		return nil
	})
}

// lastPublished returns the highest epoch in the name of a published file
// under root, or of a commit marker (whose files count as published).
func lastPublished(root string) (uint64, error) {
	var last uint64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if e, ok := publishedEpoch(d.Name()); ok && e > last {
			last = e
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scan %s: %w", root, err)
	}
	return last, nil
}

// publishedEpoch parses part-<epoch>-<seq>.<ext> or .sluice-commit-<epoch>.
func publishedEpoch(name string) (uint64, bool) {
	if rest, ok := strings.CutPrefix(name, markerPrefix); ok {
		e, err := strconv.ParseUint(rest, 10, 64)
		return e, err == nil
	}
	rest, ok := strings.CutPrefix(name, finalPrefix)
	if !ok {
		return 0, false
	}
	epoch, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	seq, ext, _ := strings.Cut(rest, ".")
	switch ext {
	case "jsonl", "csv", "parquet":
	default:
		return 0, false
	}
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return 0, false
	}
	e, err := strconv.ParseUint(epoch, 10, 64)
	return e, err == nil
}

// LastCommitted returns the highest epoch published in the directory tree.
func (s *Sink) LastCommitted(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, err := lastPublished(s.tmpl.root)
	if err != nil {
		return 0, err
	}
	s.published = max(s.published, last)
	return s.published, nil
}

// Write keeps the batch's rows until Commit says which epoch they belong
// to: only then are they written, so a file never holds part of an epoch.
func (s *Sink) Write(ctx context.Context, b connectors.SinkBatch) error {
	if b.Record == nil || b.Record.NumRows() == 0 {
		return nil
	}
	for i, k := range b.Kinds {
		if k == connectors.RowDelete {
			return fmt.Errorf("file sink: an append-only sink received a delete (row %d)", i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	b.Record.Retain()
	s.pending = append(s.pending, b.Record)
	return nil
}

// Commit writes the epoch's rows into the generation's files and publishes
// the generation when a file is full or rollover.interval has passed. An
// epoch already published (replayed after a restart) is dropped.
func (s *Sink) Commit(ctx context.Context, epoch uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := s.pending
	s.pending = nil
	defer func() {
		for _, r := range pending {
			r.Release()
		}
	}()
	if s.failed != nil {
		return s.failed
	}
	if epoch <= max(s.published, s.lastEpoch) {
		return nil
	}
	for _, rec := range pending {
		if err := ctx.Err(); err != nil {
			s.rollback()
			return err
		}
		if err := s.writeRecord(rec); err != nil {
			s.rollback()
			s.failed = fmt.Errorf("file sink: epoch %d: %w", epoch, err)
			return s.failed
		}
	}
	if err := s.settle(); err != nil {
		s.rollback()
		s.failed = fmt.Errorf("file sink: epoch %d: %w", epoch, err)
		return s.failed
	}
	s.lastEpoch = epoch
	if len(s.gen) == 0 {
		return nil
	}
	due := s.interval == 0 || time.Since(s.genStart) >= s.interval
	for _, pf := range s.gen {
		due = due || pf.full
	}
	if due {
		return s.publish(epoch)
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(s.interval-time.Since(s.genStart), s.onTimer)
	}
	return nil
}

// writeRecord writes rec's rows, each run of rows with the same partition
// directory at once.
func (s *Sink) writeRecord(rec arrow.Record) error {
	n := int(rec.NumRows())
	if s.text != nil {
		s.text.Bind(rec)
	}
	var pq arrow.Record
	if s.pqSchema != nil {
		pq = toParquet(rec, s.schema, s.pqSchema, s.alloc)
		defer pq.Release()
	}
	cur, next := s.dirBuf[0][:0], s.dirBuf[1][:0]
	defer func() { s.dirBuf[0], s.dirBuf[1] = cur, next }()
	for i := 0; i < n; {
		j := n
		if s.tmpl.partitioned() {
			cur = s.tmpl.appendDir(cur[:0], rec, i)
			for j = i + 1; j < n; j++ {
				next = s.tmpl.appendDir(next[:0], rec, j)
				if string(next) != string(cur) {
					break
				}
			}
		}
		dir := s.tmpl.root
		if s.tmpl.partitioned() {
			dir = filepath.Join(s.tmpl.root, string(cur))
		}
		var err error
		if pq != nil {
			err = s.writeParquetRun(dir, pq, i, j)
		} else {
			err = s.writeTextRun(dir, i, j)
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (s *Sink) writeTextRun(dir string, from, to int) error {
	for i := from; i < to; i++ {
		pf, err := s.file(dir)
		if err != nil {
			return err
		}
		s.line = append(s.text.AppendRow(s.line[:0], i), '\n')
		if _, err := pf.w.Write(s.line); err != nil {
			return fmt.Errorf("write %s: %w", pf.tmp, err)
		}
		pf.rows++
		pf.bytes += int64(len(s.line))
		s.checkFull(pf)
	}
	return nil
}

func (s *Sink) writeParquetRun(dir string, rec arrow.Record, from, to int) error {
	for i := from; i < to; {
		pf, err := s.file(dir)
		if err != nil {
			return err
		}
		n := int64(to - i)
		if s.maxRows > 0 {
			n = min(n, s.maxRows-pf.rows)
		}
		part := rec.NewSlice(int64(i), int64(i)+n)
		err = pf.writeParquet(part)
		part.Release()
		if err != nil {
			return err
		}
		s.checkFull(pf)
		i += int(n)
	}
	return nil
}

// checkFull retires a file that reached a rollover limit: the next row of
// its directory starts a new one.
func (s *Sink) checkFull(pf *partFile) {
	if (s.maxRows > 0 && pf.rows >= s.maxRows) || (s.maxBytes > 0 && pf.bytes >= s.maxBytes) {
		pf.full = true
		delete(s.open, pf.dir)
	}
}

// file returns the file being filled in dir, starting one if needed.
func (s *Sink) file(dir string) (*partFile, error) {
	if pf := s.open[dir]; pf != nil {
		return pf, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory %s: %w", dir, unwrapPath(err))
	}
	s.seq++
	pf := &partFile{dir: dir, tmp: filepath.Join(dir, fmt.Sprintf("%s%s-%d%s%s", tmpPrefix, s.instance, s.seq, s.ext, tmpSuffix))}
	f, err := os.OpenFile(pf.tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", pf.tmp, unwrapPath(err))
	}
	pf.f, pf.w = f, bufio.NewWriterSize(f, textBuffer)
	if s.pqSchema != nil {
		if pf.pq, err = newParquetWriter(pf.w, s.pqSchema, s.codec, s.alloc); err != nil {
			pf.discard()
			return nil, fmt.Errorf("create %s: %w", pf.tmp, err)
		}
	} else if s.header != nil {
		pf.w.Write(s.header)
		pf.bytes = int64(len(s.header))
	}
	if len(s.gen) == 0 {
		s.genStart = time.Now()
	}
	s.gen = append(s.gen, pf)
	s.open[dir] = pf
	return pf, nil
}

// settle marks what the files hold as committed: text is flushed to the
// file, so that a later failure can truncate back to it.
func (s *Sink) settle() error {
	for _, pf := range s.gen {
		if pf.rows == pf.committedRows {
			continue
		}
		if pf.pq == nil {
			if err := pf.w.Flush(); err != nil {
				return fmt.Errorf("write %s: %w", pf.tmp, err)
			}
		}
		pf.committedRows, pf.committedBytes = pf.rows, pf.bytes
	}
	return nil
}

// rollback takes out of the files the rows of a Commit that failed. A JSON
// or CSV file is truncated to its committed length; a Parquet file cannot
// be, and with it go the rows earlier commits put there, which s.lost
// reports.
func (s *Sink) rollback() {
	kept := s.gen[:0]
	var lost int64
	for _, pf := range s.gen {
		switch {
		case pf.rows == pf.committedRows:
			kept = append(kept, pf)
			continue
		case pf.committedRows == 0:
			pf.discard()
		case pf.pq != nil:
			lost += pf.committedRows
			pf.discard()
		default:
			err := pf.f.Truncate(pf.committedBytes)
			if err == nil {
				_, err = pf.f.Seek(pf.committedBytes, 0)
			}
			if err != nil {
				lost += pf.committedRows
				pf.discard()
				break
			}
			pf.w.Reset(pf.f)
			pf.rows, pf.bytes = pf.committedRows, pf.committedBytes
			pf.full = false
			kept = append(kept, pf)
			continue
		}
		if s.open[pf.dir] == pf {
			delete(s.open, pf.dir)
		}
	}
	s.gen = kept
	for dir, pf := range s.open {
		if pf.full || pf.f == nil {
			delete(s.open, dir)
		}
	}
	if lost > 0 {
		s.lost = errors.Join(s.lost, fmt.Errorf("file sink: a failed write lost %d committed rows of an unpublished Parquet file", lost))
	}
}

// onTimer publishes a generation that rollover.interval has made due while
// no commit came.
func (s *Sink) onTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = nil
	if s.closed || s.failed != nil || len(s.gen) == 0 {
		return
	}
	if wait := s.interval - time.Since(s.genStart); wait > 0 {
		s.timer = time.AfterFunc(wait, s.onTimer)
		return
	}
	// Every row in the files belongs to an epoch committed at or before
	// lastEpoch, so the files may carry its name.
	if err := s.publish(s.lastEpoch); err != nil {
		s.failed = err
	}
}

// publish completes the generation's files and renames them to their final
// names, part-<epoch>-<seq>, all or none: several files are renamed under a
// commit marker that NewSink completes after a crash.
func (s *Sink) publish(epoch uint64) error {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	files := s.gen
	s.gen, s.genStart = nil, time.Time{}
	clear(s.open)
	var err error
	for _, pf := range files {
		if ferr := pf.finish(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		for _, pf := range files {
			pf.discard()
		}
		return s.publishFailed(epoch, err)
	}
	finals := make([]string, len(files))
	for i, pf := range files {
		finals[i] = filepath.Join(pf.dir, fmt.Sprintf("%s%d-%04d%s", finalPrefix, epoch, i+1, s.ext))
	}
	marker := ""
	if len(files) > 1 {
		var b strings.Builder
		for i, pf := range files {
			tmp, _ := filepath.Rel(s.tmpl.root, pf.tmp)
			final, _ := filepath.Rel(s.tmpl.root, finals[i])
			fmt.Fprintf(&b, "%s\t%s\n", tmp, final)
		}
		marker = filepath.Join(s.tmpl.root, markerPrefix+strconv.FormatUint(epoch, 10))
		if err := atomicfile.Write(marker, 0o644, func(w io.Writer) error {
			_, err := io.WriteString(w, b.String())
			return err
		}); err != nil {
			for _, pf := range files {
				pf.discard()
			}
			return s.publishFailed(epoch, err)
		}
	}
	// From here the generation is published: a crash is finished by
	// recoverDir.
	s.published = epoch
	dirs := map[string]bool{}
	for i, pf := range files {
		if rerr := os.Rename(pf.tmp, finals[i]); rerr != nil && err == nil {
			err = rerr
		}
		dirs[pf.dir] = true
	}
	for dir := range dirs {
		atomicfile.SyncDir(dir)
	}
	if err == nil && marker != "" {
		err = os.Remove(marker)
		atomicfile.SyncDir(s.tmpl.root)
	}
	if err != nil {
		s.failed = fmt.Errorf("file sink: publishing epoch %d: %w", epoch, err)
		return s.failed
	}
	return nil
}

func (s *Sink) publishFailed(epoch uint64, err error) error {
	s.failed = fmt.Errorf("file sink: publishing epoch %d: %w", epoch, err)
	s.lost = errors.Join(s.lost, s.failed)
	return s.failed
}

// Close publishes the rows of committed epochs that wait in unpublished
// files (named after the last committed epoch) and drops the rest.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	for _, r := range s.pending {
		r.Release()
	}
	s.pending = nil
	var err error
	if len(s.gen) > 0 {
		if s.lastEpoch > s.published {
			err = s.publish(s.lastEpoch)
		} else {
			for _, pf := range s.gen {
				pf.discard()
			}
			s.gen = nil
		}
	}
	return errors.Join(err, s.lost)
}
