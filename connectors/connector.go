package connectors

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// Source is an external stream, as configured by one CREATE SOURCE.
type Source interface {
	// Splits lists the independently readable parts of the stream (Kafka
	// partitions, files, generator shards). Each split has its own
	// watermark.
	Splits(ctx context.Context) ([]Split, error)
	// Open starts reading split at pos; an empty pos means the start
	// position the source's options ask for.
	Open(ctx context.Context, split Split, pos Position) (Reader, error)
}

// Split is a part of a source, named uniquely within it.
type Split struct {
	ID string
}

// Position is an opaque, serialisable place in a split from which reading can
// resume: a file offset, a Kafka offset, a generator sequence number.
type Position string

// Reader reads one split.
type Reader interface {
	// Next blocks until at least one row, an error row, or the end is
	// available and returns it. A bounded split that is exhausted returns
	// (Batch{}, io.EOF). It returns ctx's error when ctx is cancelled.
	Next(ctx context.Context) (Batch, error)
	// Close releases the reader.
	Close() error
}

// Batch is what a reader produced: rows in the source's schema, and the
// records that could not be decoded.
type Batch struct {
	// Record has the source's schema (types.Schema.Arrow()); it may be nil
	// when a batch carries only errors. The caller releases it.
	Record arrow.Record
	// Position is the place after the last record of the batch.
	Position Position
	// Errors are the records of the batch that were skipped.
	Errors []RecordError
	// Bytes is the number of input bytes the batch consumed.
	Bytes int64
}

// RecordError describes one input record that was skipped.
type RecordError struct {
	// Where locates the record: "line 17", "partition 2 offset 1234".
	Where string
	// Err says why it was skipped.
	Err error
	// Raw is the record as received (possibly truncated), for dead letters.
	Raw []byte
}

// SourceConfig is a CREATE SOURCE statement's connector-facing part.
type SourceConfig struct {
	// Name is the source's name in the catalog.
	Name string
	// Schema is the declared columns, in order.
	Schema types.Schema
	// Options are the WITH options, already validated against the
	// connector's declared Options and defaulted.
	Options Options
	// Format is FORMAT ... ENCODE ... (...); zero for connectors that produce
	// typed rows themselves (datagen, nexmark).
	Format Format
	// Alloc allocates Arrow memory.
	Alloc memory.Allocator
}

// Format is the FORMAT and ENCODE clause.
type Format struct {
	Format  string            // "PLAIN" (upper case)
	Encode  string            // "JSON", "CSV" (upper case)
	Options map[string]string // ENCODE CSV (header = 'true', delimiter = ',')
}

// Connector describes one kind of source (and later sink).
type Connector struct {
	// Name is the value of the `connector` option.
	Name string
	// Doc is one line for the README and DESCRIBE.
	Doc string
	// Options are every option the connector accepts besides `connector`.
	// A key may end in ".*" to accept a family (fields.*.kind).
	Options []Option
	// Encodes lists the ENCODE values the source accepts; nil means the
	// source takes no FORMAT clause.
	Encodes []string
	// NewSource builds a source from a validated configuration; it may check
	// the outside world (a file that does not exist is an error here).
	NewSource func(ctx context.Context, cfg SourceConfig) (Source, error)
}

// Option declares one connector option.
type Option struct {
	Key      string
	Type     OptionType
	Default  string // empty: no default
	Required bool
	Doc      string
	// Values are the accepted values of an OptEnum option, compared
	// case-insensitively; nil falls back to the list after "one of" in Doc.
	Values []string
}

// OptionType is the type of an option's value, used for validation.
type OptionType string

const (
	OptString   OptionType = "string"
	OptInt      OptionType = "integer"
	OptFloat    OptionType = "number"
	OptBool     OptionType = "boolean"
	OptDuration OptionType = "duration" // '5s', '100ms', or an integer of milliseconds
	OptEnum     OptionType = "enum"     // one of the values in Doc's "one of"
)

// Options are validated option values by key.
type Options map[string]string
