package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Option keys.
const (
	optPath      = "path"
	optStartup   = "scan.startup.mode"
	optPoll      = "poll.interval"
	optBatchSize = "batch.size"
)

// maxRecordBytes bounds one record: a line longer than this (or a CSV quote
// that is never closed) is reported as a bad record and skipped up to the
// next newline, rather than buffered without limit.
const maxRecordBytes = 16 << 20

// readChunk is how much is read from a file at a time.
const readChunk = 64 << 10

// maxRawBytes bounds how much of a bad record is kept in its RecordError.
const maxRawBytes = 1 << 10

// Connector describes the file source and sink.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "file",
		Sink: sinkSpec(),
		Doc:  "JSON lines or CSV read from files, then followed as lines are appended (like tail -f).",
		Options: []connectors.Option{
			{Key: optPath, Type: connectors.OptString, Required: true,
				Doc: "The file to read, or a glob pattern such as '/data/*.json'; each matched file is one split."},
			{Key: optStartup, Type: connectors.OptEnum, Default: "earliest", Values: []string{"earliest", "latest"},
				Doc: "Where a new reader starts in each file: earliest (the beginning) or latest (after the last complete line)."},
			{Key: optPoll, Type: connectors.OptDuration, Default: "100ms",
				Doc: "How often a file whose end has been reached is checked for appended data."},
			{Key: optBatchSize, Type: connectors.OptInt, Default: "1024",
				Doc: "The most records in one batch; a batch does not wait to be full."},
		},
		Encodes:   []string{"JSON", "CSV"},
		NewSource: NewSource,
	}
}

// Source is a file source: one split per file matching its path.
type Source struct {
	pattern   string
	glob      bool
	schema    types.Schema
	format    connectors.Format
	alloc     memory.Allocator
	latest    bool
	poll      time.Duration
	batchSize int
}

var _ connectors.Source = (*Source)(nil)

// NewSource checks the configuration, including that the path names at
// least one file, and returns the source.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
	s := &Source{
		pattern: cfg.Options.String(optPath),
		schema:  cfg.Schema,
		format:  cfg.Format,
		alloc:   cfg.Alloc,
		latest:  strings.EqualFold(cfg.Options.String(optStartup), "latest"),
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	var err error
	if s.poll, err = cfg.Options.Duration(optPoll); err != nil {
		return nil, err
	}
	if s.poll <= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be positive", optPoll)
	}
	n, err := cfg.Options.Int(optBatchSize)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<20 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and %d", optBatchSize, 1<<20)
	}
	s.batchSize = int(n)
	if s.pattern == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be empty", optPath)
	}
	if cfg.Format.Encode == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"connector file needs FORMAT PLAIN ENCODE JSON or ENCODE CSV")
	}
	// Build a decoder once, to check the encoding, its options and the
	// column types now rather than when the first split is opened.
	dec, err := format.NewFormatDecoder(cfg.Format.Format, cfg.Format.Encode, cfg.Format.Options, cfg.Schema, s.alloc)
	if err != nil {
		return nil, err
	}
	dec.Release()

	s.glob = strings.ContainsAny(s.pattern, "*?[")
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, pgerror.New(pgerror.UndefinedFile, "no file matches path %q", s.pattern)
	}
	if !s.glob {
		fi, err := os.Stat(s.pattern)
		if err != nil {
			return nil, openErr(s.pattern, err)
		}
		if fi.IsDir() {
			return nil, pgerror.New(pgerror.UndefinedFile, "could not open file %q for reading: it is a directory", s.pattern).
				WithHint("Use a glob pattern such as '%s' to read the files in a directory.", filepath.Join(s.pattern, "*"))
		}
	}
	return s, nil
}

// files lists the files the path names now, sorted.
func (s *Source) files() ([]string, error) {
	if !s.glob {
		return []string{s.pattern}, nil
	}
	matches, err := filepath.Glob(s.pattern)
	if err != nil {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid glob pattern %q: %v", s.pattern, err)
	}
	files := matches[:0]
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			files = append(files, m)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Splits lists one split per file the path matches now; the split's ID is
// the file's path.
func (s *Source) Splits(ctx context.Context) ([]connectors.Split, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	splits := make([]connectors.Split, len(files))
	for i, f := range files {
		splits[i] = connectors.Split{ID: f}
	}
	return splits, nil
}

func openErr(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return pgerror.New(pgerror.UndefinedFile, "could not open file %q for reading: no such file or directory", path)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// Open starts reading the file split.ID at pos, a byte offset just after a
// complete line (as a Batch reported it), or where scan.startup.mode says
// when pos is empty.
func (s *Source) Open(ctx context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	f, err := os.Open(split.ID)
	if err != nil {
		return nil, openErr(split.ID, err)
	}
	r, err := s.newReader(f, split.ID, pos)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (s *Source) newReader(f *os.File, name string, pos connectors.Position) (*reader, error) {
	var start int64
	var err error
	switch {
	case pos != "":
		start, err = strconv.ParseInt(string(pos), 10, 64)
		if err != nil || start < 0 {
			return nil, fmt.Errorf("file %s: invalid position %q", name, pos)
		}
	case s.latest:
		if start, err = afterLastNewline(f); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	dec, err := format.NewFormatDecoder(s.format.Format, s.format.Encode, s.format.Options, s.schema, s.alloc)
	if err != nil {
		return nil, err
	}
	r := &reader{
		f:         f,
		name:      name,
		dec:       dec,
		batchSize: s.batchSize,
		poll:      s.poll,
	}
	if hd, ok := dec.(format.HeaderDecoder); ok && hd.WantsHeader() {
		r.header = hd
	}
	if err := r.seek(start); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// afterLastNewline returns the offset just after the file's last newline,
// or 0 when it has none: where reading starts to see only new lines (a
// partial last line is still being written and will be read once complete).
func afterLastNewline(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, readChunk)
	for end := fi.Size(); end > 0; {
		start := max(end-readChunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// reader reads one file: records complete in buf are decoded, more is read
// when they run out, and at the end of the file it polls for appended data.
type reader struct {
	f         *os.File
	name      string
	dec       format.Decoder
	header    format.HeaderDecoder // nil unless records start with a header
	batchSize int
	poll      time.Duration
	ticker    *time.Ticker

	store []byte // backing array of buf
	buf   []byte // read but not yet consumed; buf[0] is at file offset pos
	pos   int64  // the offset after the last consumed record: the Position
	line  int64  // the line number of buf[0]
	// needHeader is set while the next record is the file's header.
	needHeader bool
	// discarding is set while skipping the rest of an over-long record.
	discarding bool
}

// seek positions the reader at offset start, which must follow a complete
// record. It counts the lines before start, for error locations, and reads
// the header when the file has one and start is past it.
func (r *reader) seek(start int64) error {
	r.buf = r.store[:0]
	r.pos = start
	r.line = 1
	r.discarding = false
	r.needHeader = r.header != nil && start == 0
	if start > 0 {
		chunk := make([]byte, readChunk)
		for off := int64(0); off < start; {
			n, err := r.f.ReadAt(chunk[:min(int64(len(chunk)), start-off)], off)
			r.line += int64(bytes.Count(chunk[:n], []byte{'\n'}))
			off += int64(n)
			if err == io.EOF {
				return fmt.Errorf("file %s: position %d is past its end (%d bytes)", r.name, start, off)
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", r.name, err)
			}
		}
		if r.header != nil {
			if err := r.readHeader(); err != nil {
				return err
			}
		}
	}
	if _, err := r.f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s: %w", r.name, err)
	}
	return nil
}

// readHeader reads the file's first record as its header, for a reader that
// resumes past it.
func (r *reader) readHeader() error {
	var head []byte
	chunk := make([]byte, readChunk)
	for off := int64(0); ; {
		n, err := r.f.ReadAt(chunk, off)
		head = append(head, chunk[:n]...)
		off += int64(n)
		if k := r.header.Frame(head); k >= 0 {
			if err := r.header.SetHeader(head[:k]); err != nil {
				return fmt.Errorf("file %s: line 1: %w", r.name, err)
			}
			return nil
		}
		if err == io.EOF || len(head) > maxRecordBytes {
			return fmt.Errorf("file %s: no complete header line", r.name)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", r.name, err)
		}
	}
}

// Next returns the records available now, up to batch.size, or waits, polling
// every poll.interval, until some are appended. Rows already decoded are
// always returned: an error met after them (a cancelled context, a failed
// read) is reported by the next call.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	var b connectors.Batch
	records := 0
	for records < r.batchSize {
		if err := ctx.Err(); err != nil {
			if records > 0 {
				break
			}
			return connectors.Batch{}, err
		}
		records += r.decodeBuffered(&b, r.batchSize-records)
		if records == r.batchSize {
			break
		}
		n, err := r.fill()
		if err != nil {
			if records > 0 {
				break
			}
			return connectors.Batch{}, err
		}
		if n > 0 {
			continue
		}
		if records > 0 {
			break
		}
		if err := r.wait(ctx); err != nil {
			return connectors.Batch{}, err
		}
	}
	if r.dec.Len() > 0 {
		var deletes []bool
		b.Record, deletes = format.FinishChanges(r.dec)
		b.Kinds = connectors.KindsOf(deletes)
	}
	b.Position = connectors.Position(strconv.FormatInt(r.pos, 10))
	return b, nil
}

// decodeBuffered decodes up to limit complete records from buf into b and
// returns how many it took (rows and bad records; blank lines and the header
// do not count).
func (r *reader) decodeBuffered(b *connectors.Batch, limit int) int {
	taken := 0
	for taken < limit && len(r.buf) > 0 {
		if r.discarding {
			i := bytes.IndexByte(r.buf, '\n')
			if i < 0 {
				r.consume(b, len(r.buf), 0)
				return taken
			}
			r.consume(b, i+1, 1)
			r.discarding = false
			continue
		}
		n := r.dec.Frame(r.buf)
		if n < 0 {
			if len(r.buf) > maxRecordBytes {
				b.Errors = append(b.Errors, r.recordError(r.buf,
					fmt.Errorf("record is longer than %d bytes", maxRecordBytes)))
				taken++
				r.discarding = true
				continue
			}
			return taken
		}
		rec := r.buf[:n]
		lines := int64(bytes.Count(rec, []byte{'\n'}))
		switch {
		case format.IsBlank(rec):
		case r.needHeader:
			if err := r.header.SetHeader(rec); err != nil {
				b.Errors = append(b.Errors, r.recordError(rec, err))
				taken++
			} else {
				r.needHeader = false
			}
		default:
			if err := r.dec.Append(rec); err != nil {
				b.Errors = append(b.Errors, r.recordError(rec, err))
			}
			taken++
		}
		r.consume(b, n, lines)
	}
	return taken
}

func (r *reader) consume(b *connectors.Batch, n int, lines int64) {
	r.buf = r.buf[n:]
	r.pos += int64(n)
	r.line += lines
	b.Bytes += int64(n)
}

func (r *reader) recordError(rec []byte, err error) connectors.RecordError {
	raw := bytes.TrimRight(rec[:min(len(rec), maxRawBytes)], "\r\n")
	return connectors.RecordError{
		Where: fmt.Sprintf("line %d of %s", r.line, r.name),
		Err:   err,
		Raw:   bytes.Clone(raw),
	}
}

// fill reads what the file has beyond buf, returning 0 at its end.
func (r *reader) fill() (int, error) {
	if len(r.buf) == 0 {
		r.buf = r.store[:0]
	}
	if cap(r.buf)-len(r.buf) < readChunk {
		// Move the unconsumed bytes to the front, growing the store when
		// they fill more than half of it.
		size := max(cap(r.store), readChunk*2)
		if len(r.buf)*2 > size {
			size = len(r.buf) * 2
		}
		if size != cap(r.store) {
			r.store = make([]byte, 0, size)
		}
		n := copy(r.store[:len(r.buf)], r.buf)
		r.buf = r.store[:n]
	}
	end := len(r.buf)
	n, err := r.f.Read(r.buf[end:cap(r.buf)])
	r.buf = r.buf[:end+n]
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		return n, fmt.Errorf("read %s: %w", r.name, err)
	}
	return n, nil
}

// wait blocks until the next poll, then notices a truncated file: when the
// file is now shorter than what was read, it has been truncated or rewritten
// in place, and reading starts again from its beginning as tail -f does.
func (r *reader) wait(ctx context.Context) error {
	if r.ticker == nil {
		r.ticker = time.NewTicker(r.poll)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ticker.C:
	}
	fi, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", r.name, err)
	}
	if fi.Size() < r.pos+int64(len(r.buf)) {
		return r.seek(0)
	}
	return nil
}

// Close releases the file and the decoder.
func (r *reader) Close() error {
	if r.ticker != nil {
		r.ticker.Stop()
	}
	r.dec.Release()
	return r.f.Close()
}
