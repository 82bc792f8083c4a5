package pgwire

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// fakeHandler is a Handler with a tiny command language, enough to drive
// every path of the server:
//
//	select N            one int4 row N
//	ints N [B]          int8 rows 1..N in batches of B (default 1024)
//	row                 (a int4, b text, c int8) = (1, 'x', NULL)
//	echo T...           parameters of types T (int4, int8, text), echoed as one row
//	insert N            no rows, tag INSERT 0 N
//	failafter N         N rows, then division_by_zero
//	describefail        undefined_table at Describe, position 15
//	wait                blocks in Next until cancelled
//	stream              one batch of 3 rows, then blocks in Next until cancelled
//	notice              a warning, no rows
//	begin, commit       open and close a transaction block
//	set NAME VALUE      changes a run-time parameter
//	panic               panics in Execute
//	badtype             an int4 column whose batch holds int8
//
// Anything else is a syntax error pointing at its first word. Statements are
// separated by ';' and "--" starts a comment.
type fakeHandler struct {
	mu       sync.Mutex
	clients  []ClientInfo
	sessions []*fakeSession

	openResults atomic.Int64
	// blocked receives every Result that blocks in Next, once it does.
	blocked chan *fakeResult
	// sessionClosed receives every session as it is closed.
	sessionClosed chan *fakeSession
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		blocked:       make(chan *fakeResult, 64),
		sessionClosed: make(chan *fakeSession, 64),
	}
}

func (h *fakeHandler) Open(ctx context.Context, client ClientInfo) (Session, error) {
	if client.Database == "nodb" {
		return nil, pgerror.New(pgerror.InvalidCatalogName, "database %q does not exist", client.Database)
	}
	s := &fakeSession{h: h, tx: 'I', params: map[string]string{
		"server_version":              "15.0",
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"TimeZone":                    "UTC",
	}}
	h.mu.Lock()
	h.clients = append(h.clients, client)
	h.sessions = append(h.sessions, s)
	h.mu.Unlock()
	return s, nil
}

type fakeSession struct {
	h      *fakeHandler
	tx     byte
	params map[string]string
	closed atomic.Bool
}

func (s *fakeSession) ParameterStatus() map[string]string { return s.params }

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) Close() {
	if s.closed.Swap(true) {
		panic("session closed twice")
	}
	s.h.sessionClosed <- s
}

var fakeCommands = map[string]bool{
	"select": true, "ints": true, "row": true, "echo": true, "insert": true, "failafter": true,
	"describefail": true, "panic": true, "wait": true, "stream": true, "notice": true, "begin": true, "commit": true, "set": true, "badtype": true,
}

func (s *fakeSession) Parse(ctx context.Context, sql string) ([]Statement, error) {
	var stmts []Statement
	offset := 0
	for _, part := range strings.SplitAfter(sql, ";") {
		start := offset
		offset += len(part)
		lines := strings.Split(part, "\n")
		for i, l := range lines {
			if j := strings.Index(l, "--"); j >= 0 {
				lines[i] = l[:j] + strings.Repeat(" ", len(l)-j)
			}
		}
		text := strings.TrimSuffix(strings.Join(lines, "\n"), ";")
		words := strings.Fields(text)
		if len(words) == 0 {
			continue
		}
		if !fakeCommands[words[0]] {
			pos := start + strings.Index(text, words[0]) + 1
			return nil, pgerror.New(pgerror.SyntaxError, "syntax error at or near %q", words[0]).WithPosition(pos)
		}
		stmts = append(stmts, &fakeStmt{s: s, sql: strings.TrimSpace(text), words: words})
	}
	return stmts, nil
}

type fakeStmt struct {
	s     *fakeSession
	sql   string
	words []string
}

func (st *fakeStmt) SQL() string { return st.sql }

func (st *fakeStmt) arg(i int, def int) int {
	if i >= len(st.words) {
		return def
	}
	n, err := strconv.Atoi(st.words[i])
	if err != nil {
		panic(fmt.Sprintf("fake statement %q: %v", st.sql, err))
	}
	return n
}

var fakeTypes = map[string]types.T{"int4": types.Int4, "int8": types.Int8, "text": types.Text}

func (st *fakeStmt) Describe(ctx context.Context, paramTypes []types.T) (Description, error) {
	switch st.words[0] {
	case "select":
		return Description{Columns: []types.Column{{Name: "?column?", Type: types.Int4}}}, nil
	case "badtype":
		return Description{Columns: []types.Column{{Name: "n", Type: types.Int4}}}, nil
	case "ints", "failafter", "wait", "stream":
		return Description{Columns: []types.Column{{Name: "n", Type: types.Int8}}}, nil
	case "row":
		return Description{Columns: []types.Column{{Name: "a", Type: types.Int4}, {Name: "b", Type: types.Text}, {Name: "c", Type: types.Int8}}}, nil
	case "echo":
		var d Description
		d.Columns = []types.Column{}
		for i, w := range st.words[1:] {
			d.Params = append(d.Params, fakeTypes[w])
			d.Columns = append(d.Columns, types.Column{Name: fmt.Sprintf("p%d", i+1), Type: fakeTypes[w]})
		}
		return d, nil
	case "describefail":
		return Description{}, pgerror.New(pgerror.UndefinedTable, `relation "nope" does not exist`).WithPosition(15)
	}
	return Description{}, nil
}

func (st *fakeStmt) Execute(ctx context.Context, params []types.Datum) (Result, error) {
	desc, err := st.Describe(ctx, nil)
	if err != nil {
		return nil, err
	}
	if len(params) != len(desc.Params) {
		return nil, fmt.Errorf("fake: %d parameters for %d", len(params), len(desc.Params))
	}
	r := &fakeResult{h: st.s.h, cols: desc.Columns, tag: "SELECT 1"}
	switch st.words[0] {
	case "select":
		r.batches = [][]types.Datum{{int32(st.arg(1, 0))}}
	case "ints", "failafter":
		n, b := st.arg(1, 0), st.arg(2, 1024)
		r.ints = intSeq{next: 1, last: int64(n), batch: b}
		r.tag = fmt.Sprintf("SELECT %d", n)
		if st.words[0] == "failafter" {
			r.err = pgerror.New(pgerror.DivisionByZero, "division by zero")
		}
	case "row":
		r.batches = [][]types.Datum{{int32(1), "x", nil}}
	case "echo":
		r.batches = [][]types.Datum{params}
	case "insert":
		r.tag = fmt.Sprintf("INSERT 0 %d", st.arg(1, 0))
	case "wait":
		r.block = true
	case "panic":
		panic("fake: panic requested")
	case "badtype":
		// An int8 batch for an int4 column: a handler bug.
		r.ints = intSeq{next: 1, last: 1, batch: 1}
	case "stream":
		r.batches = [][]types.Datum{{int64(1), int64(2), int64(3)}}
		r.block = true
	case "notice":
		r.notices = []error{pgerror.New(pgerror.Warning, "careful")}
		r.tag = "DO"
	case "begin":
		st.s.tx = 'T'
		r.tag = "BEGIN"
	case "commit":
		st.s.tx = 'I'
		r.tag = "COMMIT"
	case "set":
		st.s.params[st.words[1]] = st.words[2]
		r.tag = "SET"
	}
	st.s.h.openResults.Add(1)
	return r, nil
}

// fakeResult serves batches: each is a column of values for single-column
// results, or one row for wider ones.
type fakeResult struct {
	h       *fakeHandler
	cols    []types.Column
	batches [][]types.Datum
	err     error // returned after the batches
	block   bool  // block in Next after the batches until ctx ends
	tag     string
	notices []error

	ints intSeq // generated lazily, so that a huge result costs nothing until read

	rec     arrow.RecordBatch
	nextCtx atomic.Pointer[context.Context] // the context of the blocked Next
	closed  bool
}

func (r *fakeResult) Columns() []types.Column { return r.cols }
func (r *fakeResult) Tag() string             { return r.tag }
func (r *fakeResult) Notices() []error        { return r.notices }

func (r *fakeResult) Next(ctx context.Context) (arrow.RecordBatch, error) {
	r.release()
	if len(r.batches) > 0 {
		b := r.batches[0]
		r.batches = r.batches[1:]
		r.rec = buildRecord(r.cols, b)
		return r.rec, nil
	}
	if r.ints.batch > 0 && r.ints.next <= r.ints.last {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < r.ints.batch && r.ints.next <= r.ints.last; i++ {
			b.Append(r.ints.next)
			r.ints.next++
		}
		col := b.NewArray()
		defer col.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: r.cols[0].Name, Type: col.DataType(), Nullable: true}}, nil)
		r.rec = array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
		return r.rec, nil
	}
	if r.block {
		r.nextCtx.Store(&ctx)
		r.h.blocked <- r
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return nil, nil
}

func (r *fakeResult) release() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
}

func (r *fakeResult) Close() {
	if r.closed {
		panic("result closed twice")
	}
	r.closed = true
	r.release()
	r.h.openResults.Add(-1)
}

// intSeq is the sequence next..last served in batches of batch rows.
type intSeq struct {
	next, last int64
	batch      int
}

// buildRecord builds a batch of cols from vals: a column of values when there
// is one column, else a single row.
func buildRecord(cols []types.Column, vals []types.Datum) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, types.Schema(cols).Arrow())
	defer b.Release()
	put := func(f array.Builder, v types.Datum) {
		switch v := v.(type) {
		case nil:
			f.AppendNull()
		case int32:
			f.(*array.Int32Builder).Append(v)
		case int64:
			f.(*array.Int64Builder).Append(v)
		case string:
			f.(*array.StringBuilder).Append(v)
		default:
			panic(fmt.Sprintf("fake: value %T", v))
		}
	}
	if len(cols) == 1 {
		for _, v := range vals {
			put(b.Field(0), v)
		}
	} else {
		for i, v := range vals {
			put(b.Field(i), v)
		}
	}
	return b.NewRecordBatch()
}
