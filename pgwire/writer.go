package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedb/sluice/types"
)

const (
	// flushThreshold bounds how much output is buffered before it is written
	// even in the middle of a batch, so that a large result streams with
	// bounded memory.
	flushThreshold = 64 << 10
	// retainedBufferCap is the largest buffer kept after a flush; a buffer
	// grown by one huge row is dropped rather than held for the session.
	retainedBufferCap = 1 << 20
)

// formatText and formatBinary are the protocol's format codes.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// writer buffers backend messages for one connection. Messages are encoded
// straight into one reused buffer (pgproto3's Encode for the protocol
// messages, a hand-rolled encoder for DataRow) and written by flush or when
// the buffer passes flushThreshold. After the first write error every call is
// a no-op and err holds the error: the connection is dead.
type writer struct {
	w   io.Writer
	buf []byte
	err error
}

func (w *writer) send(msg pgproto3.BackendMessage) {
	if w.err != nil {
		return
	}
	buf, err := msg.Encode(w.buf)
	if err != nil {
		w.err = fmt.Errorf("encode %T: %w", msg, err)
		return
	}
	w.buf = buf
	if len(w.buf) >= flushThreshold {
		w.flush()
	}
}

func (w *writer) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("write to client: %w", err)
	}
	if cap(w.buf) > retainedBufferCap {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return w.err
}

// dataRows sends rows [from, to) of rec as DataRow messages. cols are the
// result's columns (the record's columns in order) and formats holds one
// format code per column, or is nil for all text. Values are encoded in place in the output buffer:
// nothing is allocated per row or per value.
func (w *writer) dataRows(rec arrow.RecordBatch, from, to int, cols []types.Column, formats []int16) {
	arrs := rec.Columns()
	for row := from; row < to && w.err == nil; row++ {
		start := len(w.buf)
		w.buf = append(w.buf, 'D', 0, 0, 0, 0)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(arrs)))
		for j, arr := range arrs {
			if arr.IsNull(row) {
				w.buf = binary.BigEndian.AppendUint32(w.buf, math.MaxUint32) // -1: NULL
				continue
			}
			lenAt := len(w.buf)
			w.buf = append(w.buf, 0, 0, 0, 0)
			if formats != nil && formats[j] == formatBinary {
				w.buf = types.AppendBinary(w.buf, arr, row, cols[j].Type)
			} else {
				w.buf = types.AppendText(w.buf, arr, row, cols[j].Type)
			}
			binary.BigEndian.PutUint32(w.buf[lenAt:], uint32(len(w.buf)-lenAt-4))
		}
		size := len(w.buf) - start - 1
		if size > math.MaxInt32 {
			w.err = fmt.Errorf("data row of %d bytes exceeds the protocol's message size limit", size)
			return
		}
		binary.BigEndian.PutUint32(w.buf[start+1:], uint32(size))
		if len(w.buf) >= flushThreshold {
			w.flush()
		}
	}
}

// rowDescription describes cols with one format code per column, or all text
// when formats is nil (as for Describe of a statement, whose formats are not
// known yet).
func rowDescription(cols []types.Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(c.Name),
			DataTypeOID:  c.Type.OID(),
			DataTypeSize: c.Type.Len(),
			TypeModifier: -1,
		}
		if formats != nil {
			fields[i].Format = formats[i]
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}
