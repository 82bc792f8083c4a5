package format

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// A Decoder turns records of one encoding into rows of a schema, appended
// straight to Arrow builders. A Decoder belongs to one reader at a time.
type Decoder interface {
	// Frame returns the length of the first complete record of data,
	// including the newline that ends it, or -1 if data does not hold a
	// complete record yet.
	Frame(data []byte) int
	// Append decodes one record (a trailing newline is ignored) and appends
	// it as one row. If the record is bad it returns why and appends
	// nothing. The decoder does not keep record after Append returns.
	Append(record []byte) error
	// Len is the number of rows appended since the last Finish.
	Len() int
	// Finish returns the rows appended since the last Finish as a record
	// of the schema (the caller releases it) and starts a new batch.
	Finish() arrow.Record
	// Release frees the decoder's builders.
	Release()
}

// A HeaderDecoder may expect each stream (each file) to start with a header
// record that is not a row.
type HeaderDecoder interface {
	Decoder
	// WantsHeader reports whether streams start with a header.
	WantsHeader() bool
	// SetHeader takes record as the current stream's header.
	SetHeader(record []byte) error
}

var (
	_ Decoder       = (*JSONDecoder)(nil)
	_ HeaderDecoder = (*CSVDecoder)(nil)
)

// Encodes lists the ENCODE values NewDecoder understands.
var Encodes = []string{"JSON", "CSV"}

// NewDecoder returns a decoder for ENCODE encode (case-insensitive) with its
// options, producing rows of schema. An unknown encoding, an unknown option
// or a column type the encoding cannot fill is an error.
func NewDecoder(encode string, opts map[string]string, schema types.Schema, alloc memory.Allocator) (Decoder, error) {
	switch strings.ToUpper(encode) {
	case "JSON":
		for k := range opts {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unknown ENCODE JSON option %q (ENCODE JSON takes no options)", k)
		}
		return NewJSONDecoder(schema, alloc)
	case "CSV":
		o, err := ParseCSVOptions(opts)
		if err != nil {
			return nil, err
		}
		return NewCSVDecoder(schema, o, alloc)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported,
		"ENCODE %s is not supported (supported: %s)", encode, strings.Join(Encodes, ", "))
}

// ChangeDecoder is a Decoder of change events (FORMAT DEBEZIUM), whose rows
// either set or remove the row of their key.
type ChangeDecoder interface {
	Decoder
	// Deletes says, for each row appended since the last Finish, whether
	// it removes its key; call it before Finish.
	Deletes() []bool
}

var _ ChangeDecoder = (*DebeziumDecoder)(nil)

// NewFormatDecoder returns the decoder of FORMAT format ENCODE encode:
// PLAIN (or no FORMAT word) decodes rows as NewDecoder does, DEBEZIUM decodes
// Debezium change events (ENCODE JSON only) into a ChangeDecoder.
func NewFormatDecoder(format, encode string, opts map[string]string, schema types.Schema, alloc memory.Allocator) (Decoder, error) {
	switch strings.ToUpper(format) {
	case "", "PLAIN":
		return NewDecoder(encode, opts, schema, alloc)
	case "DEBEZIUM":
		if !strings.EqualFold(encode, "JSON") || len(opts) > 0 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "FORMAT DEBEZIUM takes ENCODE JSON without options, not ENCODE %s", encode)
		}
		return NewDebeziumDecoder(schema, alloc)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "FORMAT %s is not supported (supported: PLAIN, DEBEZIUM)", format)
}

// FinishChanges finishes dec's batch and, for a ChangeDecoder, says which
// rows remove their key (nil when none does).
func FinishChanges(dec Decoder) (arrow.Record, []bool) {
	var deletes []bool
	if cd, ok := dec.(ChangeDecoder); ok {
		for i, del := range cd.Deletes() {
			if del {
				if deletes == nil {
					deletes = make([]bool, len(cd.Deletes()))
				}
				deletes[i] = true
			}
		}
	}
	return dec.Finish(), deletes
}

// IsBlank reports whether a record holds only whitespace; line-oriented
// sources skip such records.
func IsBlank(record []byte) bool {
	for _, c := range record {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
