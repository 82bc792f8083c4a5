package http

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// splitID names the one split of an ingest source.
const splitID = "ingest"

// Source is a stream of rows POSTed to /ingest/<name>: see the package
// documentation. It is registered with its Ingest hub from NewSource until
// Close.
type Source struct {
	name          string
	hub           *Ingest
	schema        types.Schema
	encode        string
	encodeOpts    map[string]string
	alloc         memory.Allocator
	token         *[sha256.Size]byte // the SHA-256 of auth.token; nil: no auth
	maxBody       int64
	acceptTimeout time.Duration
	// With checkpoints, a request is answered once a checkpoint holds its
	// rows (every reader has been acknowledged past them), and asks for
	// that checkpoint at once.
	durable           bool
	requestCheckpoint func()

	// slots holds a token per request in progress: the bounded queue.
	slots chan struct{}
	// decoders are idle decoders, kept for the next request.
	decoders chan format.Decoder

	mu      sync.Mutex
	readers map[*reader]struct{}
	closed  bool
}

var (
	_ connectors.Source          = (*Source)(nil)
	_ interface{ Close() error } = (*Source)(nil)
)

// NewSource checks the configuration and registers the source with hub
// under cfg.Name, replacing a source of that name that was dropped. A nil
// hub is an error: nothing would receive the requests.
func NewSource(_ context.Context, hub *Ingest, cfg connectors.SourceConfig) (*Source, error) {
	if hub == nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"HTTP ingest needs sluice serve's HTTP listener: connector http cannot be a source here").
			WithHint("Run sluice serve and POST the rows to http://<--http-listen>/ingest/%s.", cfg.Name)
	}
	if f := strings.ToUpper(cfg.Format.Format); cfg.Format.Encode == "" || (f != "" && f != "PLAIN") {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "an http source needs FORMAT PLAIN ENCODE JSON")
	}
	if !strings.EqualFold(cfg.Format.Encode, "JSON") {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "an http source supports ENCODE JSON only, not ENCODE %s", cfg.Format.Encode)
	}
	if len(cfg.Includes) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "connector http has no metadata to INCLUDE")
	}
	o := cfg.Options
	s := &Source{
		name:       cfg.Name,
		hub:        hub,
		schema:     cfg.Schema,
		encode:     cfg.Format.Encode,
		encodeOpts: cfg.Format.Options,
		alloc:      cfg.Alloc,
		readers:    map[*reader]struct{}{},

		durable:           cfg.Checkpoints && cfg.RequestCheckpoint != nil,
		requestCheckpoint: cfg.RequestCheckpoint,
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	if tok := o.String(optAuthToken); tok != "" {
		sum := sha256.Sum256([]byte(tok))
		s.token = &sum
	}
	var err error
	if s.maxBody, err = o.Int(optMaxBodyBytes); err != nil {
		return nil, err
	}
	if s.maxBody < 1 || s.maxBody > 1<<30 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and %d (1 GiB)", optMaxBodyBytes, 1<<30)
	}
	n, err := o.Int(optMaxPending)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 100_000 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 100000", optMaxPending)
	}
	s.slots = make(chan struct{}, n)
	s.decoders = make(chan format.Decoder, min(n, 16))
	if s.acceptTimeout, err = o.Duration(optAcceptTimeout); err != nil {
		return nil, err
	}
	if s.acceptTimeout <= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be positive", optAcceptTimeout)
	}
	// Build a decoder now to check the column types and ENCODE options.
	dec, err := s.decoder()
	if err != nil {
		return nil, err
	}
	s.putDecoder(dec)
	hub.register(s)
	return s, nil
}

// Splits returns the one split: requests are not partitioned.
func (s *Source) Splits(context.Context) ([]connectors.Split, error) {
	return []connectors.Split{{ID: splitID}}, nil
}

// Open starts a reader, which from now on receives every request's rows.
// pos is the number of requests an earlier reader of the same view had
// delivered; rows are not replayed from it (nothing keeps them), it only
// keeps the count going.
func (s *Source) Open(_ context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	if split.ID != splitID {
		return nil, fmt.Errorf("http source %s: invalid split %q", s.name, split.ID)
	}
	r := &reader{src: s, wake: make(chan struct{}, 1)}
	if pos != "" {
		n, err := strconv.ParseInt(string(pos), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("http source %s: invalid position %q", s.name, pos)
		}
		r.delivered = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("http source %s was dropped", s.name)
	}
	s.readers[r] = struct{}{}
	return r, nil
}

// Close unregisters the source from its hub: requests for it are then
// answered 404, and those waiting are answered 404 too. The engine drops a
// source without telling its connector, so the hub also asks whether a
// name is still a source (IngestOptions.Exists).
func (s *Source) Close() error {
	s.hub.unregister(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for r := range s.readers {
		s.abortQueuedLocked(r, errDropped)
	}
	for {
		select {
		case d := <-s.decoders:
			d.Release()
		default:
			return nil
		}
	}
}

func (s *Source) decoder() (format.Decoder, error) {
	select {
	case d := <-s.decoders:
		return d, nil
	default:
		return format.NewDecoder(s.encode, s.encodeOpts, s.schema, s.alloc)
	}
}

func (s *Source) putDecoder(d format.Decoder) {
	select {
	case s.decoders <- d:
	default:
		d.Release()
	}
}

// An offer is one request's rows on their way to the readers. It is
// committed when every reader open when it was made has taken it, and only
// then does any reader return it; it is aborted when the request gives up
// first (accept.timeout, the client went away) or a reader it waits for is
// closed, and then no reader returns it. Either way decided is closed, once.
type offer struct {
	rec   arrow.Record // nil when every record was bad
	errs  []connectors.RecordError
	bytes int64

	// Guarded by the source's mu.
	need, taken int
	state       offerState
	why         error // why it was aborted
	decided     chan struct{}

	// With checkpoints: the readers that have returned the offer and not
	// yet been acknowledged past it; durable is closed when none is left
	// (or with notDurable set, when one closed first).
	unacked    int
	durable    chan struct{}
	notDurable error
}

type offerState uint8

const (
	offerPending offerState = iota
	offerCommitted
	offerAborted
)

// Why an offer was not committed.
var (
	errNoReader = errors.New("no materialized view or table reads this source yet, so its rows would go nowhere")
	errTimeout  = errors.New("the pipeline did not take the rows in time (accept.timeout): Sluice is behind")
	errGone     = errors.New("a reader of this source stopped (a view was dropped or Sluice is shutting down) before taking the rows")
	errDropped  = errors.New("the source was dropped")
	// errNotDurable: the rows reached the views, but no checkpoint holds
	// them, so a crash now would lose them.
	errNotDurable = errors.New("the rows reached the pipeline but no checkpoint holds them yet (a view stopped reading, or Sluice is stopping); they may be lost in a crash")
)

// durableWait bounds how long a request waits for a checkpoint to hold its
// rows once the pipeline has taken them.
const durableWait = 30 * time.Second

// deliver hands o to every open reader and waits until they have all taken
// it (nil: the rows are in the pipeline) or until it is aborted (the error
// says why; no reader returns any of it). Each reader takes its own
// reference to o.rec; the caller keeps its own.
func (s *Source) deliver(ctx context.Context, o *offer) error {
	o.decided = make(chan struct{})
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return errDropped
	case len(s.readers) == 0:
		s.mu.Unlock()
		return errNoReader
	}
	o.need = len(s.readers)
	o.unacked, o.durable = o.need, make(chan struct{})
	for r := range s.readers {
		r.queue = append(r.queue, o)
		r.notify()
	}
	s.mu.Unlock()

	timer := time.NewTimer(s.acceptTimeout)
	defer timer.Stop()
	var why error
	select {
	case <-o.decided:
	case <-timer.C:
		why = errTimeout
	case <-ctx.Done():
		why = ctx.Err()
	}
	s.mu.Lock()
	if o.state == offerPending {
		s.abortLocked(o, why)
	}
	committed := o.state == offerCommitted
	s.mu.Unlock()
	if !committed {
		return o.why
	}
	if !s.durable {
		return nil
	}
	// Answer once a checkpoint holds the rows, and ask for it now.
	s.requestCheckpoint()
	wait := time.NewTimer(durableWait)
	defer wait.Stop()
	select {
	case <-o.durable:
	case <-wait.C:
		return errNotDurable
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return o.notDurable
}

// abortLocked aborts a pending offer: it leaves the queues of the readers
// that have not taken it, and those that have are told by decided.
func (s *Source) abortLocked(o *offer, why error) {
	o.state, o.why = offerAborted, why
	close(o.decided)
	for r := range s.readers {
		r.queue = removeOffer(r.queue, o)
	}
}

// abortQueuedLocked aborts every offer waiting in r's queue: r will not
// take them, so they cannot be committed.
func (s *Source) abortQueuedLocked(r *reader, why error) {
	queued := r.queue
	r.queue = nil
	for _, o := range queued {
		if o.state == offerPending {
			s.abortLocked(o, why)
		}
	}
}

func removeOffer(q []*offer, o *offer) []*offer {
	for i, x := range q {
		if x == o {
			copy(q[i:], q[i+1:])
			q[len(q)-1] = nil
			return q[:len(q)-1]
		}
	}
	return q
}

// reader is one view's (or table's) reading of the source.
type reader struct {
	src  *Source
	wake chan struct{} // a token when queue may have grown

	queue  []*offer // guarded by src.mu
	closed bool     // guarded by src.mu
	// returned are the offers Next returned that no checkpoint holds yet,
	// with their positions (guarded by src.mu).
	returned []returnedOffer

	delivered int64 // offers returned by Next: the Position
}

var _ connectors.CheckpointedReader = (*reader)(nil)

type returnedOffer struct {
	o   *offer
	pos int64
}

// Acknowledge tells the offers up to pos that this reader's checkpoint
// holds them; an offer every reader has been told of is durable.
func (r *reader) Acknowledge(_ context.Context, pos connectors.Position) error {
	n, err := strconv.ParseInt(string(pos), 10, 64)
	if err != nil {
		return nil // not a position of this reader
	}
	s := r.src
	s.mu.Lock()
	defer s.mu.Unlock()
	k := 0
	for ; k < len(r.returned) && r.returned[k].pos <= n; k++ {
		o := r.returned[k].o
		o.unacked--
		if o.unacked == 0 && o.notDurable == nil {
			close(o.durable)
		}
	}
	r.returned = r.returned[k:]
	return nil
}

// notify wakes Next; src.mu is held.
func (r *reader) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Next waits for a request's rows and returns them once every reader has
// taken them (the request is then answered 200). A request that gives up
// first is never returned.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	for {
		o, err := r.take(ctx)
		if err != nil {
			return connectors.Batch{}, err
		}
		select {
		case <-o.decided:
		case <-ctx.Done():
			r.src.mu.Lock()
			if o.state == offerPending {
				r.src.abortLocked(o, errGone)
			}
			r.src.mu.Unlock()
		}
		// decided is closed now, so state is final.
		if o.state == offerCommitted {
			r.delivered++
			if r.src.durable {
				r.src.mu.Lock()
				r.returned = append(r.returned, returnedOffer{o: o, pos: r.delivered})
				r.src.mu.Unlock()
			}
			return connectors.Batch{
				Record:   o.rec,
				Errors:   o.errs,
				Bytes:    o.bytes,
				Position: connectors.Position(strconv.FormatInt(r.delivered, 10)),
			}, nil
		}
		if o.rec != nil {
			o.rec.Release()
		}
	}
}

// take waits for the first offer in the queue and takes it, with a
// reference to its record; the last reader to take it commits it.
func (r *reader) take(ctx context.Context) (*offer, error) {
	s := r.src
	for {
		s.mu.Lock()
		if len(r.queue) > 0 {
			o := r.queue[0]
			r.queue[0] = nil
			r.queue = r.queue[1:]
			// Aborted offers leave every queue, so o is pending.
			if o.rec != nil {
				o.rec.Retain()
			}
			if o.taken++; o.taken == o.need {
				o.state = offerCommitted
				close(o.decided)
			}
			s.mu.Unlock()
			return o, nil
		}
		s.mu.Unlock()
		select {
		case <-r.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close stops the reader: the requests it has not taken are answered 503.
func (r *reader) Close() error {
	s := r.src
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	delete(s.readers, r)
	s.abortQueuedLocked(r, errGone)
	// What it returned and no checkpoint holds will not become durable.
	for _, ro := range r.returned {
		if ro.o.notDurable == nil {
			ro.o.notDurable = errNotDurable
			close(ro.o.durable)
		}
	}
	r.returned = nil
	return nil
}
