package nexmark

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Stream generates the whole Nexmark event stream in event-id order, each
// event as a JSON object with the same columns and values as the nexmark
// source's tables: what `sluice nexmark produce` writes into Kafka. Event n
// of a Stream equals event n of the sources with the same seed.
type Stream struct {
	gen  *generator
	next int64
	ev   event
	buf  []byte
}

// Table names, as the nexmark.table option spells them in lower case.
const (
	TablePerson  = "person"
	TableAuction = "auction"
	TableBid     = "bid"
)

// NewStream starts at event 0. seed 0 is the reference's data; baseTimeMs 0
// is 2015-07-15 00:00:00 UTC.
func NewStream(seed, baseTimeMs int64) *Stream {
	if baseTimeMs == 0 {
		baseTimeMs = defaultBaseTime
	}
	return &Stream{gen: newGenerator(baseTimeMs, defaultEventRate, seed)}
}

// Next returns the next event: its table and its JSON, which is valid until
// the next call.
func (s *Stream) Next() (table string, json []byte) {
	n := s.next
	s.next++
	var t tableType
	switch r := n % proportionTotal; {
	case r < personProportion:
		t, table = tablePerson, TablePerson
		s.gen.person(n, &s.ev)
	case r < personProportion+auctionProportion:
		t, table = tableAuction, TableAuction
		s.gen.auction(n, &s.ev)
	default:
		t, table = tableBid, TableBid
		s.gen.bid(n, &s.ev)
	}
	b := append(s.buf[:0], '{')
	for i, f := range fields[t] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		switch f.kind {
		case kindInt:
			b = strconv.AppendInt(b, s.ev.ints[i], 10)
		case kindString:
			b = appendJSONString(b, s.ev.strs[i])
		case kindTime:
			// As PostgreSQL prints a timestamp, which every JSON decoder
			// of Sluice's reads back exactly.
			b = append(b, '"')
			b = time.UnixMilli(s.ev.ints[i]).UTC().AppendFormat(b, "2006-01-02 15:04:05.000")
			b = append(b, '"')
		}
	}
	s.buf = append(b, '}')
	return table, s.buf
}

// appendJSONString appends s as a JSON string. Generated strings are ASCII;
// the escapes are for safety, not for the common case.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, r) // invalid bytes become U+FFFD
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}
