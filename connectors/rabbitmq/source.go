package rabbitmq

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

const (
	// maxRawBytes bounds how much of a bad message is kept in its
	// RecordError.
	maxRawBytes = 1 << 10
	// dialTimeout bounds connecting; amqp091's default is 30 s.
	dialTimeout = 10 * time.Second
	// splitID names the one split: the queue.
	splitID = "queue"
)

// Source is a RabbitMQ queue read as one split.
type Source struct {
	name        string
	url         string
	redacted    string // url without its password, for messages
	tls         *tls.Config
	queue       string
	declare     bool
	durable     bool
	exchange    string
	routingKey  string
	prefetch    int
	consumerTag string
	deadLetter  string
	batchSize   int
	linger      time.Duration

	format   connectors.Format
	alloc    memory.Allocator
	declared types.Schema

	// checkpoints is set when the engine acknowledges what checkpoints
	// hold (connectors.CheckpointedReader); otherwise a batch is
	// acknowledged once the engine has taken it.
	checkpoints bool

	mu      sync.Mutex
	reading bool // a reader is open
}

var (
	_ connectors.Source             = (*Source)(nil)
	_ connectors.CheckpointedReader = (*reader)(nil)
	_ connectors.BacklogReader      = (*reader)(nil)
)

// NewSource checks the configuration and, unless the source is being
// recovered, connects and declares and binds the queue as asked.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (*Source, error) {
	o := cfg.Options
	s := &Source{
		checkpoints: cfg.Checkpoints,
		name:        cfg.Name,
		url:         strings.TrimSpace(o.String(optURL)),
		queue:       o.String(optQueue),
		exchange:    o.String(optExchange),
		routingKey:  o.String(optRoutingKey),
		consumerTag: o.String(optConsumerTag),
		deadLetter:  o.String(optDeadLetter),
		format:      cfg.Format,
		alloc:       cfg.Alloc,
		declared:    cfg.Schema,
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	uri, err := amqp.ParseURI(s.url)
	if err != nil {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"option %q: %v (use amqp://user:password@host:port/vhost or amqps://)", optURL, err)
	}
	s.redacted = fmt.Sprintf("%s://%s/%s", uri.Scheme, net.JoinHostPort(uri.Host, fmt.Sprint(uri.Port)), strings.TrimPrefix(uri.Vhost, "/"))
	if s.queue == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be empty", optQueue)
	}
	if len(cfg.Includes) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "connector rabbitmq cannot INCLUDE %s", cfg.Includes[0].What)
	}
	if s.declare, err = o.Bool(optQueueDeclare); err != nil {
		return nil, err
	}
	if s.durable, err = o.Bool(optQueueDurable); err != nil {
		return nil, err
	}
	if _, set := o.Lookup(optRoutingKey); set && s.exchange == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q needs option %q", optRoutingKey, optExchange)
	}
	n, err := o.Int(optPrefetch)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 65535 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 65535", optPrefetch)
	}
	s.prefetch = int(n)
	if n, err = o.Int(optBatchSize); err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<20 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and %d", optBatchSize, 1<<20)
	}
	s.batchSize = int(n)
	if s.linger, err = o.Duration(optBatchLinger); err != nil {
		return nil, err
	}
	ca, cert, key := o.String(optTLSCA), o.String(optTLSCert), o.String(optTLSKey)
	insecure, err := o.Bool(optTLSInsecureSkip)
	if err != nil {
		return nil, err
	}
	if uri.Scheme != "amqps" {
		if ca != "" || cert != "" || key != "" || insecure {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "the tls.* options need an amqps:// URL")
		}
	} else {
		if s.tls, err = connectors.ClientTLS(ca, cert, key, insecure); err != nil {
			return nil, err
		}
		s.tls.ServerName = uri.Host
	}

	if err := checkFormat(cfg.Format); err != nil {
		return nil, err
	}
	dec, err := format.NewDecoder(cfg.Format.Encode, cfg.Format.Options, s.declared, s.alloc)
	if err != nil {
		return nil, err
	}
	dec.Release()

	if cfg.Recovering {
		return s, nil // the broker may be down at start-up; the reader retries
	}
	conn, _, err := s.connect(ctx)
	if err != nil {
		return nil, userError(err)
	}
	_ = conn.Close() // the check is done
	return s, nil
}

// checkFormat accepts FORMAT PLAIN ENCODE JSON or CSV, where each message
// is one record: a CSV header has no place in that.
func checkFormat(f connectors.Format) error {
	if f.Encode == "" {
		return pgerror.New(pgerror.InvalidParameterValue, "connector rabbitmq needs FORMAT PLAIN ENCODE JSON or ENCODE CSV")
	}
	if ff := strings.ToUpper(f.Format); ff != "" && ff != "PLAIN" {
		return pgerror.New(pgerror.FeatureNotSupported, "connector rabbitmq supports FORMAT PLAIN only, not FORMAT %s", f.Format)
	}
	if strings.EqualFold(f.Encode, "CSV") {
		if o, err := format.ParseCSVOptions(f.Options); err == nil && o.Header {
			return pgerror.New(pgerror.FeatureNotSupported,
				"connector rabbitmq does not support ENCODE CSV (header = true): each message is one record, so there is no header line").
				WithHint("Remove the header option; fields are then matched to columns by position.")
		}
	}
	return nil
}

// userError turns a failure to set up into the error CREATE SOURCE reports.
func userError(err error) error {
	var pe *pgerror.Error
	var ae *amqp.Error
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &ae) && ae.Code == amqp.NotFound:
		return pgerror.New(pgerror.UndefinedObject, "%v", err)
	}
	return pgerror.New(pgerror.ConnectionException, "%v", err)
}

// connect dials, opens a channel and declares and binds the queue as the
// options ask.
func (s *Source) connect(ctx context.Context) (*amqp.Connection, *amqp.Channel, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("sluice source " + s.name)
	cfg := amqp.Config{
		TLSClientConfig: s.tls,
		Properties:      props,
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: dialTimeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The handshake must not hang either; amqp091 clears the
			// deadline once it is done.
			if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	conn, err := amqp.DialConfig(s.url, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", s.redacted, err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = s.setUp(ch)
	}
	if err != nil {
		_ = conn.Close() // the set-up error is the one to report
		return nil, nil, err
	}
	return conn, ch, nil
}

func (s *Source) setUp(ch *amqp.Channel) error {
	if s.declare {
		var args amqp.Table
		if s.deadLetter != "" {
			args = amqp.Table{"x-dead-letter-exchange": s.deadLetter}
		}
		if _, err := ch.QueueDeclare(s.queue, s.durable, false, false, false, args); err != nil {
			return fmt.Errorf("declare queue %q: %w", s.queue, err)
		}
	} else if _, err := ch.QueueDeclarePassive(s.queue, s.durable, false, false, false, nil); err != nil {
		return fmt.Errorf("queue %q: %w", s.queue, err)
	}
	if s.exchange != "" {
		if err := ch.QueueBind(s.queue, s.routingKey, s.exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %q to exchange %q: %w", s.queue, s.exchange, err)
		}
	}
	return nil
}

// Splits returns the one split: the queue.
func (s *Source) Splits(context.Context) ([]connectors.Split, error) {
	return []connectors.Split{{ID: splitID}}, nil
}

// Open connects and starts consuming. pos is ignored: what was not
// acknowledged is delivered again anyway. A second reader while one is open
// is refused, since the two would share the queue's messages out.
func (s *Source) Open(ctx context.Context, split connectors.Split, _ connectors.Position) (connectors.Reader, error) {
	if split.ID != splitID {
		return nil, fmt.Errorf("rabbitmq: invalid split %q", split.ID)
	}
	s.mu.Lock()
	if s.reading {
		s.mu.Unlock()
		return nil, fmt.Errorf("queue %q is already read for another view of source %s: RabbitMQ would share its messages out between them; read the source in one materialized view", s.queue, s.name)
	}
	s.reading = true
	s.mu.Unlock()

	// Delivery tags count a channel's deliveries from 1: a random
	// generation tells this reader's positions from those of every other
	// reader, also of a process before a restart, whose checkpoint the
	// engine may hand back to acknowledge.
	r := &reader{src: s, where: "queue " + s.queue + " delivery ", gen: rand.Uint64()}
	var err error
	if r.dec, err = format.NewDecoder(s.format.Encode, s.format.Options, s.declared, s.alloc); err != nil {
		r.Close()
		return nil, err
	}
	if r.conn, r.ch, err = s.connect(ctx); err != nil {
		r.Close()
		return nil, err
	}
	r.connClosed = r.conn.NotifyClose(make(chan *amqp.Error, 1))
	r.chClosed = r.ch.NotifyClose(make(chan *amqp.Error, 1))
	r.cancelled = r.ch.NotifyCancel(make(chan string, 1))
	if err = r.ch.Qos(s.prefetch, 0, false); err == nil {
		r.deliveries, err = r.ch.Consume(s.queue, s.consumerTag, false, false, false, false, nil)
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("consume queue %q at %s: %w", s.queue, s.redacted, err)
	}
	return r, nil
}

// reader consumes the queue through its own connection and channel.
type reader struct {
	src        *Source
	conn       *amqp.Connection
	ch         *amqp.Channel
	deliveries <-chan amqp.Delivery
	connClosed chan *amqp.Error
	chClosed   chan *amqp.Error
	cancelled  chan string
	where      string

	// The deliveries of the batch Next returned last, settled when Next is
	// called again: lastTag is acknowledged (multiple), bad are rejected
	// to the dead-letter exchange first. With checkpoints, lastTag is not
	// acknowledged then but by Acknowledge, once a checkpoint holds it.
	lastTag uint64
	bad     []uint64
	// gen tells this reader's positions from those of any other reader of
	// the source, whose delivery tags meant other messages.
	gen uint64
	// acked is the highest tag Acknowledge has acknowledged.
	ackMu sync.Mutex
	acked uint64
	// backlog is the queue's ready messages as last asked (at most once
	// a second), and when.
	backlog   int64
	backlogAt time.Time

	dec    format.Decoder
	failed error // the channel is gone: every later Next reports it
	closed bool
}

// Next settles the previous batch, waits for a delivery, then gathers more
// for up to batch.linger, until batch.size or prefetch deliveries.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	if err := ctx.Err(); err != nil {
		// The runtime is stopping and may not have kept the last batch:
		// leave it unacknowledged, for RabbitMQ to deliver again.
		return connectors.Batch{}, err
	}
	if r.failed != nil {
		return connectors.Batch{}, r.failed
	}
	if err := r.ack(); err != nil {
		return connectors.Batch{}, r.fail(err)
	}
	var b connectors.Batch
	select {
	case <-ctx.Done():
		return connectors.Batch{}, ctx.Err()
	case d, ok := <-r.deliveries:
		if !ok {
			return connectors.Batch{}, r.fail(nil)
		}
		r.take(&b, d)
	}
	var linger <-chan time.Time
	if r.src.linger > 0 {
		t := time.NewTimer(r.src.linger)
		defer t.Stop()
		linger = t.C
	}
	limit := min(r.src.batchSize, r.src.prefetch)
gather:
	for n := 1; n < limit; n++ {
		var (
			d  amqp.Delivery
			ok bool
		)
		select {
		case d, ok = <-r.deliveries:
		default:
			if linger == nil {
				break gather
			}
			select {
			case d, ok = <-r.deliveries:
			case <-linger:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		if !ok {
			// The batch cannot be acknowledged any more: drop it, since
			// RabbitMQ delivers it again to the next reader.
			r.discard()
			return connectors.Batch{}, r.fail(nil)
		}
		r.take(&b, d)
	}
	r.finish(&b)
	return b, nil
}

// take decodes one delivery into the batch being built.
func (r *reader) take(b *connectors.Batch, d amqp.Delivery) {
	r.lastTag = d.DeliveryTag
	b.Bytes += int64(len(d.Body))
	if format.IsBlank(d.Body) {
		return
	}
	if err := r.dec.Append(d.Body); err != nil {
		b.Errors = append(b.Errors, connectors.RecordError{
			Where: fmt.Sprintf("%s%d", r.where, d.DeliveryTag),
			Err:   err,
			Raw:   bytes.Clone(d.Body[:min(len(d.Body), maxRawBytes)]),
		})
		if r.src.deadLetter != "" {
			r.bad = append(r.bad, d.DeliveryTag)
		}
	}
}

func (r *reader) finish(b *connectors.Batch) {
	if r.dec.Len() > 0 {
		b.Record = r.dec.Finish()
	}
	if r.lastTag > 0 {
		b.Position = connectors.Position(fmt.Sprintf("%d:%d", r.gen, r.lastTag))
	}
}

// Backlog is how many messages the queue holds ready for delivery, asked of
// RabbitMQ on a channel of its own (a passive declare) at most once a
// second.
func (r *reader) Backlog() (int64, bool) {
	if r.conn == nil || r.conn.IsClosed() {
		return 0, false
	}
	if time.Since(r.backlogAt) >= time.Second {
		r.backlogAt = time.Now()
		ch, err := r.conn.Channel()
		if err != nil {
			return 0, false
		}
		q, err := ch.QueueDeclarePassive(r.src.queue, r.src.durable, false, false, false, nil)
		ch.Close()
		if err != nil {
			return 0, false
		}
		r.backlog = int64(q.Messages)
	}
	return r.backlog, true
}

// Acknowledge acknowledges every delivery up to pos, which a checkpoint now
// holds. A position of an earlier reader (another channel's tags) is
// ignored: RabbitMQ delivers those messages again anyway.
func (r *reader) Acknowledge(_ context.Context, pos connectors.Position) error {
	var gen, tag uint64
	if _, err := fmt.Sscanf(string(pos), "%d:%d", &gen, &tag); err != nil || gen != r.gen {
		return nil
	}
	r.ackMu.Lock()
	defer r.ackMu.Unlock()
	if tag <= r.acked {
		return nil
	}
	if err := r.ch.Ack(tag, true); err != nil {
		return fmt.Errorf("queue %q: acknowledge up to delivery %d: %w", r.src.queue, tag, err)
	}
	r.acked = tag
	return nil
}

func (r *reader) discard() {
	if r.dec.Len() > 0 {
		r.dec.Finish().Release()
	}
	r.lastTag, r.bad = 0, r.bad[:0]
}

// ack settles the deliveries of the batch returned last: the runtime has
// taken it. Bad ones go to the dead-letter exchange now; good ones are
// acknowledged now only without checkpoints, else by Acknowledge.
func (r *reader) ack() error {
	for _, tag := range r.bad {
		if err := r.ch.Nack(tag, false, false); err != nil {
			return err
		}
	}
	r.bad = r.bad[:0]
	if r.lastTag == 0 || r.src.checkpoints {
		r.lastTag = 0
		return nil
	}
	if err := r.ch.Ack(r.lastTag, true); err != nil {
		return err
	}
	r.lastTag = 0
	return nil
}

// fail records why the reader cannot go on, preferring RabbitMQ's reason
// (a connection closed by an operator, a queue deleted) to err.
func (r *reader) fail(err error) error {
	var reason string
	select {
	case e := <-r.chClosed:
		if e != nil {
			reason = e.Error()
		}
	default:
	}
	if reason == "" {
		select {
		case e := <-r.connClosed:
			if e != nil {
				reason = e.Error()
			}
		default:
		}
	}
	if reason == "" {
		select {
		case tag := <-r.cancelled:
			reason = "the broker cancelled consumer " + tag + " (was the queue deleted?)"
		default:
		}
	}
	switch {
	case reason != "":
	case err != nil:
		reason = err.Error()
	default:
		reason = "the channel closed"
	}
	r.failed = fmt.Errorf("queue %q at %s: connection lost: %s", r.src.queue, r.src.redacted, reason)
	return r.failed
}

// Close closes the connection; RabbitMQ puts back the deliveries not
// acknowledged, to be delivered again. Closing again does nothing.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.ch != nil {
		// Closing the channel first waits for RabbitMQ to confirm it, by
		// which time it has applied the acknowledgements sent on it; a
		// connection closed at once could lose those still in flight (the
		// last checkpoint's, on a clean stop), and their messages would
		// be delivered again after a restart that already counts them.
		closed := make(chan struct{})
		go func() {
			_ = r.ch.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(dialTimeout):
		}
	}
	if r.conn != nil {
		_ = r.conn.CloseDeadline(time.Now().Add(dialTimeout)) // a broken connection is closed all the same
	}
	if r.dec != nil {
		r.dec.Release()
	}
	r.src.mu.Lock()
	r.src.reading = false
	r.src.mu.Unlock()
	return nil
}
