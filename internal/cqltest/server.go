package cqltest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server.
type Options struct {
	// Username and Password, when Username is set, make clients
	// authenticate with PasswordAuthenticator (SASL PLAIN).
	Username, Password string
	// DataCenter is the data center the node reports; "datacenter1" when
	// empty.
	DataCenter string
}

// Server is an in-memory, single-node Cassandra that speaks the native
// protocol v4. See the package documentation.
type Server struct {
	opts Options
	ln   net.Listener

	mu        sync.Mutex
	keyspaces map[string]*keyspace
	prepared  map[string]*prepared
	faults    []int
	writes    []Write
	changed   chan struct{}
	lastTS    int64
	conns     map[net.Conn]*conn
	events    [][]byte // SCHEMA_CHANGE events not yet pushed
	closed    bool
	wg        sync.WaitGroup
}

// Write describes one request that wrote rows of a keyspace other than the
// system ones: a QUERY or EXECUTE of an INSERT or DELETE, or a BATCH.
type Write struct {
	Op         string // "QUERY", "EXECUTE" or "BATCH"
	BatchType  string // "LOGGED", "UNLOGGED" or "COUNTER" for a BATCH
	Statements int
	// Partitions are the distinct partitions written, as keyspace.table
	// and the partition key's encoded values.
	Partitions int
	// Failed is set when the server failed the request on purpose
	// (FailWrites); nothing of it was applied.
	Failed bool
}

type prepared struct {
	query string
	ks    string // the connection's keyspace when it was prepared
	st    *stmt
}

// Start runs a server on a free loopback port; the test's cleanup stops
// it.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen runs a server on addr until Close.
func Listen(addr string, opts Options) (*Server, error) {
	if opts.DataCenter == "" {
		opts.DataCenter = "datacenter1"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, ln: ln, keyspaces: systemKeyspaces(), prepared: map[string]*prepared{},
		changed: make(chan struct{}), conns: map[net.Conn]*conn{}}
	ip := net.ParseIP(ln.Addr().(*net.TCPAddr).IP.String()).To4()
	s.keyspaces["system"].tables["local"].put(map[string][]byte{
		"key": text("local"), "bootstrapped": text("COMPLETED"), "broadcast_address": ip,
		"cluster_name": text("Test Cluster"), "cql_version": text("3.4.4"), "data_center": text(opts.DataCenter),
		"gossip_generation": int32v(1), "host_id": newUUID(), "listen_address": ip,
		"native_protocol_version": text("4"), "partitioner": text("org.apache.cassandra.dht.Murmur3Partitioner"),
		"rack": text("rack1"), "release_version": text("3.11.16"), "rpc_address": ip,
		"schema_version": newUUID(), "thrift_version": text("20.1.0"), "tokens": textSet("0"),
	})
	for _, ks := range s.keyspaces {
		s.describeKeyspace(ks)
		for _, t := range ks.tables {
			s.describeTable(t)
		}
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Exec runs CQL statements separated by semicolons, as cqlsh would, without
// a connection; it is for tests setting up keyspaces and tables.
func (s *Server) Exec(cql string) error {
	for _, q := range strings.Split(cql, ";") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		st, err := parse(q)
		if err != nil {
			return err
		}
		s.mu.Lock()
		_, rerr := s.run(&session{}, st, nil, queryParams{}, "QUERY")
		s.mu.Unlock()
		if rerr != nil {
			return rerr
		}
	}
	return nil
}

// Rows returns the rows of a table in primary key order, each a map from
// column name to its value as Decode returns it.
func (s *Server) Rows(ks, table string) ([]map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, rerr := s.table(ks, table)
	if rerr != nil {
		return nil, rerr
	}
	var out []map[string]any
	for _, r := range t.sortedRows() {
		m := make(map[string]any, len(t.cols))
		for i, c := range t.cols {
			v, err := Decode(c.typ, t.cell(r, i))
			if err != nil {
				return nil, fmt.Errorf("%s.%s column %s: %w", ks, table, c.name, err)
			}
			m[c.name] = v
		}
		out = append(out, m)
	}
	return out, nil
}

// FailWrites makes the next n requests that write rows (QUERY, EXECUTE or
// BATCH of INSERT and DELETE statements outside the system keyspaces) fail
// with the error code, one of ErrWriteTimeout, ErrUnavailable,
// ErrOverloaded or ErrServer, without applying anything.
func (s *Server) FailWrites(n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults = append(s.faults, code)
	}
}

// Writes returns the requests that wrote rows so far, in order.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.writes...)
}

// Changed returns a channel that is closed at the next change of a row
// outside the system keyspaces (or failed write), for tests that wait for
// a sink to catch up without polling on a timer.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// timestamp is the server's write timestamp for a request that brings
// none: microseconds, strictly increasing.
func (s *Server) timestamp() int64 {
	ts := time.Now().UnixMicro()
	if ts <= s.lastTS {
		ts = s.lastTS + 1
	}
	s.lastTS = ts
	return ts
}

func newUUID() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0F | 0x40
	b[8] = b[8]&0x3F | 0x80
	return b
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		cn := &conn{c: c, w: bufio.NewWriter(c)}
		s.conns[c] = cn
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(cn)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// conn is a client connection. Responses are written by its own
// goroutine, events by whichever connection's request caused them.
type conn struct {
	c          net.Conn
	wmu        sync.Mutex
	w          *bufio.Writer
	registered bool // for SCHEMA_CHANGE events; guarded by Server.mu
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

// session is a connection's state.
type session struct {
	conn     *conn
	started  bool // STARTUP done
	authed   bool
	keyspace string
}

// reqError is an ERROR response: a code, a message and the code's extra
// fields, already encoded.
type reqError struct {
	code  int
	msg   string
	extra func(f *frame)
}

func (e *reqError) Error() string { return fmt.Sprintf("error 0x%04x: %s", e.code, e.msg) }

func invalid(format string, args ...any) *reqError {
	return &reqError{code: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) serve(c *conn) {
	r := bufio.NewReader(c.c)
	var hbuf [headerSize]byte
	sess := &session{conn: c}
	for {
		h, err := readHeader(r, hbuf[:])
		if err != nil {
			return
		}
		body := make([]byte, h.length)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var out []byte
		if h.version != protocolVersion {
			// A client offering another version (v5, DSE's) learns that
			// only v4 is spoken, in a frame of its own version as
			// Cassandra answers (drivers match the response's version to
			// the request's), and may downgrade.
			out = errorFrame(h.stream, &reqError{code: ErrProtocol, msg: fmt.Sprintf(
				"Invalid or unsupported protocol version (%d); supported versions are (4/v4)", h.version)})
			out[0] = 0x80 | max(h.version, 3)
		} else if h.flags&0x01 != 0 {
			out = errorFrame(h.stream, &reqError{code: ErrProtocol, msg: "compression is not supported by the test server"})
		} else {
			out = s.handle(sess, h, body)
		}
		if err := c.write(out); err != nil {
			return
		}
		s.pushEvents()
	}
}

// pushEvents sends the pending schema events to every connection that
// registered for them, as Cassandra tells drivers to refresh their schema.
func (s *Server) pushEvents() {
	s.mu.Lock()
	events := s.events
	s.events = nil
	var to []*conn
	if len(events) > 0 {
		for _, c := range s.conns {
			if c.registered {
				to = append(to, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range to {
		for _, e := range events {
			c.write(e) // a broken connection is its own goroutine's business
		}
	}
}

func errorFrame(stream int16, e *reqError) []byte {
	f := newFrame(stream, opError)
	f.int(int32(e.code))
	f.string(e.msg)
	if e.extra != nil {
		e.extra(f)
	}
	return f.finish()
}

func (s *Server) handle(sess *session, h header, body []byte) []byte {
	rd := &reader{b: body}
	needAuth := s.opts.Username != ""
	switch h.op {
	case opOptions:
		f := newFrame(h.stream, opSupported)
		f.stringMultimap(map[string][]string{
			"CQL_VERSION": {"3.4.4"}, "COMPRESSION": {}, "PROTOCOL_VERSIONS": {"4/v4"},
		}, []string{"COMPRESSION", "CQL_VERSION", "PROTOCOL_VERSIONS"})
		return f.finish()
	case opStartup:
		opts := rd.stringMap()
		if rd.err != nil {
			return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: rd.err.Error()})
		}
		if c := opts["COMPRESSION"]; c != "" {
			return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: fmt.Sprintf("Unknown compression algorithm: %s", c)})
		}
		sess.started = true
		if needAuth {
			f := newFrame(h.stream, opAuthenticate)
			f.string("org.apache.cassandra.auth.PasswordAuthenticator")
			return f.finish()
		}
		sess.authed = true
		return newFrame(h.stream, opReady).finish()
	case opAuthResponse:
		tok := rd.take(int(rd.int()))
		parts := bytes.Split(tok, []byte{0})
		if !sess.started || len(parts) != 3 || string(parts[1]) != s.opts.Username || string(parts[2]) != s.opts.Password {
			return errorFrame(h.stream, &reqError{code: ErrBadCredentials, msg: "Provided username and/or password are incorrect"})
		}
		sess.authed = true
		f := newFrame(h.stream, opAuthSuccess)
		f.bytes(nil)
		return f.finish()
	}
	if !sess.started || !sess.authed {
		return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: fmt.Sprintf("unexpected message 0x%02x before STARTUP and authentication", h.op)})
	}
	var (
		f    *frame
		rerr *reqError
	)
	switch h.op {
	case opRegister:
		for _, e := range rd.stringList() {
			if e == "SCHEMA_CHANGE" {
				s.mu.Lock()
				sess.conn.registered = true
				s.mu.Unlock()
			}
		}
		f = newFrame(h.stream, opReady)
	case opQuery:
		q := rd.longString()
		p := rd.queryParams()
		if rd.err != nil {
			return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: rd.err.Error()})
		}
		st, err := parse(q)
		if err != nil {
			return errorFrame(h.stream, &reqError{code: ErrSyntax, msg: err.Error()})
		}
		s.mu.Lock()
		f, rerr = s.run(sess, st, p.values, p, "QUERY")
		s.mu.Unlock()
	case opPrepare:
		q := rd.longString()
		if rd.err != nil {
			return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: rd.err.Error()})
		}
		st, err := parse(q)
		if err != nil {
			return errorFrame(h.stream, &reqError{code: ErrSyntax, msg: err.Error()})
		}
		s.mu.Lock()
		f, rerr = s.prepare(sess, h.stream, q, st)
		s.mu.Unlock()
	case opExecute:
		id := rd.shortBytes()
		p := rd.queryParams()
		if rd.err != nil {
			return errorFrame(h.stream, &reqError{code: ErrProtocol, msg: rd.err.Error()})
		}
		s.mu.Lock()
		ps, ok := s.prepared[string(id)]
		if !ok {
			s.mu.Unlock()
			return errorFrame(h.stream, unprepared(id))
		}
		f, rerr = s.run(&session{keyspace: ps.ks}, ps.st, p.values, p, "EXECUTE")
		s.mu.Unlock()
	case opBatch:
		s.mu.Lock()
		f, rerr = s.batch(sess, rd)
		s.mu.Unlock()
	default:
		rerr = &reqError{code: ErrProtocol, msg: fmt.Sprintf("unsupported opcode 0x%02x", h.op)}
	}
	if rerr != nil {
		return errorFrame(h.stream, rerr)
	}
	binary.BigEndian.PutUint16(f.buf[2:4], uint16(h.stream))
	return f.finish()
}

func unprepared(id []byte) *reqError {
	return &reqError{code: ErrUnprepared, msg: fmt.Sprintf("Prepared query with ID %x not found", id),
		extra: func(f *frame) { f.shortBytes(id) }}
}

func (s *Server) table(ks, name string) (*table, *reqError) {
	k, ok := s.keyspaces[ks]
	if !ok {
		return nil, invalid("Keyspace %s does not exist", ks)
	}
	t, ok := k.tables[name]
	if !ok {
		return nil, invalid("unconfigured table %s", name)
	}
	return t, nil
}

func (s *Server) resolve(sess *session, st *stmt) (*table, *reqError) {
	ks := st.ks
	if ks == "" {
		ks = sess.keyspace
	}
	if ks == "" {
		return nil, invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	return s.table(ks, st.table)
}

// markers lists the column each bind marker of st stands for.
func markers(t *table, st *stmt) ([]*column, *reqError) {
	cols := make([]*column, st.markers)
	bind := func(col string, v term) *reqError {
		i, ok := t.byName[col]
		if !ok {
			return invalid("Undefined column name %s", col)
		}
		if v.marker >= 0 {
			cols[v.marker] = t.cols[i]
		}
		return nil
	}
	for i, c := range st.cols {
		if st.kind == stInsert {
			if err := bind(c, st.vals[i]); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range st.where {
		if err := bind(c.col, c.val); err != nil {
			return nil, err
		}
	}
	return cols, nil
}

func (s *Server) prepare(sess *session, stream int16, query string, st *stmt) (*frame, *reqError) {
	sum := md5.Sum([]byte(sess.keyspace + "\x00" + query))
	id := sum[:]
	f := newFrame(stream, opResult)
	f.int(resultPrepared)
	f.shortBytes(id)
	var (
		t    *table
		cols []*column
	)
	switch st.kind {
	case stSelect, stInsert, stDelete:
		var rerr *reqError
		if t, rerr = s.resolve(sess, st); rerr != nil {
			return nil, rerr
		}
		if cols, rerr = markers(t, st); rerr != nil {
			return nil, rerr
		}
	default:
		if st.markers > 0 {
			return nil, invalid("bind markers are not supported in this statement")
		}
	}
	// Bind variables' metadata, with the partition key's markers so
	// that drivers can route by token.
	var pk []int
	if t != nil {
		for _, pc := range t.partition {
			found := -1
			for m, c := range cols {
				if c == t.cols[pc] {
					found = m
					break
				}
			}
			if found < 0 {
				pk = nil
				break
			}
			pk = append(pk, found)
		}
	}
	if len(cols) > 0 {
		f.int(mfGlobalTableSpec)
	} else {
		f.int(0)
	}
	f.int(int32(len(cols)))
	f.int(int32(len(pk)))
	for _, i := range pk {
		f.short(uint16(i))
	}
	if len(cols) > 0 {
		f.string(t.ks)
		f.string(t.name)
		for _, c := range cols {
			f.string(c.name)
			f.option(c.typ)
		}
	}
	if st.kind == stSelect {
		sel, rerr := selected(t, st)
		if rerr != nil {
			return nil, rerr
		}
		rowsMetadata(f, t, sel, nil, false)
	} else {
		f.int(mfNoMetadata)
		f.int(0)
	}
	s.prepared[string(id)] = &prepared{query: query, ks: sess.keyspace, st: st}
	return f, nil
}

func selected(t *table, st *stmt) ([]int, *reqError) {
	if st.cols == nil {
		sel := make([]int, len(t.cols))
		for i := range sel {
			sel[i] = i
		}
		// Cassandra lists the key columns first, then the others by name.
		sort.SliceStable(sel, func(a, b int) bool {
			ca, cb := t.cols[sel[a]], t.cols[sel[b]]
			ra, rb := colRank(ca), colRank(cb)
			if ra != rb {
				return ra < rb
			}
			if ca.position != cb.position {
				return ca.position < cb.position
			}
			return ca.name < cb.name
		})
		return sel, nil
	}
	sel := make([]int, len(st.cols))
	for i, c := range st.cols {
		j, ok := t.byName[c]
		if !ok {
			return nil, invalid("Undefined column name %s", c)
		}
		sel[i] = j
	}
	return sel, nil
}

func colRank(c *column) int {
	switch c.kind {
	case kindPartition:
		return 0
	case kindClustering:
		return 1
	case kindStatic:
		return 2
	}
	return 3
}

func rowsMetadata(f *frame, t *table, sel []int, paging []byte, skip bool) {
	flags := int32(mfGlobalTableSpec)
	if skip {
		flags = mfNoMetadata
	}
	if paging != nil {
		flags |= mfHasMorePages
	}
	f.int(flags)
	f.int(int32(len(sel)))
	if paging != nil {
		f.bytes(paging)
	}
	if skip {
		return
	}
	f.string(t.ks)
	f.string(t.name)
	for _, i := range sel {
		f.string(t.cols[i].name)
		f.option(t.cols[i].typ)
	}
}

// cell is the value a read returns for column i of r.
func (t *table) cell(r *row, i int) []byte {
	if _, isKey := t.keyIndex(i); isKey {
		return r.vals[i]
	}
	return r.value(i)
}

// bindValue returns the value of v: its literal encoded as col's type, or
// the bound value of its marker.
func bindValue(col *column, v term, values []boundValue) ([]byte, bool, *reqError) {
	if v.marker < 0 {
		b, err := encodeLiteral(col.typ, v.lit)
		if err != nil {
			return nil, false, invalid("%v", err)
		}
		return b, false, nil
	}
	if v.marker >= len(values) {
		return nil, false, invalid("There were %d markers(?) in CQL but %d bound variables", v.marker+1, len(values))
	}
	bv := values[v.marker]
	if bv.unset {
		return nil, true, nil
	}
	if err := validate(col.typ, bv.v); err != nil {
		return nil, false, invalid("Invalid value for column %s: %v", col.name, err)
	}
	return bv.v, false, nil
}

// mutation is an INSERT or DELETE ready to apply.
type mutation struct {
	t      *table
	vals   [][]byte
	set    []bool
	delete bool
	keyLen int // DELETE: how many key columns are restricted
}

func (m *mutation) partition() string {
	return m.t.ks + "." + m.t.name + "\x00" + keyOf(m.vals, m.t.partition)
}

func (m *mutation) apply(ts int64) {
	if m.delete {
		m.t.remove(m.vals, m.t.key()[:m.keyLen], ts)
		return
	}
	m.t.upsert(m.vals, m.set, ts, true)
}

// mutationOf binds an INSERT or DELETE.
func (s *Server) mutationOf(sess *session, st *stmt, values []boundValue) (*mutation, *reqError) {
	t, rerr := s.resolve(sess, st)
	if rerr != nil {
		return nil, rerr
	}
	if t.system {
		return nil, &reqError{code: ErrUnauthorized, msg: fmt.Sprintf("%s keyspace is not user-modifiable.", t.ks)}
	}
	if st.markers > len(values) {
		return nil, invalid("There were %d markers(?) in CQL but %d bound variables", st.markers, len(values))
	}
	m := &mutation{t: t, vals: make([][]byte, len(t.cols)), set: make([]bool, len(t.cols)), delete: st.kind == stDelete}
	if st.kind == stInsert {
		for i, name := range st.cols {
			ci, ok := t.byName[name]
			if !ok {
				return nil, invalid("Undefined column name %s", name)
			}
			if m.set[ci] {
				return nil, invalid("The column names contains duplicates")
			}
			v, unset, rerr := bindValue(t.cols[ci], st.vals[i], values)
			if rerr != nil {
				return nil, rerr
			}
			if ct := t.cols[ci].typ; (ct.Kind == List || ct.Kind == Set || ct.Kind == Map) && !ct.Frozen &&
				len(v) == 4 && binary.BigEndian.Uint32(v) == 0 {
				v = nil // an empty multi-cell collection has no cells: it reads as null
			}
			m.vals[ci], m.set[ci] = v, !unset
		}
		for _, k := range t.key() {
			c := t.cols[k]
			if !m.set[k] {
				return nil, invalid("Some %s key parts are missing: %s", map[colKind]string{kindPartition: "partition", kindClustering: "clustering"}[c.kind], c.name)
			}
			if m.vals[k] == nil {
				return nil, invalid("Invalid null value in condition for column %s", c.name)
			}
		}
		return m, nil
	}
	for _, w := range st.where {
		ci, ok := t.byName[w.col]
		if !ok {
			return nil, invalid("Undefined column name %s", w.col)
		}
		if _, isKey := t.keyIndex(ci); !isKey {
			return nil, invalid("Non PRIMARY KEY columns found in where clause: %s", w.col)
		}
		v, unset, rerr := bindValue(t.cols[ci], w.val, values)
		if rerr != nil {
			return nil, rerr
		}
		if v == nil || unset {
			return nil, invalid("Invalid null value in condition for column %s", w.col)
		}
		m.vals[ci], m.set[ci] = v, true
	}
	for i, k := range t.key() {
		if m.set[k] {
			if i != m.keyLen {
				return nil, invalid("PRIMARY KEY column %q cannot be restricted as preceding column %q is not restricted", t.cols[k].name, t.cols[t.key()[m.keyLen]].name)
			}
			m.keyLen++
		}
	}
	if m.keyLen < len(t.partition) {
		return nil, invalid("Some partition key parts are missing: %s", t.cols[t.partition[m.keyLen]].name)
	}
	return m, nil
}

// fault takes the next injected failure, if any, recording the write.
func (s *Server) fault(w Write) *reqError {
	if len(s.faults) == 0 {
		return nil
	}
	code := s.faults[0]
	s.faults = s.faults[1:]
	w.Failed = true
	s.writes = append(s.writes, w)
	s.notify()
	e := &reqError{code: code}
	switch code {
	case ErrWriteTimeout:
		e.msg = "Operation timed out - received only 0 responses."
		writeType := "SIMPLE"
		if w.Op == "BATCH" {
			writeType = "UNLOGGED_BATCH"
			if w.BatchType == "LOGGED" {
				writeType = "BATCH"
			}
		}
		e.extra = func(f *frame) { f.short(0x0006); f.int(0); f.int(2); f.string(writeType) }
	case ErrUnavailable:
		e.msg = "Cannot achieve consistency level LOCAL_QUORUM"
		e.extra = func(f *frame) { f.short(0x0006); f.int(2); f.int(1) }
	case ErrOverloaded:
		e.msg = "Server is in overloaded state. Cannot accept more requests at this point"
	default:
		e.msg = "injected failure"
	}
	return e
}

// run executes a statement.
func (s *Server) run(sess *session, st *stmt, values []boundValue, p queryParams, op string) (*frame, *reqError) {
	f := newFrame(0, opResult)
	switch st.kind {
	case stInsert, stDelete:
		m, rerr := s.mutationOf(sess, st, values)
		if rerr != nil {
			return nil, rerr
		}
		w := Write{Op: op, Statements: 1, Partitions: 1}
		if rerr := s.fault(w); rerr != nil {
			return nil, rerr
		}
		ts := p.timestamp
		if ts == 0 {
			ts = s.timestamp()
		}
		m.apply(ts)
		s.writes = append(s.writes, w)
		s.notify()
		f.int(resultVoid)
	case stSelect:
		return s.selectRows(sess, st, values, p)
	case stUse:
		if _, ok := s.keyspaces[st.ks]; !ok {
			return nil, invalid("Keyspace '%s' does not exist", st.ks)
		}
		sess.keyspace = st.ks
		f.int(resultSetKeyspace)
		f.string(st.ks)
	case stCreateKeyspace:
		if _, ok := s.keyspaces[st.ks]; ok {
			if st.ifExists {
				f.int(resultVoid)
				return f, nil
			}
			return nil, alreadyExists(st.ks, "")
		}
		repl := map[string]string{}
		for k, v := range st.repl {
			repl[k] = v
		}
		if !strings.Contains(repl["class"], ".") {
			repl["class"] = "org.apache.cassandra.locator." + repl["class"]
		}
		ks := &keyspace{name: st.ks, repl: repl, durable: st.durable, tables: map[string]*table{}}
		s.keyspaces[st.ks] = ks
		s.describeKeyspace(ks)
		s.schemaChanged(f, "CREATED", "KEYSPACE", st.ks, "")
	case stCreateTable:
		ksName := st.ks
		if ksName == "" {
			ksName = sess.keyspace
		}
		ks, ok := s.keyspaces[ksName]
		if !ok {
			return nil, invalid("Keyspace %s doesn't exist", ksName)
		}
		if ks.name == "system" || ks.name == "system_schema" {
			return nil, &reqError{code: ErrUnauthorized, msg: ks.name + " keyspace is not user-modifiable."}
		}
		if _, ok := ks.tables[st.table]; ok {
			if st.ifExists {
				f.int(resultVoid)
				return f, nil
			}
			return nil, alreadyExists(ksName, st.table)
		}
		t, err := newTable(ksName, st.table, st.defs, st.partition, st.cluster)
		if err != nil {
			return nil, invalid("%v", err)
		}
		ks.tables[t.name] = t
		s.describeTable(t)
		s.schemaChanged(f, "CREATED", "TABLE", ksName, t.name)
	case stDropKeyspace:
		if _, ok := s.keyspaces[st.ks]; !ok || st.ks == "system" || st.ks == "system_schema" {
			if !ok && st.ifExists {
				f.int(resultVoid)
				return f, nil
			}
			return nil, &reqError{code: ErrConfig, msg: fmt.Sprintf("Cannot drop non existing keyspace '%s'.", st.ks)}
		}
		delete(s.keyspaces, st.ks)
		s.forget(st.ks, "")
		s.schemaChanged(f, "DROPPED", "KEYSPACE", st.ks, "")
	case stDropTable, stTruncate:
		t, rerr := s.resolve(sess, st)
		if rerr != nil {
			if st.ifExists {
				f.int(resultVoid)
				return f, nil
			}
			return nil, rerr
		}
		if t.system {
			return nil, &reqError{code: ErrUnauthorized, msg: t.ks + " keyspace is not user-modifiable."}
		}
		if st.kind == stTruncate {
			t.rows = map[string]*row{}
			s.notify()
			f.int(resultVoid)
			return f, nil
		}
		delete(s.keyspaces[t.ks].tables, t.name)
		s.forget(t.ks, t.name)
		s.schemaChanged(f, "DROPPED", "TABLE", t.ks, t.name)
	}
	return f, nil
}

func alreadyExists(ks, table string) *reqError {
	msg := fmt.Sprintf("Cannot add existing keyspace \"%s\"", ks)
	if table != "" {
		msg = fmt.Sprintf("Object %s.%s already exists", ks, table)
	}
	return &reqError{code: ErrAlreadyExists, msg: msg, extra: func(f *frame) { f.string(ks); f.string(table) }}
}

// schemaChanged writes a SCHEMA_CHANGE result and gives the node a new
// schema version.
func (s *Server) schemaChanged(f *frame, change, target, ks, table string) {
	s.keyspaces["system"].tables["local"].put(map[string][]byte{"key": text("local"), "schema_version": newUUID()})
	f.int(resultSchemaChange)
	body := func(f *frame) {
		f.string(change)
		f.string(target)
		f.string(ks)
		if target == "TABLE" {
			f.string(table)
		}
	}
	body(f)
	ev := newFrame(-1, opEvent)
	ev.string("SCHEMA_CHANGE")
	body(ev)
	s.events = append(s.events, ev.finish())
}

func (s *Server) selectRows(sess *session, st *stmt, values []boundValue, p queryParams) (*frame, *reqError) {
	t, rerr := s.resolve(sess, st)
	if rerr != nil {
		return nil, rerr
	}
	sel, rerr := selected(t, st)
	if rerr != nil {
		return nil, rerr
	}
	type filter struct {
		col int
		v   []byte
	}
	var filters []filter
	for _, w := range st.where {
		ci, ok := t.byName[w.col]
		if !ok {
			return nil, invalid("Undefined column name %s", w.col)
		}
		v, unset, rerr := bindValue(t.cols[ci], w.val, values)
		if rerr != nil {
			return nil, rerr
		}
		if v == nil || unset {
			return nil, invalid("Invalid null value in condition for column %s", w.col)
		}
		filters = append(filters, filter{ci, v})
	}
	var rows []*row
	for _, r := range t.sortedRows() {
		ok := true
		for _, fl := range filters {
			if !bytes.Equal(t.cell(r, fl.col), fl.v) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	if st.limit >= 0 && len(rows) > st.limit {
		rows = rows[:st.limit]
	}
	// Paging: the state is the offset of the page's first row.
	offset := 0
	if len(p.pagingState) == 8 {
		offset = int(binary.BigEndian.Uint64(p.pagingState))
		offset = min(offset, len(rows))
	}
	rows = rows[offset:]
	var paging []byte
	if p.pageSize > 0 && len(rows) > int(p.pageSize) {
		rows = rows[:p.pageSize]
		paging = binary.BigEndian.AppendUint64(nil, uint64(offset+int(p.pageSize)))
	}
	f := newFrame(0, opResult)
	f.int(resultRows)
	rowsMetadata(f, t, sel, paging, p.skipMetadata)
	f.int(int32(len(rows)))
	for _, r := range rows {
		for _, i := range sel {
			f.bytes(t.cell(r, i))
		}
	}
	return f, nil
}

var batchTypes = map[byte]string{0: "LOGGED", 1: "UNLOGGED", 2: "COUNTER"}

// batch runs a BATCH: every statement is bound and checked before any is
// applied, and all are applied with one timestamp.
func (s *Server) batch(sess *session, rd *reader) (*frame, *reqError) {
	typ := rd.byte()
	n := int(rd.short())
	type entry struct {
		st     *stmt
		values []boundValue
		ks     string
	}
	entries := make([]entry, 0, n)
	for i := 0; i < n && rd.err == nil; i++ {
		kind := rd.byte()
		var e entry
		e.ks = sess.keyspace
		switch kind {
		case 0:
			q := rd.longString()
			if rd.err != nil {
				break
			}
			st, err := parse(q)
			if err != nil {
				return nil, &reqError{code: ErrSyntax, msg: err.Error()}
			}
			e.st = st
		case 1:
			id := rd.shortBytes()
			if rd.err != nil {
				break
			}
			ps, ok := s.prepared[string(id)]
			if !ok {
				return nil, unprepared(id)
			}
			e.st, e.ks = ps.st, ps.ks
		default:
			return nil, &reqError{code: ErrProtocol, msg: fmt.Sprintf("invalid batch query kind %d", kind)}
		}
		nv := int(rd.short())
		for j := 0; j < nv && rd.err == nil; j++ {
			v, unset := rd.value()
			e.values = append(e.values, boundValue{v: v, unset: unset})
		}
		entries = append(entries, e)
	}
	rd.short() // consistency
	flags := rd.byte()
	if flags&qfSerialConsistency != 0 {
		rd.short()
	}
	var ts int64
	if flags&qfDefaultTimestamp != 0 {
		ts = rd.long()
	}
	if rd.err != nil {
		return nil, &reqError{code: ErrProtocol, msg: rd.err.Error()}
	}
	if _, ok := batchTypes[typ]; !ok || typ == 2 {
		return nil, invalid("batch type %d is not supported by the test server", typ)
	}
	muts := make([]*mutation, 0, len(entries))
	parts := map[string]bool{}
	for _, e := range entries {
		if e.st.kind != stInsert && e.st.kind != stDelete {
			return nil, invalid("Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.")
		}
		m, rerr := s.mutationOf(&session{keyspace: e.ks}, e.st, e.values)
		if rerr != nil {
			return nil, rerr
		}
		muts = append(muts, m)
		parts[m.partition()] = true
	}
	w := Write{Op: "BATCH", BatchType: batchTypes[typ], Statements: len(muts), Partitions: len(parts)}
	if rerr := s.fault(w); rerr != nil {
		return nil, rerr
	}
	if ts == 0 {
		ts = s.timestamp()
	}
	for _, m := range muts {
		m.apply(ts)
	}
	s.writes = append(s.writes, w)
	s.notify()
	f := newFrame(0, opResult)
	f.int(resultVoid)
	return f, nil
}

// WaitFor calls check after every change the server sees until it returns
// true, failing the test if that does not happen before ctx ends. check
// runs once at first, so a condition already met returns at once.
func (s *Server) WaitFor(ctx context.Context, check func() bool) error {
	for {
		ch := s.Changed()
		if check() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return errors.New("cqltest: condition not met before the deadline: " + ctx.Err().Error())
		}
	}
}
