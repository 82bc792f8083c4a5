package cqltest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of the native protocol, v4.
const (
	opError         = 0x00
	opStartup       = 0x01
	opReady         = 0x02
	opAuthenticate  = 0x03
	opOptions       = 0x05
	opSupported     = 0x06
	opQuery         = 0x07
	opResult        = 0x08
	opPrepare       = 0x09
	opExecute       = 0x0A
	opRegister      = 0x0B
	opEvent         = 0x0C
	opBatch         = 0x0D
	opAuthChallenge = 0x0E
	opAuthResponse  = 0x0F
	opAuthSuccess   = 0x10
)

// Result kinds.
const (
	resultVoid         = 0x0001
	resultRows         = 0x0002
	resultSetKeyspace  = 0x0003
	resultPrepared     = 0x0004
	resultSchemaChange = 0x0005
)

// Error codes, as the protocol specification numbers them.
const (
	ErrServer          = 0x0000
	ErrProtocol        = 0x000A
	ErrBadCredentials  = 0x0100
	ErrUnavailable     = 0x1000
	ErrOverloaded      = 0x1001
	ErrWriteTimeout    = 0x1100
	ErrReadTimeout     = 0x1200
	ErrSyntax          = 0x2000
	ErrUnauthorized    = 0x2100
	ErrInvalid         = 0x2200
	ErrConfig          = 0x2300
	ErrAlreadyExists   = 0x2400
	ErrUnprepared      = 0x2500
	protocolVersion    = 4
	headerSize         = 9
	maxFrameBodyLength = 256 << 20
)

// Query parameter flags (QUERY, EXECUTE) and batch flags.
const (
	qfValues            = 0x01
	qfSkipMetadata      = 0x02
	qfPageSize          = 0x04
	qfPagingState       = 0x08
	qfSerialConsistency = 0x10
	qfDefaultTimestamp  = 0x20
	qfNames             = 0x40
)

// Rows metadata flags.
const (
	mfGlobalTableSpec = 0x0001
	mfHasMorePages    = 0x0002
	mfNoMetadata      = 0x0004
)

// header is a frame's header.
type header struct {
	version byte // without the response bit
	flags   byte
	stream  int16
	op      byte
	length  int
}

func readHeader(r io.Reader, buf []byte) (header, error) {
	if _, err := io.ReadFull(r, buf[:headerSize]); err != nil {
		return header{}, err
	}
	h := header{
		version: buf[0] & 0x7F,
		flags:   buf[1],
		stream:  int16(binary.BigEndian.Uint16(buf[2:4])),
		op:      buf[4],
		length:  int(int32(binary.BigEndian.Uint32(buf[5:9]))),
	}
	if h.length < 0 || h.length > maxFrameBodyLength {
		return h, fmt.Errorf("frame body of %d bytes", h.length)
	}
	return h, nil
}

// frame builds a response frame: a v4 header followed by the body.
type frame struct {
	buf []byte
}

func newFrame(stream int16, op byte) *frame {
	f := &frame{buf: make([]byte, headerSize, 256)}
	f.buf[0] = 0x80 | protocolVersion
	binary.BigEndian.PutUint16(f.buf[2:4], uint16(stream))
	f.buf[4] = op
	return f
}

func (f *frame) finish() []byte {
	binary.BigEndian.PutUint32(f.buf[5:9], uint32(len(f.buf)-headerSize))
	return f.buf
}

func (f *frame) byte(b byte)     { f.buf = append(f.buf, b) }
func (f *frame) short(v uint16)  { f.buf = binary.BigEndian.AppendUint16(f.buf, v) }
func (f *frame) int(v int32)     { f.buf = binary.BigEndian.AppendUint32(f.buf, uint32(v)) }
func (f *frame) long(v int64)    { f.buf = binary.BigEndian.AppendUint64(f.buf, uint64(v)) }
func (f *frame) raw(b []byte)    { f.buf = append(f.buf, b...) }
func (f *frame) string(s string) { f.short(uint16(len(s))); f.buf = append(f.buf, s...) }

// bytes writes [bytes]: an int length, -1 for null, then the bytes.
func (f *frame) bytes(b []byte) {
	if b == nil {
		f.int(-1)
		return
	}
	f.int(int32(len(b)))
	f.buf = append(f.buf, b...)
}

func (f *frame) shortBytes(b []byte) { f.short(uint16(len(b))); f.buf = append(f.buf, b...) }

func (f *frame) stringList(l []string) {
	f.short(uint16(len(l)))
	for _, s := range l {
		f.string(s)
	}
}

func (f *frame) stringMultimap(m map[string][]string, keys []string) {
	f.short(uint16(len(keys)))
	for _, k := range keys {
		f.string(k)
		f.stringList(m[k])
	}
}

// reader decodes a request body. The first malformed field sets err, and
// every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("request body too short")

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) short() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) int() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) long() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *reader) string() string     { return string(r.take(int(r.short()))) }
func (r *reader) longString() string { return string(r.take(int(r.int()))) }
func (r *reader) shortBytes() []byte { return r.take(int(r.short())) }

// value reads a [value]: null (-1) and unset (-2) are reported apart.
func (r *reader) value() (v []byte, unset bool) {
	n := r.int()
	switch {
	case r.err != nil:
		return nil, false
	case n == -1:
		return nil, false
	case n == -2:
		return nil, true
	case n < -2:
		r.err = fmt.Errorf("invalid value length %d", n)
		return nil, false
	}
	v = r.take(int(n))
	if v == nil && r.err == nil {
		v = []byte{}
	}
	return v, false
}

func (r *reader) stringMap() map[string]string {
	n := int(r.short())
	m := make(map[string]string, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.string()
		m[k] = r.string()
	}
	return m
}

func (r *reader) stringList() []string {
	n := int(r.short())
	l := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		l = append(l, r.string())
	}
	return l
}

// queryParams are the parameters of a QUERY or EXECUTE.
type queryParams struct {
	consistency  uint16
	flags        byte
	values       []boundValue
	pageSize     int32
	pagingState  []byte
	skipMetadata bool
	timestamp    int64 // the client's write timestamp; 0 when it sent none
}

// boundValue is a value bound to a marker; name is set when the request
// named its values.
type boundValue struct {
	name  string
	v     []byte
	unset bool
}

func (r *reader) queryParams() queryParams {
	var p queryParams
	p.consistency = r.short()
	p.flags = r.byte()
	if p.flags&qfValues != 0 {
		n := int(r.short())
		for i := 0; i < n && r.err == nil; i++ {
			var bv boundValue
			if p.flags&qfNames != 0 {
				bv.name = r.string()
			}
			bv.v, bv.unset = r.value()
			p.values = append(p.values, bv)
		}
	}
	p.skipMetadata = p.flags&qfSkipMetadata != 0
	if p.flags&qfPageSize != 0 {
		p.pageSize = r.int()
	}
	if p.flags&qfPagingState != 0 {
		n := r.int()
		if n >= 0 {
			p.pagingState = r.take(int(n))
		}
	}
	if p.flags&qfSerialConsistency != 0 {
		r.short()
	}
	if p.flags&qfDefaultTimestamp != 0 {
		p.timestamp = r.long()
	}
	return p
}
