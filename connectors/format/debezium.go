package format

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// DebeziumDecoder decodes Debezium's JSON change events (FORMAT DEBEZIUM
// ENCODE JSON): an object with "op" ("c" create, "r" snapshot read, "u"
// update, "d" delete), "before" and "after" row images, optionally wrapped
// as {"schema": ..., "payload": {...}} by the JSON converter with schemas
// enabled. A create, read or update appends the "after" image as a row that
// sets its key; a delete appends the "before" image (at least its key
// columns, as with the default REPLICA IDENTITY) as a row that removes it.
// Deletes reports which rows are removals.
type DebeziumDecoder struct {
	rows    *JSONDecoder
	deletes []bool
}

// NewDebeziumDecoder returns a decoder of Debezium change events into rows
// of schema, the table's columns.
func NewDebeziumDecoder(schema types.Schema, alloc memory.Allocator) (*DebeziumDecoder, error) {
	rows, err := NewJSONDecoder(schema, alloc)
	if err != nil {
		return nil, err
	}
	return &DebeziumDecoder{rows: rows}, nil
}

// Frame returns the length of the first line of data, newline included.
func (d *DebeziumDecoder) Frame(data []byte) int { return frameLine(data) }

// Len is the number of rows appended since the last Finish.
func (d *DebeziumDecoder) Len() int { return d.rows.Len() }

// Deletes says, for each row appended since the last Finish, whether it
// removes its key; call it before Finish.
func (d *DebeziumDecoder) Deletes() []bool { return d.deletes }

// Finish returns the rows appended so far and starts a new batch.
func (d *DebeziumDecoder) Finish() arrow.Record {
	d.deletes = d.deletes[:0]
	return d.rows.Finish()
}

// Release frees the builders.
func (d *DebeziumDecoder) Release() { d.rows.Release() }

// Append decodes one change event. On error nothing is appended.
func (d *DebeziumDecoder) Append(rec []byte) error {
	fields, err := objectFields(rec, "payload", "op", "before", "after")
	if err != nil {
		return err
	}
	if payload := fields[0]; payload != nil && payload[0] == '{' {
		if fields, err = objectFields(payload, "op", "before", "after"); err != nil {
			return fmt.Errorf("payload: %w", err)
		}
	} else {
		fields = fields[1:]
	}
	op, before, after := fields[0], fields[1], fields[2]
	if op == nil {
		return errors.New(`a Debezium change event needs "op"`)
	}
	var image []byte
	remove := false
	switch string(op) {
	case `"c"`, `"r"`, `"u"`:
		image = after
	case `"d"`:
		image, remove = before, true
	default:
		return fmt.Errorf(`unknown Debezium "op" %s (expected "c", "r", "u" or "d")`, op)
	}
	if image == nil || image[0] != '{' {
		which := "after"
		if remove {
			which = "before"
		}
		return fmt.Errorf(`a Debezium %s event needs a %q object`, op, which)
	}
	if err := d.rows.Append(image); err != nil {
		return err
	}
	d.deletes = append(d.deletes, remove)
	return nil
}

// objectFields returns the raw JSON values of the named fields of the object
// rec, nil for a field that is absent or null.
func objectFields(rec []byte, names ...string) ([][]byte, error) {
	out := make([][]byte, len(names))
	p := skipWS(rec, 0)
	if p == len(rec) || rec[p] != '{' {
		return nil, errors.New("expected a JSON object")
	}
	p = skipWS(rec, p+1)
	if p < len(rec) && rec[p] == '}' {
		return out, nil
	}
	for {
		if p == len(rec) || rec[p] != '"' {
			return nil, syntaxErr(rec, p, "expected a string key")
		}
		end, _, err := scanString(rec, p)
		if err != nil {
			return nil, err
		}
		key := rec[p+1 : end-1] // field names here have no escapes
		p = skipWS(rec, end)
		if p == len(rec) || rec[p] != ':' {
			return nil, syntaxErr(rec, p, "expected ':' after key")
		}
		p = skipWS(rec, p+1)
		vend, err := skipValue(rec, p, 0)
		if err != nil {
			return nil, err
		}
		for i, n := range names {
			if string(key) == n && string(rec[p:vend]) != "null" {
				out[i] = rec[p:vend]
			}
		}
		p = skipWS(rec, vend)
		if p < len(rec) && rec[p] == ',' {
			p = skipWS(rec, p+1)
			continue
		}
		if p < len(rec) && rec[p] == '}' {
			return out, nil
		}
		return nil, syntaxErr(rec, p, "expected ',' or '}'")
	}
}
