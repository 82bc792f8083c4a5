package pgwire

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// safetyTimeout only keeps a broken test from hanging; nothing waits for it.
const safetyTimeout = 30 * time.Second

// testServer is a Server on a loopback port with a fake handler.
type testServer struct {
	addr string
	h    *fakeHandler
	stop func() // cancels Serve and checks that it ended cleanly

	logged     errorLog
	wantErrors []string // the error-level log messages the test expects
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := newFakeHandler()
	logged := errorLog{
		Handler: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}),
		mu:      new(sync.Mutex),
		errors:  new([]string),
	}
	srv := NewServer(h, Options{Logger: slog.New(logged)})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	ts := &testServer{addr: ln.Addr().String(), h: h, logged: logged}
	stopped := false
	ts.stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		checkNoConnGoroutines(t)
		logged.mu.Lock()
		if !slices.Equal(*logged.errors, ts.wantErrors) {
			t.Errorf("server logged errors %q, want %q", *logged.errors, ts.wantErrors)
		}
		logged.mu.Unlock()
		if n := h.openResults.Load(); n != 0 {
			t.Errorf("%d results left open", n)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, s := range h.sessions {
			if !s.closed.Load() {
				t.Errorf("session %d left open", i)
			}
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

// errorLog is a slog handler that keeps error-level records, such as a
// recovered panic, for the test to check; every other record goes to the
// test's output.
type errorLog struct {
	slog.Handler
	mu     *sync.Mutex
	errors *[]string
}

func (h errorLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		*h.errors = append(*h.errors, r.Message)
		h.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h errorLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.Handler = h.Handler.WithAttrs(attrs)
	return h
}

func (h errorLog) WithGroup(name string) slog.Handler {
	h.Handler = h.Handler.WithGroup(name)
	return h
}

// checkNoConnGoroutines fails if a goroutine of the server is still alive.
// Serve has returned, so every connection goroutine has ended; the loop
// only lets the short-lived context.AfterFunc callbacks finish.
func checkNoConnGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "pgwire.(*conn)") || strings.Contains(g, "pgwire.(*Server)") || strings.Contains(g, "pgwire.(*inbox)") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d server goroutines still running:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (ts *testServer) connString(extra string) string {
	return fmt.Sprintf("postgres://x@%s/y?application_name=test&%s", ts.addr, extra)
}

func (ts *testServer) connect(t *testing.T, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.connString("sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	t.Cleanup(cancel)
	return ctx
}

// rawClient drives the protocol message by message.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func (ts *testServer) dialRaw(t *testing.T) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(safetyTimeout))
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// startup dials and completes the handshake.
func (ts *testServer) startup(t *testing.T) *rawClient {
	t.Helper()
	c := ts.dialRaw(t)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "x", "database": "y"}})
	got := c.readUntil("ReadyForQuery")
	if got[0] != "AuthenticationOk" {
		t.Fatalf("startup: %q", got)
	}
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read returns the next n messages, rendered; "EOF" once the server closed
// the connection.
func (c *rawClient) read(n int) []string {
	c.t.Helper()
	var got []string
	for len(got) < n {
		msg, err := c.fe.Receive()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				return append(got, "EOF")
			}
			c.t.Fatalf("receive after %q: %v", got, err)
		}
		got = append(got, render(msg))
	}
	return got
}

func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

// readUntil returns messages up to and including the first whose rendering
// starts with prefix, or EOF.
func (c *rawClient) readUntil(prefix string) []string {
	c.t.Helper()
	var got []string
	for {
		m := c.read(1)[0]
		got = append(got, m)
		if strings.HasPrefix(m, prefix) || m == "EOF" {
			return got
		}
	}
}

// render prints a backend message compactly for transcripts.
func render(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.RowDescription:
		s := "RowDescription"
		for _, f := range m.Fields {
			s += fmt.Sprintf(" %s:%d:%d", f.Name, f.DataTypeOID, f.Format)
		}
		return s
	case *pgproto3.DataRow:
		s := "DataRow"
		for _, v := range m.Values {
			s += " " + renderValue(v)
		}
		return s
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.ParameterDescription:
		return fmt.Sprint("ParameterDescription ", m.ParameterOIDs)
	case *pgproto3.ErrorResponse:
		return renderError("ErrorResponse", m.Severity, m.Code, m.Position, m.Where)
	case *pgproto3.NoticeResponse:
		return renderError("NoticeResponse", m.Severity, m.Code, m.Position, m.Where)
	case *pgproto3.ParameterStatus:
		return fmt.Sprintf("ParameterStatus %s=%s", m.Name, m.Value)
	case *pgproto3.NegotiateProtocolVersion:
		return fmt.Sprint("NegotiateProtocolVersion ", m.NewestMinorProtocol, " ", m.UnrecognizedOptions)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

func renderError(kind, severity, code string, pos int32, where string) string {
	s := fmt.Sprintf("%s %s %s", kind, severity, code)
	if pos != 0 {
		s += fmt.Sprintf(" pos=%d", pos)
	}
	if where != "" {
		s += fmt.Sprintf(" where=%q", where)
	}
	return s
}

func renderValue(v []byte) string {
	if v == nil {
		return "NULL"
	}
	for _, r := range string(v) {
		if !unicode.IsPrint(r) || r == ' ' {
			return "0x" + hex.EncodeToString(v)
		}
	}
	if len(v) == 0 {
		return "''"
	}
	return string(v)
}

func TestStartup(t *testing.T) {
	ts := startServer(t)
	conn := ts.connect(t, pgx.QueryExecModeCacheStatement)
	pg := conn.PgConn()
	if v := pg.ParameterStatus("server_version"); v != "15.0" {
		t.Errorf("server_version = %q", v)
	}
	if pg.PID() == 0 || pg.PID() > 1<<31-1 {
		t.Errorf("pid = %d", pg.PID())
	}
	if len(pg.SecretKey()) != 4 {
		t.Errorf("secret key of %d bytes", len(pg.SecretKey()))
	}
	ts.h.mu.Lock()
	client := ts.h.clients[0]
	ts.h.mu.Unlock()
	if client.User != "x" || client.Database != "y" || client.ApplicationName != "test" || client.RemoteAddr == "" || client.Params["user"] != "x" {
		t.Errorf("client info = %+v", client)
	}
}

func TestStartupRefused(t *testing.T) {
	ts := startServer(t)
	t.Run("unknown database", func(t *testing.T) {
		_, err := pgx.Connect(testContext(t), fmt.Sprintf("postgres://x@%s/nodb?sslmode=disable", ts.addr))
		if code := pgCode(err); code != "3D000" {
			t.Fatalf("got %v, want 3D000", err)
		}
	})
	t.Run("no user", func(t *testing.T) {
		c := ts.dialRaw(t)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"database": "y"}})
		want := []string{"ErrorResponse FATAL 28000", "EOF"}
		if got := c.read(2); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("unsupported protocol", func(t *testing.T) {
		c := ts.dialRaw(t)
		c.nc.Write([]byte{0, 0, 0, 8, 0, 2, 0, 0})
		want := []string{"ErrorResponse FATAL 0A000", "EOF"}
		if got := c.read(2); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestNegotiateProtocolVersion(t *testing.T) {
	ts := startServer(t)
	c := ts.dialRaw(t)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32,
		Parameters: map[string]string{"user": "x", "_pq_.fancy": "1"}})
	got := c.readUntil("ReadyForQuery")
	if got[0] != "NegotiateProtocolVersion 0 [_pq_.fancy]" || got[1] != "AuthenticationOk" {
		t.Fatalf("got %q", got)
	}
	if got := c.exchange(&pgproto3.Query{String: "select 1"}); got[len(got)-1] != "ReadyForQuery I" {
		t.Fatalf("query after negotiation: %q", got)
	}
}

func (c *rawClient) exchange(msgs ...pgproto3.FrontendMessage) []string {
	c.t.Helper()
	c.send(msgs...)
	return c.readUntil("ReadyForQuery")
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestSSLRequestRefused(t *testing.T) {
	ts := startServer(t)
	t.Run("pgx sslmode=prefer falls back", func(t *testing.T) {
		conn, err := pgx.Connect(testContext(t), ts.connString("sslmode=prefer"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int32
		if err := conn.QueryRow(testContext(t), "select 4").Scan(&n); err != nil || n != 4 {
			t.Fatalf("select 4: %d, %v", n, err)
		}
	})
	t.Run("pgx sslmode=require fails", func(t *testing.T) {
		_, err := pgx.Connect(testContext(t), ts.connString("sslmode=require"))
		if err == nil {
			t.Fatal("connected without TLS")
		}
	})
	for _, req := range []pgproto3.FrontendMessage{&pgproto3.SSLRequest{}, &pgproto3.GSSEncRequest{}} {
		name := strings.TrimPrefix(fmt.Sprintf("%T", req), "*pgproto3.")
		startup := &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "x"}}
		t.Run(name+" answered N", func(t *testing.T) {
			c := ts.dialRaw(t)
			c.send(req)
			answer := make([]byte, 1)
			if _, err := io.ReadFull(c.nc, answer); err != nil || answer[0] != 'N' {
				t.Fatalf("answer %q, %v", answer, err)
			}
			c.send(startup)
			if got := c.readUntil("ReadyForQuery"); got[0] != "AuthenticationOk" {
				t.Fatalf("got %q", got)
			}
		})
		t.Run(name+" with pipelined data refused", func(t *testing.T) {
			c := ts.dialRaw(t)
			buf, _ := req.Encode(nil)
			buf, _ = startup.Encode(buf)
			if _, err := c.nc.Write(buf); err != nil {
				t.Fatal(err)
			}
			answer := make([]byte, 1)
			if _, err := io.ReadFull(c.nc, answer); err != nil || answer[0] != 'N' {
				t.Fatalf("answer %q, %v", answer, err)
			}
			want := []string{"ErrorResponse FATAL 08P01", "EOF"}
			if got := c.read(2); !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestSimpleProtocolWithPgx(t *testing.T) {
	ts := startServer(t)
	conn := ts.connect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := testContext(t)

	var a int32
	var b string
	var c *int64
	if err := conn.QueryRow(ctx, "row").Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a != 1 || b != "x" || c != nil {
		t.Errorf("row = %d, %q, %v", a, b, c)
	}

	// Several batches stream as one result.
	ns, err := pgx.CollectRows(must(conn.Query(ctx, "ints 2500 1000")), pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2500 || ns[0] != 1 || ns[2499] != 2500 {
		t.Errorf("got %d rows, first %d, last %d", len(ns), ns[0], ns[len(ns)-1])
	}

	results, err := conn.PgConn().Exec(ctx, "select 7; insert 2; row").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, r.CommandTag.String())
	}
	if want := []string{"SELECT 1", "INSERT 0 2", "SELECT 1"}; !slices.Equal(tags, want) {
		t.Errorf("tags %q, want %q", tags, want)
	}
	if string(results[0].Rows[0][0]) != "7" {
		t.Errorf("select 7 returned %q", results[0].Rows[0][0])
	}

	_, err = conn.Exec(ctx, "select 1; bogus 2")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" || pe.Position != 11 {
		t.Fatalf("syntax error: %v", err)
	}
	// The connection is still usable.
	if err := conn.QueryRow(ctx, "select 3").Scan(&a); err != nil || a != 3 {
		t.Fatalf("after error: %d, %v", a, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestExtendedProtocolWithPgx(t *testing.T) {
	ts := startServer(t)
	conn := ts.connect(t, pgx.QueryExecModeCacheStatement)
	ctx := testContext(t)

	// pgx sends int4/int8 parameters and asks for int4/int8 results in binary.
	var a int32
	var b int64
	var s string
	if err := conn.QueryRow(ctx, "echo int4 int8 text", int32(-5), int64(1)<<40, "hé").Scan(&a, &b, &s); err != nil {
		t.Fatal(err)
	}
	if a != -5 || b != 1<<40 || s != "hé" {
		t.Errorf("echo = %d, %d, %q", a, b, s)
	}

	var c *int64
	if err := conn.QueryRow(ctx, "row").Scan(&a, &s, &c); err != nil || a != 1 || s != "x" || c != nil {
		t.Errorf("row = %d, %q, %v, %v", a, s, c, err)
	}

	ns, err := pgx.CollectRows(must(conn.Query(ctx, "ints 5000 1000")), pgx.RowTo[int64])
	if err != nil || len(ns) != 5000 || ns[4999] != 5000 {
		t.Fatalf("ints: %d rows, %v", len(ns), err)
	}

	// Errors carry SQLSTATE and position, and the connection recovers.
	_, err = conn.Exec(ctx, "describefail")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Position != 15 {
		t.Fatalf("describefail: %v", err)
	}
	_, err = conn.Exec(ctx, "failafter 3")
	if pgCode(err) != "22012" {
		t.Fatalf("failafter: %v", err)
	}
	if err := conn.QueryRow(ctx, "select 9").Scan(&a); err != nil || a != 9 {
		t.Fatalf("after errors: %d, %v", a, err)
	}

	// A batch is pipelined: every query's messages, then one Sync.
	batch := &pgx.Batch{}
	batch.Queue("select 1")
	batch.Queue("insert 4")
	batch.Queue("echo int8", int64(8))
	br := conn.SendBatch(ctx, batch)
	var one int32
	var eight int64
	if err := br.QueryRow().Scan(&one); err != nil || one != 1 {
		t.Fatalf("batch select: %d, %v", one, err)
	}
	if tag, err := br.Exec(); err != nil || tag.String() != "INSERT 0 4" {
		t.Fatalf("batch insert: %v, %v", tag, err)
	}
	if err := br.QueryRow().Scan(&eight); err != nil || eight != 8 {
		t.Fatalf("batch echo: %d, %v", eight, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestParameterAndResultFormats(t *testing.T) {
	ts := startServer(t)
	conn := ts.connect(t, pgx.QueryExecModeCacheStatement)
	pg := conn.PgConn()
	ctx := testContext(t)
	tests := []struct {
		name          string
		params        [][]byte
		paramFormats  []int16
		resultFormats []int16
		want          [][]byte
	}{
		{"all text", [][]byte{[]byte("42"), []byte("hi")}, nil, nil, [][]byte{[]byte("42"), []byte("hi")}},
		{"binary parameter", [][]byte{{0, 0, 0, 42}, []byte("hi")}, []int16{1, 0}, []int16{0}, [][]byte{[]byte("42"), []byte("hi")}},
		{"binary results for all", [][]byte{[]byte("42"), []byte("hi")}, []int16{0}, []int16{1}, [][]byte{{0, 0, 0, 42}, []byte("hi")}},
		{"result format per column", [][]byte{[]byte("42"), []byte("hi")}, nil, []int16{1, 0}, [][]byte{{0, 0, 0, 42}, []byte("hi")}},
		{"NULL parameter", [][]byte{nil, []byte("hi")}, nil, nil, [][]byte{nil, []byte("hi")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := pg.ExecParams(ctx, "echo int4 text", tt.params, nil, tt.paramFormats, tt.resultFormats).Read()
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if len(res.Rows) != 1 || !slices.EqualFunc(res.Rows[0], tt.want, func(a, b []byte) bool { return string(a) == string(b) && (a == nil) == (b == nil) }) {
				t.Fatalf("rows %q, want %q", res.Rows, tt.want)
			}
		})
	}
}

// TestTranscripts pins exchanges message by message. Each case runs on a
// fresh connection; want lists every message the server sends in answer.
// Expectations follow PostgreSQL 15 (checked against it where it has an
// equivalent statement).
func TestTranscripts(t *testing.T) {
	type msgs = []pgproto3.FrontendMessage
	parse := func(name, sql string) *pgproto3.Parse { return &pgproto3.Parse{Name: name, Query: sql} }
	bind := func(portal, stmt string, params ...string) *pgproto3.Bind {
		b := &pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt}
		for _, p := range params {
			b.Parameters = append(b.Parameters, []byte(p))
		}
		return b
	}
	exec := func(portal string, maxRows uint32) *pgproto3.Execute {
		return &pgproto3.Execute{Portal: portal, MaxRows: maxRows}
	}
	query := func(sql string) *pgproto3.Query { return &pgproto3.Query{String: sql} }
	sync := &pgproto3.Sync{}

	tests := []struct {
		name string
		send msgs
		want []string
	}{
		{
			name: "simple query with several statements and a comment",
			send: msgs{query("select 1; insert 2 -- c\n; row")},
			want: []string{
				"RowDescription ?column?:23:0", "DataRow 1", "CommandComplete SELECT 1",
				"CommandComplete INSERT 0 2",
				"RowDescription a:23:0 b:25:0 c:20:0", "DataRow 1 x NULL", "CommandComplete SELECT 1",
				"ReadyForQuery I",
			},
		},
		{
			name: "a syntax error fails the whole string before anything runs",
			send: msgs{query("select 1; selec 2")},
			want: []string{"ErrorResponse ERROR 42601 pos=11", "ReadyForQuery I"},
		},
		{
			name: "a run-time error stops the remaining statements",
			send: msgs{query("select 1; failafter 2; select 3")},
			want: []string{
				"RowDescription ?column?:23:0", "DataRow 1", "CommandComplete SELECT 1",
				"RowDescription n:20:0", "DataRow 1", "DataRow 2", "ErrorResponse ERROR 22012",
				"ReadyForQuery I",
			},
		},
		{
			name: "a batch that does not match the result's columns is an internal error",
			send: msgs{query("badtype")},
			want: []string{"RowDescription n:23:0", "ErrorResponse ERROR XX000", "ReadyForQuery I"},
		},
		{
			name: "empty query",
			send: msgs{query(";")},
			want: []string{"EmptyQueryResponse", "ReadyForQuery I"},
		},
		{
			name: "all-comment query",
			send: msgs{query("-- c")},
			want: []string{"EmptyQueryResponse", "ReadyForQuery I"},
		},
		{
			name: "a parameter in a simple query",
			send: msgs{query("echo int4")},
			want: []string{"ErrorResponse ERROR 42P02", "ReadyForQuery I"},
		},
		{
			name: "notices come before the result",
			send: msgs{query("notice")},
			want: []string{"NoticeResponse WARNING 01000", "CommandComplete DO", "ReadyForQuery I"},
		},
		{
			name: "changed run-time parameters are reported before ReadyForQuery",
			send: msgs{query("set application_name app; set DateStyle ISO"), query("set DateStyle ISO")},
			want: []string{
				"CommandComplete SET", "CommandComplete SET",
				"ParameterStatus application_name=app", "ParameterStatus DateStyle=ISO", "ReadyForQuery I",
				"CommandComplete SET", "ReadyForQuery I",
			},
		},
		{
			name: "describe statement and portal",
			send: msgs{
				parse("s", "echo int4 text"), &pgproto3.Describe{ObjectType: 'S', Name: "s"},
				&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("42"), []byte("hi")}, ResultFormatCodes: []int16{1}},
				&pgproto3.Describe{ObjectType: 'P'}, exec("", 0), sync,
			},
			want: []string{
				"ParseComplete", "ParameterDescription [23 25]", "RowDescription p1:23:0 p2:25:0",
				"BindComplete", "RowDescription p1:23:1 p2:25:1",
				"DataRow 0x0000002a hi", "CommandComplete SELECT 1", "ReadyForQuery I",
			},
		},
		{
			name: "a statement without rows is described as NoData",
			send: msgs{parse("", "insert 3"), &pgproto3.Describe{ObjectType: 'S'}, bind("", ""), &pgproto3.Describe{ObjectType: 'P'}, exec("", 0), sync},
			want: []string{"ParseComplete", "ParameterDescription []", "NoData", "BindComplete", "NoData", "CommandComplete INSERT 0 3", "ReadyForQuery I"},
		},
		{
			name: "empty prepared statement",
			send: msgs{parse("", " -- c"), &pgproto3.Describe{ObjectType: 'S'}, bind("", ""), &pgproto3.Describe{ObjectType: 'P'}, exec("", 0), sync},
			want: []string{"ParseComplete", "ParameterDescription []", "NoData", "BindComplete", "NoData", "EmptyQueryResponse", "ReadyForQuery I"},
		},
		{
			name: "portal suspended by a row limit resumes on the next Execute",
			send: msgs{parse("", "ints 5 2"), bind("", ""), exec("", 2), exec("", 2), exec("", 2), exec("", 2), sync},
			want: []string{
				"ParseComplete", "BindComplete",
				"DataRow 1", "DataRow 2", "PortalSuspended",
				"DataRow 3", "DataRow 4", "PortalSuspended",
				"DataRow 5", "CommandComplete SELECT 1",
				"CommandComplete SELECT 0",
				"ReadyForQuery I",
			},
		},
		{
			name: "a row limit that ends exactly with the rows still suspends",
			send: msgs{parse("", "ints 4 2"), bind("", ""), exec("", 2), exec("", 2), exec("", 2), sync},
			want: []string{
				"ParseComplete", "BindComplete",
				"DataRow 1", "DataRow 2", "PortalSuspended",
				"DataRow 3", "DataRow 4", "PortalSuspended",
				"CommandComplete SELECT 0", "ReadyForQuery I",
			},
		},
		{
			name: "a row limit across batch boundaries",
			send: msgs{parse("", "ints 5 2"), bind("", ""), exec("", 3), exec("", 0), sync},
			want: []string{
				"ParseComplete", "BindComplete",
				"DataRow 1", "DataRow 2", "DataRow 3", "PortalSuspended",
				"DataRow 4", "DataRow 5", "CommandComplete SELECT 2", "ReadyForQuery I",
			},
		},
		{
			name: "portals end with the implicit transaction at Sync",
			send: msgs{parse("", "ints 5"), bind("p", ""), exec("p", 2), sync, exec("p", 2), sync},
			want: []string{
				"ParseComplete", "BindComplete", "DataRow 1", "DataRow 2", "PortalSuspended", "ReadyForQuery I",
				"ErrorResponse ERROR 34000", "ReadyForQuery I",
			},
		},
		{
			name: "portals survive Sync inside a transaction block",
			send: msgs{query("begin"), parse("", "ints 3"), bind("p", ""), exec("p", 1), sync, exec("p", 0), sync, query("commit")},
			want: []string{
				"CommandComplete BEGIN", "ReadyForQuery T",
				"ParseComplete", "BindComplete", "DataRow 1", "PortalSuspended", "ReadyForQuery T",
				"DataRow 2", "DataRow 3", "CommandComplete SELECT 2", "ReadyForQuery T",
				"CommandComplete COMMIT", "ReadyForQuery I",
			},
		},
		{
			name: "an error skips every message up to Sync",
			send: msgs{parse("", "bogus"), bind("", ""), exec("", 0), query("select 2"), sync, query("select 3")},
			want: []string{
				"ErrorResponse ERROR 42601 pos=1", "ReadyForQuery I",
				"RowDescription ?column?:23:0", "DataRow 3", "CommandComplete SELECT 1", "ReadyForQuery I",
			},
		},
		{
			name: "pipelined statements before one Sync",
			send: msgs{parse("", "select 1"), bind("", ""), exec("", 0), parse("", "select 2"), bind("", ""), exec("", 0), sync},
			want: []string{
				"ParseComplete", "BindComplete", "DataRow 1", "CommandComplete SELECT 1",
				"ParseComplete", "BindComplete", "DataRow 2", "CommandComplete SELECT 1",
				"ReadyForQuery I",
			},
		},
		{
			name: "several commands in one Parse",
			send: msgs{parse("", "select 1; select 2"), sync},
			want: []string{"ErrorResponse ERROR 42601", "ReadyForQuery I"},
		},
		{
			name: "a named statement cannot be redefined",
			send: msgs{parse("s", "select 1"), parse("s", "select 2"), sync},
			want: []string{"ParseComplete", "ErrorResponse ERROR 42P05", "ReadyForQuery I"},
		},
		{
			name: "the unnamed statement is replaced",
			send: msgs{parse("", "select 1"), parse("", "select 2"), bind("", ""), exec("", 0), sync},
			want: []string{"ParseComplete", "ParseComplete", "BindComplete", "DataRow 2", "CommandComplete SELECT 1", "ReadyForQuery I"},
		},
		{
			name: "a simple query destroys the unnamed statement",
			send: msgs{parse("", "select 7"), sync, query("select 1"), bind("", ""), sync},
			want: []string{
				"ParseComplete", "ReadyForQuery I",
				"RowDescription ?column?:23:0", "DataRow 1", "CommandComplete SELECT 1", "ReadyForQuery I",
				"ErrorResponse ERROR 26000", "ReadyForQuery I",
			},
		},
		{
			name: "unknown statements and portals",
			send: msgs{bind("", "zz"), sync, exec("zz", 0), sync, &pgproto3.Describe{ObjectType: 'S', Name: "zz"}, sync, &pgproto3.Describe{ObjectType: 'P', Name: "zz"}, sync},
			want: []string{
				"ErrorResponse ERROR 26000", "ReadyForQuery I", "ErrorResponse ERROR 34000", "ReadyForQuery I",
				"ErrorResponse ERROR 26000", "ReadyForQuery I", "ErrorResponse ERROR 34000", "ReadyForQuery I",
			},
		},
		{
			name: "a named portal cannot be rebound",
			send: msgs{parse("", "select 1"), bind("p", ""), bind("p", ""), sync},
			want: []string{"ParseComplete", "BindComplete", "ErrorResponse ERROR 42P03", "ReadyForQuery I"},
		},
		{
			name: "closed statements are gone; closing twice is fine",
			send: msgs{parse("s", "select 1"), &pgproto3.Close{ObjectType: 'S', Name: "s"}, &pgproto3.Close{ObjectType: 'S', Name: "s"}, bind("", "s"), sync},
			want: []string{"ParseComplete", "CloseComplete", "CloseComplete", "ErrorResponse ERROR 26000", "ReadyForQuery I"},
		},
		{
			name: "closing a suspended portal",
			send: msgs{parse("", "ints 3"), bind("p", ""), exec("p", 1), &pgproto3.Close{ObjectType: 'P', Name: "p"}, exec("p", 1), sync},
			want: []string{"ParseComplete", "BindComplete", "DataRow 1", "PortalSuspended", "CloseComplete", "ErrorResponse ERROR 34000", "ReadyForQuery I"},
		},
		{
			name: "wrong number of parameters",
			send: msgs{parse("s", "echo int4"), bind("", "s"), sync},
			want: []string{"ParseComplete", "ErrorResponse ERROR 08P01", "ReadyForQuery I"},
		},
		{
			name: "wrong number of parameter formats",
			send: msgs{parse("", "echo int4"), &pgproto3.Bind{ParameterFormatCodes: []int16{0, 0}, Parameters: [][]byte{[]byte("1")}}, sync},
			want: []string{"ParseComplete", "ErrorResponse ERROR 08P01", "ReadyForQuery I"},
		},
		{
			name: "wrong number of result formats",
			send: msgs{parse("", "select 1"), &pgproto3.Bind{ResultFormatCodes: []int16{0, 0}}, sync},
			want: []string{"ParseComplete", "ErrorResponse ERROR 08P01", "ReadyForQuery I"},
		},
		{
			name: "unsupported format codes",
			send: msgs{
				parse("", "echo int4"), &pgproto3.Bind{ParameterFormatCodes: []int16{2}, Parameters: [][]byte{[]byte("1")}}, sync,
				&pgproto3.Bind{Parameters: [][]byte{[]byte("1")}, ResultFormatCodes: []int16{2}}, sync,
			},
			want: []string{
				"ParseComplete", `ErrorResponse ERROR 22023 where="unnamed portal parameter $1"`, "ReadyForQuery I",
				"ErrorResponse ERROR 22023", "ReadyForQuery I",
			},
		},
		{
			name: "a parameter that does not decode",
			send: msgs{parse("", "echo int4"), bind("p", "", "x"), sync},
			want: []string{"ParseComplete", `ErrorResponse ERROR 22P02 where="portal \"p\" parameter $1"`, "ReadyForQuery I"},
		},
		{
			name: "an error at Describe time surfaces at Parse",
			send: msgs{parse("", "describefail"), sync},
			want: []string{"ErrorResponse ERROR 42P01 pos=15", "ReadyForQuery I"},
		},
		{
			name: "a finished portal answers SELECT 0 if it returns rows",
			send: msgs{parse("", "select 1"), bind("", ""), exec("", 0), exec("", 0), sync},
			want: []string{"ParseComplete", "BindComplete", "DataRow 1", "CommandComplete SELECT 1", "CommandComplete SELECT 0", "ReadyForQuery I"},
		},
		{
			name: "a finished portal cannot run again otherwise",
			send: msgs{parse("", "insert 1"), bind("", ""), exec("", 0), exec("", 0), sync},
			want: []string{"ParseComplete", "BindComplete", "CommandComplete INSERT 0 1", "ErrorResponse ERROR 55000", "ReadyForQuery I"},
		},
		{
			name: "a run-time error in Execute closes the portal",
			send: msgs{parse("", "failafter 1"), bind("", ""), exec("", 0), sync, exec("", 0), sync},
			want: []string{
				"ParseComplete", "BindComplete", "DataRow 1", "ErrorResponse ERROR 22012", "ReadyForQuery I",
				"ErrorResponse ERROR 34000", "ReadyForQuery I",
			},
		},
		{
			name: "Flush sends what is pending without Sync",
			send: msgs{parse("", "select 1"), &pgproto3.Flush{}},
			want: []string{"ParseComplete"},
		},
		{
			name: "invalid Describe and Close subtypes",
			send: msgs{&pgproto3.Describe{ObjectType: 'Z'}, sync, &pgproto3.Close{ObjectType: 'Z'}, sync},
			want: []string{"ErrorResponse ERROR 08P01", "ReadyForQuery I", "ErrorResponse ERROR 08P01", "ReadyForQuery I"},
		},
		{
			name: "the function call protocol is refused",
			send: msgs{&pgproto3.FunctionCall{Function: 1}},
			want: []string{"ErrorResponse ERROR 0A000", "ReadyForQuery I"},
		},
		{
			name: "COPY data outside COPY is ignored",
			send: msgs{&pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{}, query("select 1")},
			want: []string{"RowDescription ?column?:23:0", "DataRow 1", "CommandComplete SELECT 1", "ReadyForQuery I"},
		},
	}
	ts := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.startup(t)
			c.send(tt.send...)
			if got := c.read(len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestProtocolViolationClosesConnection(t *testing.T) {
	ts := startServer(t)
	c := ts.startup(t)
	c.nc.Write([]byte{'Z', 0, 0, 0, 4})
	want := []string{"ErrorResponse FATAL 08P01", "EOF"}
	if got := c.read(2); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	<-ts.h.sessionClosed
}

func TestTerminate(t *testing.T) {
	ts := startServer(t)
	c := ts.startup(t)
	// Statements queued before Terminate still run.
	c.send(&pgproto3.Query{String: "select 1"}, &pgproto3.Terminate{})
	want := []string{"RowDescription ?column?:23:0", "DataRow 1", "CommandComplete SELECT 1", "ReadyForQuery I", "EOF"}
	if got := c.read(5); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	<-ts.h.sessionClosed
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t)
	conn := ts.connect(t, pgx.QueryExecModeCacheStatement)
	ctx := testContext(t)

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			errs := make(chan error, 1)
			go func() {
				_, err := conn.Exec(ctx, "wait", mode)
				errs <- err
			}()
			blocked := <-ts.h.blocked

			// A wrong secret is ignored: the server closes the cancel
			// connection without touching the statement.
			bad := ts.dialRaw(t)
			secret := slices.Clone(conn.PgConn().SecretKey())
			secret[0] ^= 0xff
			bad.send(&pgproto3.CancelRequest{ProcessID: conn.PgConn().PID(), SecretKey: secret})
			if got := bad.read(1); got[0] != "EOF" {
				t.Fatalf("cancel connection answered %q", got)
			}
			if err := (*blocked.nextCtx.Load()).Err(); err != nil {
				t.Fatalf("a wrong key cancelled the statement: %v", err)
			}

			if err := conn.PgConn().CancelRequest(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-errs; pgCode(err) != "57014" {
				t.Fatalf("cancelled statement returned %v, want 57014", err)
			}
			var n int32
			if err := conn.QueryRow(ctx, "select 5").Scan(&n); err != nil || n != 5 {
				t.Fatalf("after cancel: %d, %v", n, err)
			}
		})
	}
}

func TestClientVanishesMidResult(t *testing.T) {
	t.Run("while the statement waits for rows", func(t *testing.T) {
		ts := startServer(t)
		c := ts.startup(t)
		c.send(&pgproto3.Query{String: "stream"})
		// The first batch arrives while the statement is still running.
		want := []string{"RowDescription n:20:0", "DataRow 1", "DataRow 2", "DataRow 3"}
		if got := c.read(4); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		blocked := <-ts.h.blocked
		c.nc.Close()
		<-ts.h.sessionClosed
		if err := (*blocked.nextCtx.Load()).Err(); err == nil {
			t.Error("the statement's context was not cancelled")
		}
		ts.stop()
	})
	t.Run("while the server is sending a large result", func(t *testing.T) {
		ts := startServer(t)
		c := ts.startup(t)
		c.send(&pgproto3.Query{String: "ints 100000000 4096"})
		if got := c.read(2); got[1] != "DataRow 1" {
			t.Fatalf("got %q", got)
		}
		c.nc.Close()
		<-ts.h.sessionClosed
		ts.stop()
	})
	t.Run("in the extended protocol with a suspended portal", func(t *testing.T) {
		ts := startServer(t)
		c := ts.startup(t)
		c.send(&pgproto3.Parse{Query: "stream"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Flush{})
		want := []string{"ParseComplete", "BindComplete", "DataRow 1", "DataRow 2", "PortalSuspended"}
		if got := c.read(5); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		c.nc.Close()
		<-ts.h.sessionClosed
		ts.stop()
	})
}

func TestShutdownClosesEverything(t *testing.T) {
	ts := startServer(t)
	idle := ts.connect(t, pgx.QueryExecModeCacheStatement)
	busy := ts.startup(t)
	busy.send(&pgproto3.Query{String: "wait"})
	if got := busy.read(1); got[0] != "RowDescription n:20:0" {
		t.Fatalf("got %q", got)
	}
	<-ts.h.blocked

	ts.stop() // returns once every connection goroutine has ended

	want := []string{"ErrorResponse FATAL 57P01", "EOF"}
	if got := busy.read(2); !slices.Equal(got, want) {
		t.Errorf("busy client got %q, want %q", got, want)
	}
	if err := idle.Ping(testContext(t)); err == nil {
		t.Error("idle connection still works after shutdown")
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Error("listener still accepts after shutdown")
	}
}

func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	ts := startServer(t)
	host, port, _ := net.SplitHostPort(ts.addr)
	ctx := testContext(t)
	cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "x", "-d", "y", "-c", "select 1", "-c", "ints 3")
	cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if got, want := string(out), "1\n1\n2\n3\n"; got != want {
		t.Fatalf("psql printed %q, want %q", got, want)
	}
}

func TestPanicEndsOnlyItsConnection(t *testing.T) {
	ts := startServer(t)
	ts.wantErrors = []string{"pgwire: panic while serving a connection"}
	c := ts.startup(t)
	c.send(&pgproto3.Query{String: "panic"})
	want := []string{"ErrorResponse FATAL XX000", "EOF"}
	if got := c.read(2); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	<-ts.h.sessionClosed
	if got := ts.startup(t).exchange(&pgproto3.Query{String: "select 1"}); got[1] != "DataRow 1" {
		t.Fatalf("another connection after the panic got %q", got)
	}
}
