package pgwire

import (
	"context"
	"io"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedb/sluice/pgerror"
)

const (
	// maxMessageSize is the largest frontend message accepted, PostgreSQL's
	// limit (PQ_LARGE_MESSAGE_LIMIT).
	maxMessageSize = 1<<30 - 1
	// maxQueuedBytes bounds the messages read ahead of execution. Past it the
	// reader waits, which pushes back on the client through TCP. A single
	// message larger than this is still queued, alone.
	maxQueuedBytes = 16 << 20
)

// item is one entry of the inbox: a frontend message the connection owns, or
// the protocol violation that ended reading.
type item struct {
	msg       pgproto3.FrontendMessage
	size      int
	violation *pgerror.Error
}

// inbox is the queue between the reader and the executing goroutine. It is
// unbounded in messages and bounded in bytes, and both sides wait on channels
// so that a cancelled connection context wakes them.
type inbox struct {
	mu    sync.Mutex
	items []item
	bytes int
	// ready and space hold a token when items became non-empty or bytes
	// dropped; waiters re-check the state after taking it.
	ready chan struct{}
	space chan struct{}
}

func newInbox() *inbox {
	return &inbox{ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// put queues it, waiting while the queue is over its byte budget.
func (q *inbox) put(ctx context.Context, it item) error {
	for {
		q.mu.Lock()
		if len(q.items) == 0 || q.bytes+it.size <= maxQueuedBytes {
			q.items = append(q.items, it)
			q.bytes += it.size
			q.mu.Unlock()
			signal(q.ready)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// take returns the oldest item, waiting for one. Once ctx is done it returns
// the cause even when items are queued: they belong to a dead connection.
func (q *inbox) take(ctx context.Context) (item, error) {
	for {
		if ctx.Err() != nil {
			return item{}, context.Cause(ctx)
		}
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = item{}
			q.items = q.items[1:]
			q.bytes -= it.size
			q.mu.Unlock()
			signal(q.space)
			return it, nil
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
		}
	}
}

// readErrRecorder sits between the socket and the decoder and keeps the
// socket's error, which tells a lost client (the socket failed) from a
// protocol violation (the bytes arrived but do not decode).
type readErrRecorder struct {
	r   io.Reader
	err error
}

func (r *readErrRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

// read is the reader goroutine: it decodes frontend messages and queues
// copies of them for the executing goroutine, never waiting on execution
// except through the inbox's byte budget. When the socket fails (the client
// vanished) it cancels the connection context, which cancels the running
// statement. A protocol violation is queued to be reported in order, and the
// rest of the input is discarded until the socket fails. After Terminate
// nothing more is read.
func (c *conn) read() {
	be := pgproto3.NewBackend(c.in, io.Discard)
	be.SetMaxBodyLen(maxMessageSize)
	for {
		msg, err := be.Receive()
		if err != nil {
			if c.rec.err == nil {
				c.violate(pgerror.New(pgerror.ProtocolViolation, "invalid frontend message: %v", err))
			}
			c.cancel(errClientGone)
			return
		}
		var it item
		switch m := msg.(type) {
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Outside COPY FROM these are ignored, as PostgreSQL does, so
			// that a client aborting a COPY can resynchronise.
			continue
		case *pgproto3.Query:
			q := *m
			it = item{msg: &q, size: len(q.String)}
		case *pgproto3.Parse:
			p := *m
			p.ParameterOIDs = slices.Clone(m.ParameterOIDs)
			it = item{msg: &p, size: len(p.Name) + len(p.Query) + 4*len(p.ParameterOIDs)}
		case *pgproto3.Bind:
			// Parameters point into the decoder's buffer; copy them into one
			// block of their own.
			b := *m
			b.ParameterFormatCodes = slices.Clone(m.ParameterFormatCodes)
			b.ResultFormatCodes = slices.Clone(m.ResultFormatCodes)
			total := 0
			for _, p := range m.Parameters {
				total += len(p)
			}
			block := make([]byte, 0, total)
			b.Parameters = make([][]byte, len(m.Parameters))
			for i, p := range m.Parameters {
				if p != nil {
					block = append(block, p...)
					b.Parameters[i] = block[len(block)-len(p) : len(block) : len(block)]
				}
			}
			it = item{msg: &b, size: total + len(b.DestinationPortal) + len(b.PreparedStatement) + 8*len(b.Parameters)}
		case *pgproto3.Describe:
			d := *m
			it = item{msg: &d, size: len(d.Name)}
		case *pgproto3.Execute:
			e := *m
			it = item{msg: &e, size: len(e.Portal)}
		case *pgproto3.Close:
			cl := *m
			it = item{msg: &cl, size: len(cl.Name)}
		case *pgproto3.Sync:
			it = item{msg: &pgproto3.Sync{}}
		case *pgproto3.Flush:
			it = item{msg: &pgproto3.Flush{}}
		case *pgproto3.FunctionCall:
			it = item{msg: &pgproto3.FunctionCall{Function: m.Function}}
		case *pgproto3.Terminate:
			// Statements queued before Terminate still run; the client
			// closing its end afterwards must not cancel them.
			c.inbox.put(c.ctx, item{msg: &pgproto3.Terminate{}})
			return
		default:
			// Authentication responses and anything else a client has no
			// business sending after startup.
			c.violate(pgerror.New(pgerror.ProtocolViolation, "invalid frontend message type %d", msgType(msg)))
			c.cancel(errClientGone)
			return
		}
		if err := c.inbox.put(c.ctx, it); err != nil {
			return
		}
	}
}

// violate queues a protocol violation for the executing goroutine to report,
// then discards input until the socket fails, so that a client vanishing
// while a statement still runs is noticed.
func (c *conn) violate(e *pgerror.Error) {
	if err := c.inbox.put(c.ctx, item{violation: e}); err != nil {
		return
	}
	io.Copy(io.Discard, c.in)
}

// msgType returns the type byte of a decoded frontend message, for errors.
func msgType(msg pgproto3.FrontendMessage) byte {
	buf, err := msg.Encode(nil)
	if err != nil || len(buf) == 0 {
		return 0
	}
	return buf[0]
}
