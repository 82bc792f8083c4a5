package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// objectInUse is SQLSTATE 55006, which PostgreSQL gives for a replication
// slot that another connection is reading.
const objectInUse = "55006"

// Defaults of the batch sizes; tests make them small.
const (
	defaultPageRows  = 1024 // snapshot rows per batch
	defaultBatchRows = 1024 // changes per batch, rounded up to whole transactions
)

// Source is one upstream table captured through a logical replication slot.
// It has one split. See the package documentation.
type Source struct {
	name   string
	set    settings
	schema types.Schema
	alloc  memory.Allocator

	pageRows  int
	batchRows int

	// acked is the highest LSN acknowledged (durable in Sluice); the
	// streaming reader reports it to PostgreSQL as flushed.
	acked atomic.Uint64

	mu    sync.Mutex
	live  *pump           // the streaming reader's connection, woken by Acknowledge
	noted map[string]bool // notes already reported, so each is reported once
}

var (
	_ connectors.ChangelogSource               = (*Source)(nil)
	_ interface{ Drop(context.Context) error } = (*Source)(nil)
)

// NewSource checks the configuration and, unless the engine is recovering,
// the upstream server: it answers, has wal_level = logical, the user may
// replicate, the table exists with a primary key whose columns the Sluice
// table has, every Sluice column exists upstream with a type it can read,
// and the publication exists (it is created when missing and allowed).
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (*Source, error) {
	if cfg.Format.Encode != "" || cfg.Format.Format != "" {
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"connector postgres-cdc takes no FORMAT clause: rows come typed from PostgreSQL")
	}
	if len(cfg.Includes) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "connector postgres-cdc supports no INCLUDE clause")
	}
	if len(cfg.Schema) == 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "connector postgres-cdc needs at least one column")
	}
	for _, c := range cfg.Schema {
		if c.Type == types.Null || c.Type == types.Unknown {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "column %q has no type", c.Name)
		}
	}
	set, err := parseSettings(cfg.Name, cfg.Options)
	if err != nil {
		return nil, err
	}
	s := &Source{
		name:      cfg.Name,
		set:       set,
		schema:    cfg.Schema,
		alloc:     cfg.Alloc,
		pageRows:  defaultPageRows,
		batchRows: defaultBatchRows,
		noted:     map[string]bool{},
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	if cfg.Recovering {
		return s, nil // the server may be down at start-up; Open retries
	}
	conn, err := connect(ctx, set)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if err := checkWALLevel(ctx, conn, set); err != nil {
		return nil, err
	}
	var may bool
	if err := conn.QueryRow(ctx, "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&may); err != nil {
		return nil, fmt.Errorf("postgres-cdc: %s: reading the user's attributes: %w", set.where, err)
	}
	if !may {
		return nil, pgerror.New(pgerror.InsufficientPrivilege,
			"postgres-cdc: user %s may not read replication slots", cfg.Options.String(optUser)).
			WithHint("Run ALTER ROLE %s REPLICATION upstream.", pgx.Identifier{cfg.Options.String(optUser)}.Sanitize())
	}
	info, err := describe(ctx, conn, set)
	if err != nil {
		return nil, err
	}
	if err := info.check(cfg.Schema, set); err != nil {
		return nil, err
	}
	if err := ensurePublication(ctx, conn, set); err != nil {
		return nil, err
	}
	return s, nil
}

// splitID names the one split: the upstream table.
func (s *Source) splitID() string { return s.set.schema + "." + s.set.table }

// Splits returns the one split, named after the upstream table.
func (s *Source) Splits(context.Context) ([]connectors.Split, error) {
	return []connectors.Split{{ID: s.splitID()}}, nil
}

// note returns a RecordError for a condition worth showing once (an
// upstream column the table does not have), or nil when it was shown.
func (s *Source) note(where, msg string) *connectors.RecordError {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := where + "\x00" + msg
	if s.noted[k] {
		return nil
	}
	s.noted[k] = true
	return &connectors.RecordError{Where: where, Err: errors.New(msg)}
}

// Acknowledge records that everything up to pos is durable in Sluice. A
// streaming position's LSN is then reported to PostgreSQL as flushed, which
// moves the slot's confirmed_flush_lsn and lets the server drop older WAL.
// Only acknowledged positions are ever reported, so the slot never passes
// what Sluice has stored. A snapshot position reports nothing: the slot
// still waits at the LSN it was created at.
func (s *Source) Acknowledge(_ context.Context, split connectors.Split, pos connectors.Position) error {
	if split.ID != s.splitID() {
		return fmt.Errorf("postgres-cdc: unknown split %q (the split is %q)", split.ID, s.splitID())
	}
	p, err := parsePosition(pos)
	if err != nil {
		return err
	}
	if p.snapshot {
		return nil
	}
	for {
		old := s.acked.Load()
		if uint64(p.lsn) <= old || s.acked.CompareAndSwap(old, uint64(p.lsn)) {
			break
		}
	}
	s.mu.Lock()
	live := s.live
	s.mu.Unlock()
	if live != nil {
		live.poke()
	}
	return nil
}

// setLive makes p the pump Acknowledge wakes, replacing was or, when was
// is nil, whatever pump there is: the newest reader wins.
func (s *Source) setLive(p, was *pump) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if was == nil || s.live == was {
		s.live = p
	}
}

// Open starts reading at pos, the last durable position ("" the first
// time):
//
//   - "" with snapshot = true: the slot is (re)created with an exported
//     snapshot, the table is read in that snapshot in primary key order,
//     then the changes are streamed from the slot's consistent point.
//   - "" with snapshot = false: the slot is created if missing and the
//     changes are streamed from its confirmed position.
//   - a snapshot position: the snapshot resumes after the key it holds (see
//     the package documentation for why that converges), then streams from
//     the slot's creation LSN.
//   - an LSN: the changes are streamed from there.
func (s *Source) Open(ctx context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	if split.ID != s.splitID() {
		return nil, fmt.Errorf("postgres-cdc: unknown split %q (the split is %q)", split.ID, s.splitID())
	}
	var p position
	if pos != "" {
		var err error
		if p, err = parsePosition(pos); err != nil {
			return nil, err
		}
	}
	conn, err := connect(ctx, s.set)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			conn.Close(context.Background())
		}
	}()
	if err := checkWALLevel(ctx, conn, s.set); err != nil {
		return nil, err
	}
	info, err := describe(ctx, conn, s.set)
	if err != nil {
		return nil, err
	}
	if err := info.checkKey(s.schema, s.set); err != nil {
		return nil, err
	}
	if err := ensurePublication(ctx, conn, s.set); err != nil {
		return nil, err
	}
	r := &reader{src: s, info: info, rows: newRowBuilder(s.schema, s.alloc), where: "table " + s.splitID()}
	r.first = r.columnNotes()
	fail := func(err error) (connectors.Reader, error) {
		r.Close()
		return nil, err
	}

	switch {
	case pos == "" && s.set.snapshot:
		lsn, err := s.createSlotWithSnapshot(ctx, conn)
		if err != nil {
			return fail(err)
		}
		keep = true
		if err := r.startSnapshot(conn, position{lsn: lsn, snapshot: true}); err != nil {
			return fail(err)
		}
	case pos == "":
		lsn, err := s.ensureSlot(ctx, conn)
		if err != nil {
			return fail(err)
		}
		r.pos, r.emitted = lsn, 0 // the first Next reports the start position
		r.startAt = lsn
	case p.snapshot:
		if err := s.checkSlot(ctx, conn, p.lsn); err != nil {
			return fail(err)
		}
		// The snapshot the slot exported is gone; rows after the key are
		// read in a snapshot taken now, and the stream from the slot's
		// creation LSN brings every row up to date.
		if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return fail(fmt.Errorf("postgres-cdc: %s: %w", s.set.where, err))
		}
		keep = true
		if err := r.startSnapshot(conn, p); err != nil {
			return fail(err)
		}
	default:
		if err := s.checkSlot(ctx, conn, p.lsn); err != nil {
			return fail(err)
		}
		r.pos, r.emitted = p.lsn, p.lsn
		r.startAt = p.lsn
	}
	if r.snap == nil {
		if err := r.startStream(ctx); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// createSlotWithSnapshot drops any slot of the configured name (a new table
// has nothing durable, so an old slot is of no use) and creates it again,
// importing the snapshot it exports into a REPEATABLE READ transaction on
// conn. It returns the slot's consistent point: the snapshot holds exactly
// the transactions that committed before it, the slot streams the others.
func (s *Source) createSlotWithSnapshot(ctx context.Context, conn *pgx.Conn) (pglogrepl.LSN, error) {
	if err := s.dropSlot(ctx, conn); err != nil {
		return 0, err
	}
	repl, err := connectReplication(ctx, s.set)
	if err != nil {
		return 0, err
	}
	// The exported snapshot lives until the replication connection runs
	// another command or closes; once imported it is the transaction's own.
	defer repl.Close(context.Background())
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.set.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		return 0, s.slotError("creating", err)
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, fmt.Errorf("postgres-cdc: slot %s: consistent point %q: %w", s.set.slot, res.ConsistentPoint, err)
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return 0, fmt.Errorf("postgres-cdc: %s: %w", s.set.where, err)
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(res.SnapshotName)); err != nil {
		return 0, fmt.Errorf("postgres-cdc: %s: importing the slot's snapshot: %w", s.set.where, err)
	}
	return lsn, nil
}

// dropSlot drops the configured slot if it exists and nobody reads it.
func (s *Source) dropSlot(ctx context.Context, conn *pgx.Conn) error {
	st, err := s.waitInactive(ctx, conn)
	if err != nil || !st.exists {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", s.set.slot); err != nil {
		return s.slotError("dropping", err)
	}
	return nil
}

// ensureSlot creates the slot without a snapshot when it is missing and
// returns the LSN streaming starts at: the slot's confirmed position.
func (s *Source) ensureSlot(ctx context.Context, conn *pgx.Conn) (pglogrepl.LSN, error) {
	st, err := readSlot(ctx, conn, s.set)
	if err != nil {
		return 0, err
	}
	if st.exists {
		if err := s.slotUsable(st); err != nil {
			return 0, err
		}
		return st.confirmed, nil
	}
	repl, err := connectReplication(ctx, s.set)
	if err != nil {
		return 0, err
	}
	defer repl.Close(context.Background())
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.set.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
	if err != nil {
		return 0, s.slotError("creating", err)
	}
	return pglogrepl.ParseLSN(res.ConsistentPoint)
}

// checkSlot checks that the slot a stored position refers to still exists
// and has not confirmed past it: either would mean lost changes, which must
// not pass silently.
func (s *Source) checkSlot(ctx context.Context, conn *pgx.Conn, at pglogrepl.LSN) error {
	st, err := readSlot(ctx, conn, s.set)
	if err != nil {
		return err
	}
	if !st.exists {
		return pgerror.New(pgerror.UndefinedObject,
			"postgres-cdc: replication slot %s does not exist any more: the changes since %s are lost", s.set.slot, at).
			WithHint("Drop the table and create it again, which takes a new snapshot.")
	}
	if err := s.slotUsable(st); err != nil {
		return err
	}
	if st.confirmed > at {
		return pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"postgres-cdc: replication slot %s has confirmed up to %s, past the table's position %s: the changes in between are lost (does something else read the slot?)",
			s.set.slot, st.confirmed, at).
			WithHint("Drop the table and create it again, which takes a new snapshot.")
	}
	return nil
}

func (s *Source) slotUsable(st slotState) error {
	if st.plugin != "pgoutput" {
		return pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"postgres-cdc: replication slot %s uses plugin %q, not pgoutput", s.set.slot, st.plugin)
	}
	return nil
}

// waitInactive waits, for a few seconds, until nobody reads the slot: a
// reader that was just closed may still hold it until its server process
// has ended.
func (s *Source) waitInactive(ctx context.Context, conn *pgx.Conn) (slotState, error) {
	deadline := time.Now().Add(10 * time.Second)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		st, err := readSlot(ctx, conn, s.set)
		if err != nil || !st.active {
			return st, err
		}
		if time.Now().After(deadline) {
			return st, pgerror.New(objectInUse, "postgres-cdc: replication slot %s is in use by another connection", s.set.slot)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (s *Source) slotError(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e := pgerror.New(pgErr.Code, "postgres-cdc: %s replication slot %s: %s", what, s.set.slot, pgErr.Message)
		if pgErr.Hint != "" {
			e = e.WithHint("%s", pgErr.Hint)
		}
		return e
	}
	return fmt.Errorf("postgres-cdc: %s replication slot %s: %w", what, s.set.slot, err)
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// Drop removes what the source keeps upstream, for DROP TABLE: the
// replication slot, which would otherwise hold the server's WAL forever,
// and the publication if its name was derived from the table's (one named
// by publication.name may serve others and is left alone). Readers must be
// closed first; a slot still read is waited for a few seconds.
func (s *Source) Drop(ctx context.Context) error {
	conn, err := connect(ctx, s.set)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := s.dropSlot(ctx, conn); err != nil {
		return err
	}
	if s.set.ownPub {
		if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{s.set.publication}.Sanitize()); err != nil {
			return fmt.Errorf("postgres-cdc: %s: dropping publication %s: %w", s.set.where, s.set.publication, err)
		}
	}
	return nil
}
