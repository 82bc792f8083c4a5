package nexmark

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// The JSON stream carries exactly the events of the sources, in id order.
func TestStreamEqualsSources(t *testing.T) {
	const events, seed = 1000, 7
	byTable := map[string][]string{}
	s := NewStream(seed, 0)
	for range events {
		table, doc := s.Next()
		byTable[table] = append(byTable[table], renderJSON(t, doc))
	}
	for _, tc := range []struct {
		option, table string
		schema        types.Schema
		count         int
	}{
		{"Person", TablePerson, personColumns, 20},
		{"Auction", TableAuction, auctionColumns, 60},
		{"Bid", TableBid, bidColumns, 920},
	} {
		src := mustSource(t, tc.schema, map[string]string{
			"nexmark.table.type": tc.option, "nexmark.event.rate": "0",
			"nexmark.max.events": fmt.Sprint(events), "nexmark.seed": fmt.Sprint(seed),
		})
		want := readRendered(t, src)
		got := byTable[tc.table]
		if len(got) != tc.count || len(want) != tc.count {
			t.Fatalf("%s: stream has %d events, source %d; want %d", tc.table, len(got), len(want), tc.count)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s event %d:\nstream %s\nsource %s", tc.table, i, got[i], want[i])
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:      `"plain"`,
		`a"b\c`:      `"a\"b\\c"`,
		"tab\there":  `"tab\u0009here"`,
		"é":          `"é"`,
		"bad\xffend": `"bad` + "\uFFFD" + `end"`,
	} {
		got := appendJSONString(nil, []byte(in))
		if string(got) != want || !json.Valid(got) {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

// renderJSON renders an event's values in field order as "v1|v2|...".
func renderJSON(t *testing.T, doc []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var cells []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", doc)
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			t.Fatalf("%s: %v", doc, err)
		}
		v, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		cells = append(cells, fmt.Sprint(v))
	}
	return strings.Join(cells, "|")
}

// readRendered reads a bounded source's only split, rendering timestamps as
// the stream writes them.
func readRendered(t *testing.T, src *Source) []string {
	t.Helper()
	r, err := src.Open(context.Background(), connectors.Split{ID: "0"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows []string
	for {
		b, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(b.Record.NumRows()); i++ {
			var cells []string
			for _, col := range b.Record.Columns() {
				switch col := col.(type) {
				case *array.Int64:
					cells = append(cells, strconv.FormatInt(col.Value(i), 10))
				case *array.Timestamp:
					cells = append(cells, time.UnixMicro(int64(col.Value(i))).UTC().Format("2006-01-02 15:04:05.000"))
				default:
					cells = append(cells, col.ValueStr(i))
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
		b.Record.Release()
	}
}
