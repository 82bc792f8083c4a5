package file

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// partFile is one output file, written under its temporary name until the
// generation it belongs to is published.
type partFile struct {
	dir string // the partition's directory
	tmp string // the temporary path
	f   *os.File
	w   *bufio.Writer
	pq  *pqarrow.FileWriter // nil for JSON and CSV

	rows  int64
	bytes int64 // exact for JSON and CSV, an estimate for Parquet
	full  bool  // a rollover limit was reached: rows go to a new file
	// The rows and bytes at the end of the last successful Commit, to
	// which a failed Commit rolls the file back.
	committedRows, committedBytes int64
}

// textBuffer is the buffered writer size of a file.
const textBuffer = 64 << 10

// parquetRowGroupBytes bounds the (estimated, compressed) size of the row
// group a Parquet writer keeps in memory before it writes it out.
const parquetRowGroupBytes = 64 << 20

// parquetSchema is the Arrow schema a Parquet file is written with: every
// column's own Arrow type, so that timestamps stay timestamps (with zone
// UTC for timestamptz), dates dates and so on, except INTERVAL, which
// Parquet cannot hold as Sluice stores it (months, days and nanoseconds)
// and is written as PostgreSQL's text. Each field records its SQL type in
// the metadata key sluice.type; every field is nullable.
func parquetSchema(schema types.Schema) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(schema))
	for i, c := range schema {
		t := c.Type.Arrow()
		switch c.Type {
		case types.Bool, types.Int2, types.Int4, types.Int8, types.Float4, types.Float8, types.Numeric,
			types.Text, types.Varchar, types.JSONB, types.Bytea, types.Date, types.Time,
			types.Timestamp, types.TimestampTZ:
		case types.Interval:
			t = arrow.BinaryTypes.String
		default:
			return nil, pgerror.New(pgerror.FeatureNotSupported,
				"column %q: writing type %s to Parquet is not supported", c.Name, c.Type)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: true,
			Metadata: arrow.NewMetadata([]string{"sluice.type"}, []string{c.Type.String()})}
	}
	return arrow.NewSchema(fields, nil), nil
}

// parquetCodec reads ENCODE PARQUET (compression = '...').
func parquetCodec(opts map[string]string) (compress.Compression, error) {
	codec := compress.Codecs.Snappy
	for k, v := range opts {
		if !strings.EqualFold(k, "compression") {
			return codec, pgerror.New(pgerror.InvalidParameterValue,
				"unknown ENCODE PARQUET option %q (known options: compression)", k)
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "snappy":
			codec = compress.Codecs.Snappy
		case "zstd":
			codec = compress.Codecs.Zstd
		case "gzip":
			codec = compress.Codecs.Gzip
		case "none", "uncompressed":
			codec = compress.Codecs.Uncompressed
		default:
			return codec, pgerror.New(pgerror.InvalidParameterValue,
				"invalid value for ENCODE PARQUET option \"compression\": %q is not one of snappy, zstd, gzip, none", v)
		}
	}
	return codec, nil
}

// toParquet returns rec with the columns Parquet cannot hold as stored
// (intervals) turned into text, under schema pq.
func toParquet(rec arrow.Record, schema types.Schema, pq *arrow.Schema, alloc memory.Allocator) arrow.Record {
	cols := make([]arrow.Array, len(schema))
	for i, c := range schema {
		col := rec.Column(i)
		if c.Type != types.Interval {
			col.Retain()
			cols[i] = col
			continue
		}
		b := array.NewStringBuilder(alloc)
		var buf []byte
		for r := 0; r < col.Len(); r++ {
			if col.IsNull(r) {
				b.AppendNull()
				continue
			}
			buf = types.AppendText(buf[:0], col, r, c.Type)
			b.BinaryBuilder.Append(buf)
		}
		cols[i] = b.NewArray()
		b.Release()
	}
	out := array.NewRecordBatch(pq, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out
}

// newParquetWriter starts a Parquet file on w.
func newParquetWriter(w *bufio.Writer, schema *arrow.Schema, codec compress.Compression, alloc memory.Allocator) (*pqarrow.FileWriter, error) {
	props := parquet.NewWriterProperties(
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(1<<20),
		parquet.WithAllocator(alloc),
	)
	return pqarrow.NewFileWriter(schema, w, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(alloc)))
}

// writeParquet appends rec to a Parquet file, starting a new row group when
// the one in memory is big enough.
func (pf *partFile) writeParquet(rec arrow.Record) error {
	if err := pf.pq.WriteBuffered(rec); err != nil {
		return fmt.Errorf("write %s: %w", pf.tmp, err)
	}
	pf.rows += rec.NumRows()
	if pf.pq.RowGroupTotalCompressedBytes() >= parquetRowGroupBytes {
		pf.pq.NewBufferedRowGroup()
	}
	pf.bytes = pf.pq.TotalCompressedBytes()
	return nil
}

// finish completes the file (a Parquet file gets its footer), syncs it to
// disk and closes it.
func (pf *partFile) finish() error {
	if pf.f == nil {
		return nil
	}
	var err error
	if pf.pq != nil {
		err = pf.pq.Close()
		pf.pq = nil
	}
	if err == nil {
		err = pf.w.Flush()
	}
	if err == nil {
		err = pf.f.Sync()
	}
	if cerr := pf.f.Close(); err == nil {
		err = cerr
	}
	pf.f = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", pf.tmp, err)
	}
	return nil
}

// discard closes and removes the file.
func (pf *partFile) discard() {
	if pf.pq != nil {
		pf.pq.Close()
		pf.pq = nil
	}
	if pf.f != nil {
		pf.f.Close()
		pf.f = nil
	}
	os.Remove(pf.tmp)
}
