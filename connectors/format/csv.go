package format

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// CSVOptions are the options of ENCODE CSV (...).
type CSVOptions struct {
	// Header says the first record of each stream names the columns; fields
	// are then matched to columns by name instead of by position.
	Header bool
	// Delimiter separates fields; ',' by default.
	Delimiter byte
}

// invalidUTF8 rejects a record that is not UTF-8, the only encoding of
// Sluice's text.
func invalidUTF8() error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "invalid byte sequence for encoding \"UTF8\"")
}

// csvOptionKeys are the ENCODE CSV options, for error messages.
var csvOptionKeys = []string{"delimiter", "header"}

// ParseCSVOptions reads ENCODE CSV (header = 'true', delimiter = ',').
// Unknown keys and bad values are errors with SQLSTATE 22023.
func ParseCSVOptions(opts map[string]string) (CSVOptions, error) {
	o := CSVOptions{Delimiter: ','}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch strings.ToLower(k) {
		case "header":
			b, ok := parseBool([]byte(strings.TrimSpace(v)))
			if !ok {
				return o, pgerror.New(pgerror.InvalidParameterValue,
					"invalid value for ENCODE CSV option \"header\": %q is not a boolean", v)
			}
			o.Header = b
		case "delimiter":
			d := v
			if d == `\t` {
				d = "\t"
			}
			if len(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r' {
				return o, pgerror.New(pgerror.InvalidParameterValue,
					"invalid value for ENCODE CSV option \"delimiter\": %q is not a single character other than a quote or newline", v)
			}
			o.Delimiter = d[0]
		default:
			return o, pgerror.New(pgerror.InvalidParameterValue,
				"unknown ENCODE CSV option %q (known options: %s)", k, strings.Join(csvOptionKeys, ", "))
		}
	}
	return o, nil
}

// CSVDecoder decodes CSV records (RFC 4180: fields may be quoted with '"',
// a quote inside a quoted field is doubled, and a quoted field may span
// lines) into rows. Without a header, field i is column i and every record
// must have one field per column; with a header, fields are matched to
// columns by name, unmatched fields are ignored and unmatched columns are
// NULL. An empty field is NULL, except in a text column, where it is the
// empty string.
type CSVDecoder struct {
	row  *rowBuilder
	opts CSVOptions
	// target maps field positions to columns (-1: ignored). Without a header
	// it is the identity.
	target []int
	// fields holds the current record's fields, reused across records.
	fields []csvField
}

type csvField struct {
	value  []byte
	quoted bool
}

// NewCSVDecoder returns a decoder of CSV records into rows of schema.
func NewCSVDecoder(schema types.Schema, opts CSVOptions, alloc memory.Allocator) (*CSVDecoder, error) {
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	row, err := newRowBuilder(schema, alloc)
	if err != nil {
		return nil, err
	}
	d := &CSVDecoder{row: row, opts: opts}
	if !opts.Header {
		d.target = make([]int, len(schema))
		for i := range d.target {
			d.target[i] = i
		}
	}
	return d, nil
}

// WantsHeader reports whether the first record of each stream is a header.
func (d *CSVDecoder) WantsHeader() bool { return d.opts.Header }

// SetHeader reads the names of the fields from a header record.
func (d *CSVDecoder) SetHeader(rec []byte) error {
	rec = bytes.TrimPrefix(rec, []byte("\xEF\xBB\xBF")) // a byte order mark
	d.row.begin()
	rec = trimNewline(rec)
	if !utf8.Valid(rec) {
		return fmt.Errorf("CSV header: %w", invalidUTF8())
	}
	fields, err := d.split(rec)
	if err != nil {
		return fmt.Errorf("CSV header: %w", err)
	}
	d.target = d.target[:0]
	for _, f := range fields {
		d.target = append(d.target, d.columnNamed(string(bytes.TrimSpace(f.value))))
	}
	return nil
}

func (d *CSVDecoder) columnNamed(name string) int {
	for i, c := range d.row.schema {
		if c.Name == name {
			return i
		}
	}
	for i, c := range d.row.schema {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// Frame returns the length of the first complete record of data, its
// newline included; a newline inside a quoted field does not end a record.
func (d *CSVDecoder) Frame(data []byte) int {
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted // a quote inside a quoted field: its end, or the first of ""
	)
	state := fieldStart
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch state {
		case fieldStart, unquoted:
			switch {
			case c == '\n':
				return i + 1
			case c == d.opts.Delimiter:
				state = fieldStart
			case c == '"' && state == fieldStart:
				state = quoted
			default:
				state = unquoted
			}
		case quoted:
			if c == '"' {
				state = quoteInQuoted
			}
		case quoteInQuoted:
			switch {
			case c == '"':
				state = quoted
			case c == '\n':
				return i + 1
			case c == d.opts.Delimiter:
				state = fieldStart
			default:
				state = unquoted
			}
		}
	}
	return -1
}

// Len is the number of rows appended since the last Finish.
func (d *CSVDecoder) Len() int { return d.row.rows }

// Finish returns the rows appended so far and starts a new batch.
func (d *CSVDecoder) Finish() arrow.Record { return d.row.finish() }

// Release frees the builders.
func (d *CSVDecoder) Release() { d.row.release() }

// Append decodes one CSV record and appends it as a row. On error nothing
// is appended.
func (d *CSVDecoder) Append(rec []byte) error {
	if d.target == nil {
		return fmt.Errorf("CSV record before the header")
	}
	r := d.row
	r.begin()
	rec = trimNewline(rec)
	if !utf8.Valid(rec) {
		return invalidUTF8()
	}
	fields, err := d.split(rec)
	if err != nil {
		return err
	}
	if len(fields) != len(d.target) {
		return fmt.Errorf("expected %d fields, found %d", len(d.target), len(fields))
	}
	for i, f := range fields {
		col := d.target[i]
		if col < 0 {
			continue
		}
		if len(f.value) == 0 {
			if t := r.cols[col].typ; t == types.Text || t == types.Varchar {
				r.slots[col] = slot{set: true, bytes: f.value}
			}
			continue // NULL
		}
		if err := r.setText(col, f.value); err != nil {
			return err
		}
	}
	r.commit()
	return nil
}

// split cuts rec into fields; quoted fields with doubled quotes are
// unquoted into the stage buffer.
func (d *CSVDecoder) split(rec []byte) ([]csvField, error) {
	fields := d.fields[:0]
	delim := d.opts.Delimiter
	p := 0
	for {
		if p < len(rec) && rec[p] == '"' {
			// A quoted field: up to the closing quote, "" standing for ".
			start := p + 1
			escaped := false
			i := start
			for {
				j := bytes.IndexByte(rec[i:], '"')
				if j < 0 {
					return nil, fmt.Errorf("unterminated quoted field")
				}
				i += j
				if i+1 < len(rec) && rec[i+1] == '"' {
					escaped = true
					i += 2
					continue
				}
				break
			}
			value := rec[start:i]
			if escaped {
				b := d.row.buf
				n := len(b)
				for k := 0; k < len(value); k++ {
					b = append(b, value[k])
					if value[k] == '"' {
						k++ // skip the second quote of ""
					}
				}
				d.row.buf = b
				value = b[n:len(b):len(b)]
			}
			fields = append(fields, csvField{value: value, quoted: true})
			p = i + 1
			if p < len(rec) && rec[p] != delim {
				return nil, fmt.Errorf("unexpected character %q after a quoted field", rec[p])
			}
		} else {
			j := bytes.IndexByte(rec[p:], delim)
			if j < 0 {
				j = len(rec) - p
			}
			fields = append(fields, csvField{value: rec[p : p+j]})
			p += j
		}
		if p >= len(rec) {
			break
		}
		p++ // the delimiter
		if p == len(rec) {
			fields = append(fields, csvField{}) // a trailing empty field
			break
		}
	}
	d.fields = fields
	return fields, nil
}

// trimNewline drops the record's line terminator, "\n" or "\r\n".
func trimNewline(rec []byte) []byte {
	if n := len(rec); n > 0 && rec[n-1] == '\n' {
		rec = rec[:n-1]
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
	}
	return rec
}

// frameLine returns the length of the first line of data, newline included,
// or -1 if data holds no complete line.
func frameLine(data []byte) int {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1
	}
	return -1
}
