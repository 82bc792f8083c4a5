package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// statusInterval is how often the pump reports its position when nothing
// else makes it: well within the server's wal_sender_timeout (60s by
// default), so that a reader whose engine is slow to call Next is not cut
// off.
const statusInterval = 10 * time.Second

// pumpBuffer is how many decoded messages the pump reads ahead of Next.
const pumpBuffer = 256

// item is what the pump hands to Next: a decoded pgoutput message or the
// WAL end of a keepalive; from pump.next, also the error that stopped the
// pump.
type item struct {
	msg       pglogrepl.Message
	walStart  pglogrepl.LSN
	size      int
	keepalive pglogrepl.LSN
	// serverEnd is the end of the server's WAL as the message said.
	serverEnd pglogrepl.LSN
	err       error
}

// pump owns a replication connection in copy-both mode: one goroutine reads
// it, answers keepalives, reports the acknowledged LSN (Source.acked) as
// flushed, and hands decoded messages to Next through out. Only this
// goroutine reads or writes the connection, until close.
type pump struct {
	conn   *pgconn.PgConn
	src    *Source
	out    chan item
	wake   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
	sent   pglogrepl.LSN // the last LSN reported as flushed
	lastAt time.Time     // when it was reported
	err    error         // why the goroutine stopped, set before done closes

	mu         sync.Mutex
	cancelRecv context.CancelFunc // ends the pending receive, for poke
}

// startStream connects and starts replication from r.startAt.
func (r *reader) startStream(ctx context.Context) error {
	s := r.src
	conn, err := connectReplication(ctx, s.set)
	if err != nil {
		return err
	}
	args := []string{
		"proto_version '1'",
		"publication_names " + quoteLiteral(pgx.Identifier{s.set.publication}.Sanitize()),
	}
	// A reader closed a moment ago may still hold the slot until its server
	// process has ended: retry for a few seconds on 55006.
	deadline := time.Now().Add(10 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		err = pglogrepl.StartReplication(ctx, conn, s.set.slot, r.startAt,
			pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args})
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != objectInUse || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close(context.Background())
			return ctx.Err()
		case <-time.After(delay):
		}
	}
	if err != nil {
		conn.Close(context.Background())
		return s.slotError(fmt.Sprintf("starting replication at %s from", r.startAt), err)
	}
	pctx, stop := context.WithCancel(context.Background())
	p := &pump{
		conn: conn, src: s,
		out:  make(chan item, pumpBuffer),
		wake: make(chan struct{}, 1),
		stop: stop,
		done: make(chan struct{}),
		sent: r.startAt, lastAt: time.Now(),
	}
	r.pump = p
	s.setLive(p, nil)
	go p.run(pctx)
	return nil
}

// poke makes the pump report a new acknowledgement now.
func (p *pump) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
	p.mu.Lock()
	if p.cancelRecv != nil {
		p.cancelRecv()
	}
	p.mu.Unlock()
}

func (p *pump) run(ctx context.Context) {
	err := p.loop(ctx)
	if ctx.Err() == nil {
		p.err = err
	} else {
		p.err = errors.New("postgres-cdc: reader is closed")
	}
	close(p.done)
}

// loop reads the connection until it fails or ctx ends.
func (p *pump) loop(ctx context.Context) error {
	for {
		if err := p.report(false); err != nil {
			return err
		}
		rctx, cancel := context.WithDeadline(ctx, p.lastAt.Add(statusInterval))
		p.mu.Lock()
		p.cancelRecv = cancel
		p.mu.Unlock()
		select {
		case <-p.wake: // acknowledged between report and here
			cancel()
		default:
		}
		msg, err := p.conn.ReceiveMessage(rctx)
		p.mu.Lock()
		p.cancelRecv = nil
		p.mu.Unlock()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				continue // time to report, or a poke
			}
			return fmt.Errorf("postgres-cdc: %s: replication connection: %w", p.src.set.where, err)
		}
		var it item
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("postgres-cdc: keepalive: %w", err)
				}
				if ka.ReplyRequested {
					if err := p.report(true); err != nil {
						return err
					}
				}
				it = item{keepalive: ka.ServerWALEnd, serverEnd: ka.ServerWALEnd}
			case pglogrepl.XLogDataByteID:
				x, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("postgres-cdc: %w", err)
				}
				// Parse copies what it keeps, so the message outlives the
				// connection's read buffer.
				lm, err := pglogrepl.Parse(x.WALData)
				if err != nil {
					return fmt.Errorf("postgres-cdc: decoding pgoutput at %s: %w", x.WALStart, err)
				}
				it = item{msg: lm, walStart: x.WALStart, size: len(x.WALData), serverEnd: x.ServerWALEnd}
			default:
				continue
			}
		case *pgproto3.ErrorResponse:
			return p.src.slotError("reading", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			return fmt.Errorf("postgres-cdc: %s ended replication", p.src.set.where)
		default:
			continue // notices, parameter status
		}
		if err := p.deliver(ctx, it); err != nil {
			return err
		}
	}
}

// deliver hands it to Next, reporting acknowledgements meanwhile.
func (p *pump) deliver(ctx context.Context, it item) error {
	for {
		t := time.NewTimer(time.Until(p.lastAt.Add(statusInterval)))
		select {
		case p.out <- it:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-p.wake:
		case <-t.C:
		}
		t.Stop()
		if err := p.report(false); err != nil {
			return err
		}
	}
}

// next returns the next item, waiting for it unless wait is false (then ok
// is false when there is none yet). When the pump has stopped and every
// item it read has been taken, the item is the error that stopped it.
func (p *pump) next(ctx context.Context, wait bool) (it item, ok bool, err error) {
	select {
	case it = <-p.out:
		return it, true, nil
	default:
	}
	if !wait {
		select {
		case <-p.done:
			return item{err: p.err}, true, nil
		default:
			return item{}, false, nil
		}
	}
	select {
	case it = <-p.out:
		return it, true, nil
	case <-p.done:
		select {
		case it = <-p.out:
			return it, true, nil
		default:
			return item{err: p.err}, true, nil
		}
	case <-ctx.Done():
		return item{}, false, ctx.Err()
	}
}

// report sends a standby status update when there is a new acknowledged
// LSN, when the last update is statusInterval old, or when forced (the
// server asked for a reply). The LSN reported as written, flushed and
// applied is the acknowledged one, never a received one: the slot's
// confirmed_flush_lsn follows it.
func (p *pump) report(force bool) error {
	lsn := max(p.sent, pglogrepl.LSN(p.src.acked.Load()))
	if !force && lsn == p.sent && time.Since(p.lastAt) < statusInterval {
		return nil
	}
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), p.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: lsn, WALFlushPosition: lsn, WALApplyPosition: lsn,
	})
	if err != nil {
		return fmt.Errorf("postgres-cdc: %s: sending the standby status: %w", p.src.set.where, err)
	}
	p.sent, p.lastAt = lsn, time.Now()
	return nil
}

// close stops the goroutine, reports the last acknowledgement and closes
// the connection.
func (p *pump) close() {
	p.stop()
	<-p.done
	_ = p.report(false) // best effort: the next reader reports it anyway
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.conn.Close(ctx)
}
