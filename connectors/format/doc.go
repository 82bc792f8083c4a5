// Package format decodes the records of FORMAT PLAIN ENCODE JSON and ENCODE
// CSV straight into Arrow builders for a source's schema.
//
// A Decoder is given one record at a time (a JSON object, a CSV record) and
// appends it as one row; Finish turns the rows appended so far into an
// arrow.Record. Transports (files, Kafka, HTTP) frame records with the
// decoder's Frame method, which knows that a quoted CSV field may contain a
// newline, and stay ignorant of the encoding otherwise.
//
// # Invariant: a record is all or nothing
//
// A record that does not decode (bad syntax, a value that does not fit its
// column) is reported by Append and leaves no trace in the builders. Values
// are staged per column in a slot (an int64, a float64, a byte slice into the
// input or into a per-record scratch buffer) and appended to the builders
// only after the whole record has been read. Because slots point into the
// input, nothing is copied for the common case of a string without escapes,
// and a decoder allocates nothing per record once its buffers have grown.
//
// # JSON
//
// The JSON scanner is our own: a single pass over the record's bytes that
// validates as it goes (strings, numbers, literals, nesting up to a depth
// limit) and dispatches each value on the target column's type. It was
// chosen over encoding/json and the fast reflection-free libraries because
// all of them either build a generic value tree (a map per record) or
// decode into Go structs, and a source's schema is only known at run time;
// their token APIs return interface values or copy strings. Writing into
// Arrow needs none of that: keys are compared as bytes against the column
// names (the column expected next is tried first, since records of one
// stream keep their key order), numbers are parsed from their bytes, and
// nested objects and arrays are only validated and kept as JSON text.
//
// Conversions follow the column type: JSON numbers into integer columns must
// be integral and in range; into timestamp columns they are epoch
// milliseconds; strings are parsed with PostgreSQL's input syntax for the
// column's type (so "12.5" fills a double precision column); objects and
// arrays fill jsonb and text columns with their JSON text; a JSON string in
// a jsonb column is kept as the JSON string value. Missing keys and null are
// SQL NULL; unknown keys are ignored.
//
// # CSV
//
// RFC 4180: fields separated by a delimiter (',' by default), quoted with
// '"' when they contain the delimiter, a quote or a newline, quotes inside a
// quoted field doubled. With header = 'true' the first record of each stream
// names the fields and they are matched to columns by name (unmatched fields
// are ignored, unmatched columns are NULL); without, field i fills column i
// and each record must have exactly one field per column. An empty field is
// NULL, except in a text column, where it is the empty string.
package format
