package cassandra

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// concurrency is how many requests (batches of different partitions) an
// epoch has in flight at once.
const concurrency = 8

// Retries of a request that timed out or found too few replicas: up to
// maxAttempts in all, waiting firstBackoff, then twice as long each time,
// up to maxBackoff.
const (
	maxAttempts  = 6
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// Sink writes a view's changes into a Cassandra table. See the package
// documentation.
type Sink struct {
	name      string
	keyspace  string
	table     string
	where     string // keyspace.table, for messages
	schema    types.Schema
	colTypes  []*cqlType
	upsert    bool
	pk        []int // sink columns of the table's primary key
	partition int   // how many of pk are the partition key
	batchRows int
	backoff   time.Duration // the first retry's wait; firstBackoff but in tests

	sess        *gocql.Session
	insertCQL   string
	deleteCQL   string
	progressCQL string

	// The open epoch's batches, retained until Commit.
	pending []connectors.SinkBatch
	// recorded is the last epoch known to be committed: read from the
	// progress table, then advanced by each Commit.
	recorded uint64

	// Reused by Commit.
	enc  encoded
	seed maphash.Seed
}

var (
	_ connectors.Sink          = (*Sink)(nil)
	_ connectors.EpochRecorder = (*Sink)(nil)
)

// NewSink checks the configuration, connects, and checks the target table
// against the sink's columns. An unreachable cluster is an error here
// (08000): CREATE SINK fails, while at start-up the engine retries.
func NewSink(ctx context.Context, cfg connectors.SinkConfig) (*Sink, error) {
	o := cfg.Options
	s := &Sink{name: cfg.Name, schema: cfg.Schema, backoff: firstBackoff, seed: maphash.MakeSeed()}
	switch cfg.Type {
	case typeAppendOnly:
	case typeUpsert:
		s.upsert = true
		if len(cfg.PrimaryKey) == 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"an upsert sink needs a primary key: set primary_key to the columns that identify a row")
		}
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"connector cassandra supports sink types %s and %s, not %q", typeAppendOnly, typeUpsert, cfg.Type)
	}
	seen := make(map[string]bool, len(cfg.Schema))
	for _, c := range cfg.Schema {
		if c.Type == types.Null {
			return nil, pgerror.New(pgerror.DatatypeMismatch,
				"column %q of the sink has no type (a bare NULL): cast it in the sink's query", c.Name)
		}
		if seen[c.Name] {
			return nil, pgerror.New(pgerror.DuplicateColumn,
				"the sink has two columns named %q: name them apart in its query", c.Name)
		}
		seen[c.Name] = true
	}
	s.keyspace, s.table = o.String(optKeyspace), o.String(optTable)
	if s.keyspace == "" || s.table == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"connector cassandra needs options %q and %q", optKeyspace, optTable)
	}
	s.where = s.keyspace + "." + s.table
	s.batchRows = 512
	if o.String(optMaxBatchRows) != "" {
		n, err := o.Int(optMaxBatchRows)
		if err != nil {
			return nil, err
		}
		if n < 1 || n > maxBatchStatements {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and %d", optMaxBatchRows, maxBatchStatements)
		}
		s.batchRows = int(n)
	}
	timeout := 2000 * time.Millisecond
	if o.String(optRequestTimeout) != "" {
		n, err := o.Int(optRequestTimeout)
		if err != nil {
			return nil, err
		}
		if n < 1 || n > 3_600_000 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 3600000", optRequestTimeout)
		}
		timeout = time.Duration(n) * time.Millisecond
	}
	hosts, port, err := contactPoints(o.String(optURL))
	if err != nil {
		return nil, err
	}

	cluster := gocql.NewCluster(hosts...)
	// Nodes found in system.peers are reached on this port.
	cluster.Port = port
	// v4 is spoken by every Cassandra from 2.2 and by ScyllaDB; pinning it
	// spares a negotiation at every connection.
	cluster.ProtoVersion = 4
	cluster.Timeout = timeout
	cluster.ConnectTimeout = timeout
	cluster.Consistency = gocql.LocalQuorum
	// Retries are the sink's, with backoff and within the context.
	cluster.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 0}
	// Token-aware routing needs only the keyspaces' replication.
	cluster.Metadata.CacheMode = gocql.KeyspaceOnly
	dc := o.String(optDatacenter)
	if dc != "" {
		cluster.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.DCAwareRoundRobinPolicy(dc))
	} else {
		cluster.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	}
	if user := o.String(optUsername); user != "" {
		cluster.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: o.String(optPassword)}
	}
	if s.sess, err = cluster.CreateSession(); err != nil {
		return nil, connectError(ctx, hosts, err)
	}
	if err := s.prepare(ctx, cfg.PrimaryKey, dc); err != nil {
		s.sess.Close()
		return nil, err
	}
	return s, nil
}

// prepare checks the table and the data center, creates the progress
// table when missing, and builds the statements.
func (s *Sink) prepare(ctx context.Context, key []int, dc string) error {
	cols, ok, err := readColumns(ctx, s.sess, s.keyspace, s.table)
	if err != nil {
		return err
	}
	if !ok {
		defs := make([]string, len(s.schema))
		for i, c := range s.schema {
			defs[i] = quoteIdent(c.Name) + " " + cqlTypeFor(c.Type)
		}
		return pgerror.New(pgerror.UndefinedTable, "table %s does not exist", s.where).
			WithHint("Create it, for instance: CREATE TABLE %s.%s (%s, PRIMARY KEY (...)).", quoteIdent(s.keyspace), quoteIdent(s.table), strings.Join(defs, ", "))
	}
	if s.colTypes, s.pk, s.partition, err = check(s.schema, key, s.upsert, s.where, cols); err != nil {
		return err
	}
	if dc != "" {
		if err := checkDatacenter(ctx, s.sess, dc); err != nil {
			return err
		}
	}
	progress, ok, err := readColumns(ctx, s.sess, s.keyspace, progressTable)
	if err != nil {
		return err
	}
	if !ok {
		// IF NOT EXISTS: two sinks may create it at once.
		err := s.sess.Query(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.%s (sink_name text, table_name text,
			epoch bigint, committed_at timestamp, PRIMARY KEY ((sink_name, table_name)))`,
			quoteIdent(s.keyspace), progressTable)).WithContext(ctx).Exec()
		if err != nil {
			return requestError(err, "create the progress table %s.%s", s.keyspace, progressTable)
		}
	} else if len(keyColumns(progress, "partition_key")) == 0 {
		return pgerror.New(pgerror.InvalidTableDefinition, "%s.%s is not a progress table", s.keyspace, progressTable)
	}

	names := make([]string, len(s.schema))
	marks := make([]string, len(s.schema))
	for i, c := range s.schema {
		names[i], marks[i] = quoteIdent(c.Name), "?"
	}
	target := quoteIdent(s.keyspace) + "." + quoteIdent(s.table)
	s.insertCQL = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", target, strings.Join(names, ", "), strings.Join(marks, ", "))
	conds := make([]string, len(s.pk))
	for i, k := range s.pk {
		conds[i] = quoteIdent(s.schema[k].Name) + " = ?"
	}
	s.deleteCQL = fmt.Sprintf("DELETE FROM %s WHERE %s", target, strings.Join(conds, " AND "))
	s.progressCQL = fmt.Sprintf("INSERT INTO %s.%s (sink_name, table_name, epoch, committed_at) VALUES (?, ?, ?, ?)",
		quoteIdent(s.keyspace), progressTable)
	return nil
}

// checkDatacenter refuses a data center no node of the cluster is in.
func checkDatacenter(ctx context.Context, sess *gocql.Session, dc string) error {
	known := map[string]bool{}
	for _, q := range []string{"SELECT data_center FROM system.local", "SELECT data_center FROM system.peers"} {
		iter := sess.Query(q).WithContext(ctx).Iter()
		var d string
		for iter.Scan(&d) {
			known[d] = true
		}
		if err := iter.Close(); err != nil {
			return requestError(err, "read the cluster's data centers")
		}
	}
	if known[dc] {
		return nil
	}
	var names []string
	for d := range known {
		names = append(names, d)
	}
	return pgerror.New(pgerror.InvalidParameterValue, "no node of the cluster is in data center %q (option %q)", dc, optDatacenter).
		WithHint("The cluster's data centers: %s.", strings.Join(names, ", "))
}

// Write keeps the batch for Commit, which writes the epoch: only then is
// the epoch's number known, and an epoch already recorded must change
// nothing.
func (s *Sink) Write(_ context.Context, b connectors.SinkBatch) error {
	rec := b.Record
	if rec == nil || rec.NumRows() == 0 {
		return nil
	}
	n := int(rec.NumRows())
	if int(rec.NumCols()) != len(s.schema) {
		return fmt.Errorf("cassandra sink %s: a batch of %d columns for %d", s.name, rec.NumCols(), len(s.schema))
	}
	if b.Kinds != nil && len(b.Kinds) != n {
		return fmt.Errorf("cassandra sink %s: %d kinds for %d rows", s.name, len(b.Kinds), n)
	}
	if !s.upsert && b.Kinds != nil {
		for i, k := range b.Kinds {
			if k == connectors.RowDelete {
				return fmt.Errorf("cassandra sink %s: an append-only sink received a delete (row %d)", s.name, i)
			}
		}
	}
	rec.Retain()
	s.pending = append(s.pending, b)
	return nil
}

// Commit writes the epoch's changes, partition by partition, then records
// the epoch in the progress table. An epoch at or below the recorded one
// was written before (the engine delivers it again after a failure or a
// restart) and is dropped.
func (s *Sink) Commit(ctx context.Context, epoch uint64) error {
	defer s.release()
	if len(s.pending) == 0 || epoch <= s.recorded {
		return nil
	}
	if err := s.encode(); err != nil {
		return err
	}
	if err := s.send(ctx); err != nil {
		return err
	}
	if epoch > 1<<63-1 {
		return fmt.Errorf("cassandra sink %s: epoch %d does not fit a bigint", s.name, epoch)
	}
	q := s.sess.Query(s.progressCQL, s.name, s.table, int64(epoch), time.Now())
	if err := s.retry(ctx, func(ctx context.Context) error { return q.WithContext(ctx).Exec() }); err != nil {
		return requestError(err, "cassandra sink %s: record epoch %d in %s.%s", s.name, epoch, s.keyspace, progressTable)
	}
	s.recorded = epoch
	return nil
}

// LastCommitted returns the epoch the progress table records for the sink.
func (s *Sink) LastCommitted(ctx context.Context) (uint64, error) {
	var epoch int64
	err := s.retry(ctx, func(ctx context.Context) error {
		err := s.sess.Query(fmt.Sprintf("SELECT epoch FROM %s.%s WHERE sink_name = ? AND table_name = ?",
			quoteIdent(s.keyspace), progressTable), s.name, s.table).WithContext(ctx).Scan(&epoch)
		if errors.Is(err, gocql.ErrNotFound) {
			epoch = 0
			return nil
		}
		return err
	})
	if err != nil {
		return 0, requestError(err, "cassandra sink %s: read the last committed epoch", s.name)
	}
	s.recorded = max(s.recorded, uint64(epoch))
	return uint64(epoch), nil
}

func (s *Sink) release() {
	for _, b := range s.pending {
		b.Record.Release()
	}
	clear(s.pending)
	s.pending = s.pending[:0]
}

// Close releases what the sink holds and disconnects.
func (s *Sink) Close() error {
	s.release()
	s.sess.Close()
	return nil
}

// encoded is an epoch's changes, serialised: each change's values are
// spans of buf, grouped by partition in arrival order.
type encoded struct {
	buf     []byte
	spans   []span   // per change: every column (insert) or the key columns (delete)
	changes []change // in arrival order
	groups  [][]int32
	byPart  map[uint64]int
	values  []rawValue
}

type span struct{ start, end int32 } // start < 0: NULL

type change struct {
	del   bool
	first int32 // index of its first span
	key   uint64
}

func (e *encoded) reset() {
	e.buf, e.spans, e.changes = e.buf[:0], e.spans[:0], e.changes[:0]
	for i := range e.groups {
		e.groups[i] = e.groups[i][:0]
	}
	e.groups = e.groups[:0]
	clear(e.byPart)
}

// encode serialises the pending changes and groups them by partition.
func (s *Sink) encode() error {
	e := &s.enc
	e.reset()
	if e.byPart == nil {
		e.byPart = map[uint64]int{}
	}
	var h maphash.Hash
	for _, b := range s.pending {
		cols := b.Record.Columns()
		n := int(b.Record.NumRows())
		for i := 0; i < n; i++ {
			del := b.Kinds != nil && b.Kinds[i] == connectors.RowDelete
			c := change{del: del, first: int32(len(e.spans))}
			var err error
			if del {
				for _, k := range s.pk {
					if err = s.appendColumn(cols[k], i, k); err != nil {
						break
					}
				}
			} else {
				for k, arr := range cols {
					if err = s.appendColumn(arr, i, k); err != nil {
						break
					}
				}
			}
			if err != nil {
				return err
			}
			// The partition key's and the whole key's hashes: the one
			// groups changes, the other keeps two changes of one row out
			// of one batch (they would share its timestamp).
			vals := e.spans[c.first:]
			h.SetSeed(s.seed)
			for j, k := range s.pk {
				if j == s.partition {
					break
				}
				sp := vals[k]
				if del {
					sp = vals[j]
				}
				if sp.start < 0 {
					return pgerror.New(pgerror.NotNullViolation,
						"cassandra sink %s: column %q of the primary key of %s is NULL in a row", s.name, s.schema[k].Name, s.where)
				}
				h.Write(e.buf[sp.start:sp.end])
				h.WriteByte(0)
			}
			part := h.Sum64()
			for j, k := range s.pk[s.partition:] {
				sp := vals[k]
				if del {
					sp = vals[s.partition+j]
				}
				if sp.start < 0 {
					return pgerror.New(pgerror.NotNullViolation,
						"cassandra sink %s: column %q of the primary key of %s is NULL in a row", s.name, s.schema[k].Name, s.where)
				}
				h.Write(e.buf[sp.start:sp.end])
				h.WriteByte(0)
			}
			c.key = h.Sum64()
			g, ok := e.byPart[part]
			if !ok {
				g = len(e.groups)
				e.byPart[part] = g
				if g < cap(e.groups) {
					e.groups = e.groups[:g+1]
				} else {
					e.groups = append(e.groups, nil)
				}
			}
			e.groups[g] = append(e.groups[g], int32(len(e.changes)))
			e.changes = append(e.changes, c)
		}
	}
	return nil
}

// appendColumn serialises row i of arr, sink column k, into the buffer.
func (s *Sink) appendColumn(arr arrow.Array, i, k int) error {
	e := &s.enc
	if arr.IsNull(i) {
		e.spans = append(e.spans, span{-1, -1})
		return nil
	}
	start := len(e.buf)
	t := s.schema[k].Type
	var (
		buf []byte
		err error
	)
	if t.IsArray() {
		buf, err = appendList(e.buf, arr.(*array.String).Value(i), t, s.colTypes[k])
	} else {
		buf, err = appendValue(e.buf, valueAt(arr, i, t), t, s.colTypes[k])
	}
	if err != nil {
		return pgerror.New(pgerror.DatatypeMismatch, "cassandra sink %s: column %q: %v", s.name, s.schema[k].Name, err)
	}
	e.buf = buf
	e.spans = append(e.spans, span{int32(start), int32(len(e.buf))})
	return nil
}

// rawValue is a value already serialised, handed to the driver as is. The
// driver takes values as interfaces; a *rawValue fits one without boxing.
type rawValue struct{ b []byte }

func (v *rawValue) MarshalCQL(gocql.TypeInfo) ([]byte, error) { return v.b, nil }

// send writes the encoded changes: each partition's changes in order, as
// UNLOGGED batches of up to max_batch_rows statements (a single change as
// a plain statement), several partitions at once.
func (s *Sink) send(ctx context.Context) error {
	e := &s.enc
	// Every change's values, as arguments, built before the workers start
	// so that they only read.
	if cap(e.values) < len(e.spans) {
		e.values = make([]rawValue, len(e.spans))
	}
	e.values = e.values[:len(e.spans)]
	for i, sp := range e.spans {
		if sp.start < 0 {
			e.values[i].b = nil
		} else {
			e.values[i].b = e.buf[sp.start:sp.end:sp.end]
		}
	}
	args := make([]any, len(e.spans))
	for i := range e.values {
		args[i] = &e.values[i]
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for w := 0; w < min(concurrency, len(e.groups)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range next {
				if err := s.sendGroup(ctx, e.groups[g], args); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for g := range e.groups {
		select {
		case next <- g:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// sendGroup writes one partition's changes in order. A batch ends when
// full or before a second change of a row it holds: statements of one
// batch share a timestamp, so the later would not win.
func (s *Sink) sendGroup(ctx context.Context, group []int32, args []any) error {
	e := &s.enc
	inBatch := make(map[uint64]struct{})
	var batch []int32
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.retry(ctx, func(ctx context.Context) error { return s.exec(ctx, batch, args) })
		if err != nil {
			return requestError(err, "cassandra sink %s: write %d changes to %s", s.name, len(batch), s.where)
		}
		batch = batch[:0]
		clear(inBatch)
		return nil
	}
	for _, ci := range group {
		c := e.changes[ci]
		if _, dup := inBatch[c.key]; dup || len(batch) >= s.batchRows {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, ci)
		inBatch[c.key] = struct{}{}
	}
	return flush()
}

// exec sends changes as one statement or one UNLOGGED batch.
func (s *Sink) exec(ctx context.Context, changes []int32, args []any) error {
	e := &s.enc
	stmt := func(c change) (string, []any) {
		if c.del {
			return s.deleteCQL, args[c.first : int(c.first)+len(s.pk)]
		}
		return s.insertCQL, args[c.first : int(c.first)+len(s.schema)]
	}
	if len(changes) == 1 {
		q, a := stmt(e.changes[changes[0]])
		return s.sess.Query(q, a...).WithContext(ctx).Exec()
	}
	b := s.sess.Batch(gocql.UnloggedBatch)
	b.Entries = make([]gocql.BatchEntry, 0, len(changes))
	for _, ci := range changes {
		q, a := stmt(e.changes[ci])
		b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: q, Args: a})
	}
	return b.ExecContext(ctx)
}

// retry runs op until it succeeds, fails for good, or has been tried
// maxAttempts times: timeouts, unavailable replicas, overloaded nodes and
// lost connections are retried with exponential backoff.
func (s *Sink) retry(ctx context.Context, op func(context.Context) error) error {
	wait := s.backoff
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || attempt >= maxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// retryable reports whether err is a failure that another attempt may not
// meet: the write may or may not have been applied, and writing it again
// is harmless.
func retryable(err error) bool {
	var (
		wt *gocql.RequestErrWriteTimeout
		rt *gocql.RequestErrReadTimeout
		ua *gocql.RequestErrUnavailable
		ol *gocql.RequestErrOverloaded
		ne net.Error
	)
	switch {
	case errors.As(err, &wt), errors.As(err, &rt), errors.As(err, &ua), errors.As(err, &ol):
		return true
	case errors.Is(err, gocql.ErrTimeoutNoResponse), errors.Is(err, gocql.ErrNoConnections),
		errors.Is(err, gocql.ErrConnectionClosed), errors.As(err, &ne):
		return true
	}
	var re gocql.RequestError
	return errors.As(err, &re) && re.Code() == gocql.ErrCodeBootstrapping
}

// connectError turns a failure to connect into the error CREATE SINK
// reports.
func connectError(ctx context.Context, hosts []string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("connect to Cassandra at %s: %w", strings.Join(hosts, ","), ctx.Err())
	}
	var re gocql.RequestError
	if errors.As(err, &re) && re.Code() == gocql.ErrCodeCredentials {
		return pgerror.New(pgerror.InvalidAuthorizationSpec, "connect to Cassandra at %s: %s", strings.Join(hosts, ","), re.Message())
	}
	msg := err.Error()
	if strings.Contains(msg, "authentication") || strings.Contains(msg, "username and/or password") {
		return pgerror.New(pgerror.InvalidAuthorizationSpec, "could not connect to Cassandra at %s: %v", strings.Join(hosts, ","), err)
	}
	return pgerror.New(pgerror.ConnectionException, "could not connect to Cassandra at %s: %v", strings.Join(hosts, ","), err)
}
