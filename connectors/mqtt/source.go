package mqtt

// The client is github.com/eclipse/paho.golang (MQTT 5, with autopaho for
// dialling tcp, TLS and WebSocket URLs) rather than paho.mqtt.golang (MQTT
// 3.1.1), because MQTT 5 gives the broker a bound it must respect: Receive
// Maximum (inflight_messages) caps the QoS 1 and 2 messages sent and not yet
// acknowledged, so the reader's buffer, sized to it, never overflows and a
// slow view slows the broker down instead of losing messages. In 3.1.1 that
// bound is the broker's own setting, and paho.mqtt.golang's handlers block
// its network loop (and with it keep-alive) when the consumer is slow. Paho
// 5 also acknowledges by hand in the order required, separates Clean Start
// from a session expiry, and reports reason codes ("not authorized",
// "session taken over") that make status messages useful. Mosquitto (1.6
// and later), EMQX, HiveMQ, VerneMQ, RabbitMQ 3.13 and AWS IoT Core speak
// MQTT 5, and RisingWave's MQTT connector uses it too; brokers that speak
// only 3.1.1 cannot be read.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

const (
	// maxRawBytes bounds how much of a bad message is kept in its
	// RecordError.
	maxRawBytes = 1 << 10
	// connectTimeout bounds connecting and subscribing.
	connectTimeout = 10 * time.Second
	// ackInterval is how often acknowledgements marked by Next are sent:
	// paho batches them to keep their order.
	ackInterval = 5 * time.Millisecond
	// ackGrace is how long Close waits after the last acknowledgements
	// were marked, for paho to send them.
	ackGrace = 5 * ackInterval
	// splitID names the one split: the subscription.
	splitID = "subscription"
)

// Source is a subscription to MQTT topic filters, read as one split.
type Source struct {
	name          string
	url           *url.URL
	filters       []string
	qos           byte
	clientID      string // "": generated per connection
	username      string
	password      string
	cleanStart    bool
	sessionExpiry uint32 // seconds; 0 with clean_start
	inflight      uint16
	maxPacket     uint32 // 0: no limit
	keepAlive     uint16 // seconds
	tls           *tls.Config
	batchSize     int
	linger        time.Duration

	format   connectors.Format
	alloc    memory.Allocator
	declared types.Schema // the columns the decoder fills
	schema   *arrow.Schema
	topicCol bool // INCLUDE topic: the last column

	mu    sync.Mutex
	slots []bool // which client.id suffixes readers hold now
}

var _ connectors.Source = (*Source)(nil)

// NewSource checks the configuration and, unless the source is being
// recovered, that the broker accepts a connection and the subscription.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (*Source, error) {
	o := cfg.Options
	s := &Source{
		name:     cfg.Name,
		clientID: o.String(optClientID),
		username: o.String(optUsername),
		password: o.String(optPassword),
		format:   cfg.Format,
		alloc:    cfg.Alloc,
		schema:   cfg.Schema.Arrow(),
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	var err error
	if s.url, err = parseURL(o.String(optURL)); err != nil {
		return nil, err
	}
	for _, f := range strings.Split(o.String(optTopic), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if err := checkFilter(f); err != nil {
				return nil, err
			}
			s.filters = append(s.filters, f)
		}
	}
	if len(s.filters) == 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q names no topic", optTopic)
	}
	switch o.String(optQoS) {
	case "0", "at_most_once":
		s.qos = 0
	case "2", "exactly_once":
		s.qos = 2
	default:
		s.qos = 1
	}
	if s.cleanStart, err = o.Bool(optCleanStart); err != nil {
		return nil, err
	}
	if !s.cleanStart {
		if s.clientID == "" {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"%s = false needs option %q: the broker finds the session by the client identifier", optCleanStart, optClientID)
		}
		d, err := o.Duration(optSessionExpiry)
		if err != nil {
			return nil, err
		}
		s.sessionExpiry = uint32(min(d/time.Second, 0xFFFFFFFE))
	}
	inflight, err := intOption(o, optInflight, 1, 65535)
	if err != nil {
		return nil, err
	}
	s.inflight = uint16(inflight)
	if _, set := o.Lookup(optMaxPacketSize); set {
		n, err := intOption(o, optMaxPacketSize, 1, 1<<28)
		if err != nil {
			return nil, err
		}
		s.maxPacket = uint32(n)
	}
	ka, err := o.Duration(optKeepAlive)
	if err != nil {
		return nil, err
	}
	s.keepAlive = uint16(min(max(ka/time.Second, 1), 65535))
	n, err := intOption(o, optBatchSize, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	s.batchSize = int(n)
	if s.linger, err = o.Duration(optBatchLinger); err != nil {
		return nil, err
	}
	if err := s.parseTLS(o); err != nil {
		return nil, err
	}

	if s.declared, s.topicCol, err = splitIncludes(cfg.Schema, cfg.Includes); err != nil {
		return nil, err
	}
	if err := checkFormat(cfg.Format); err != nil {
		return nil, err
	}
	// Build a decoder once to check the encoding, its options and the
	// column types now rather than when the reader opens.
	dec, err := format.NewDecoder(cfg.Format.Encode, cfg.Format.Options, s.declared, s.alloc)
	if err != nil {
		return nil, err
	}
	dec.Release()

	if cfg.Recovering {
		return s, nil // the broker may be down at start-up; the reader retries
	}
	if err := s.probe(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// intOption reads an integer option and checks its range.
func intOption(o connectors.Options, key string, lo, hi int64) (int64, error) {
	n, err := o.Int(key)
	if err != nil {
		return 0, err
	}
	if n < lo || n > hi {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between %d and %d", key, lo, hi)
	}
	return n, nil
}

// parseURL checks the url option and fills in the default port.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"option %q: %q is not a broker URL such as tcp://127.0.0.1:1883", optURL, raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	port := ""
	switch u.Scheme {
	case "tcp", "mqtt":
		port = "1883"
	case "ssl", "tls", "mqtts":
		port = "8883"
	case "ws", "wss":
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"option %q: unsupported scheme %q (use tcp, mqtt, ssl, mqtts, tls, ws or wss)", optURL, u.Scheme)
	}
	if u.Port() == "" && port != "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

func usesTLS(u *url.URL) bool {
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "wss":
		return true
	}
	return false
}

func (s *Source) parseTLS(o connectors.Options) error {
	ca, cert, key := o.String(optTLSCA), o.String(optTLSCert), o.String(optTLSKey)
	insecure, err := o.Bool(optTLSInsecureSkip)
	if err != nil {
		return err
	}
	if !usesTLS(s.url) {
		if ca != "" || cert != "" || key != "" || insecure {
			return pgerror.New(pgerror.InvalidParameterValue,
				"the tls.* options need a TLS URL (ssl://, mqtts://, tls:// or wss://), not %s://", s.url.Scheme)
		}
		return nil
	}
	s.tls, err = connectors.ClientTLS(ca, cert, key, insecure)
	return err
}

// checkFilter checks a topic filter's wildcards as the broker would, so
// that a typo is an error of CREATE SOURCE.
func checkFilter(f string) error {
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1,
			l != "#" && strings.Contains(l, "#"),
			l != "+" && strings.Contains(l, "+"):
			return pgerror.New(pgerror.InvalidParameterValue,
				"option %q: %q is not a topic filter: + must be a whole level, # the whole last level", optTopic, f)
		}
	}
	return nil
}

// checkFormat accepts FORMAT PLAIN ENCODE JSON or CSV, where each message
// is one record: a CSV header has no place in that.
func checkFormat(f connectors.Format) error {
	if f.Encode == "" {
		return pgerror.New(pgerror.InvalidParameterValue, "connector mqtt needs FORMAT PLAIN ENCODE JSON or ENCODE CSV")
	}
	if ff := strings.ToUpper(f.Format); ff != "" && ff != "PLAIN" {
		return pgerror.New(pgerror.FeatureNotSupported, "connector mqtt supports FORMAT PLAIN only, not FORMAT %s", f.Format)
	}
	if strings.EqualFold(f.Encode, "CSV") {
		if o, err := format.ParseCSVOptions(f.Options); err == nil && o.Header {
			return pgerror.New(pgerror.FeatureNotSupported,
				"connector mqtt does not support ENCODE CSV (header = true): each message is one record, so there is no header line").
				WithHint("Remove the header option; fields are then matched to columns by position.")
		}
	}
	return nil
}

// splitIncludes separates the declared columns from the INCLUDE topic
// column that may trail them.
func splitIncludes(schema types.Schema, incs []connectors.Include) (types.Schema, bool, error) {
	switch {
	case len(incs) == 0:
		return schema, false, nil
	case len(incs) > 1 || !strings.EqualFold(incs[0].What, "topic"):
		for _, inc := range incs {
			if !strings.EqualFold(inc.What, "topic") {
				return nil, false, pgerror.New(pgerror.FeatureNotSupported,
					"connector mqtt cannot INCLUDE %s (it can include topic)", inc.What)
			}
		}
		return nil, false, pgerror.New(pgerror.SyntaxError, "INCLUDE topic is given twice")
	case len(schema) == 0:
		return nil, false, pgerror.New(pgerror.InternalError, "mqtt: INCLUDE topic but no column")
	}
	col := schema[len(schema)-1]
	if col.Type != types.Text && col.Type != types.Varchar {
		return nil, false, pgerror.New(pgerror.DatatypeMismatch,
			"column %q of INCLUDE topic must be of type %s, not %s", col.Name, types.Text, col.Type)
	}
	return schema[:len(schema)-1], true, nil
}

// Splits returns the one split: the subscription.
func (s *Source) Splits(context.Context) ([]connectors.Split, error) {
	return []connectors.Split{{ID: splitID}}, nil
}

// probe connects with a throw-away clean session and subscribes, so that a
// wrong URL, credentials or filter fail CREATE SOURCE.
func (s *Source) probe(ctx context.Context) error {
	c, err := s.connect(ctx, generatedID(s.name)+"-check", true, 0, 0, hooks{})
	if err != nil {
		return pgerror.New(pgerror.ConnectionException, "%v", err)
	}
	dctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	_ = c.Disconnect(dctx) // the check is done; a failed goodbye changes nothing
	return nil
}

// generatedID is a client identifier unique to one connection.
func generatedID(source string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sluice-" + source + "-" + hex.EncodeToString(b[:])
}

// connect opens a connection with autopaho, waits until it is up and the
// filters are subscribed, and returns it. Autopaho's own reconnection is
// turned off (onDown returns false): a reader whose connection drops
// reports it from Next, and the runtime opens a new reader with backoff,
// which is what shows the failure in SHOW SOURCES.
// hooks are a reader's callbacks; each may be nil.
type hooks struct {
	publish func(paho.PublishReceived) (bool, error)
	down    func()      // the connection was lost
	failed  func(error) // why it was lost
}

func (s *Source) connect(ctx context.Context, clientID string, clean bool, expiry uint32, inflight uint16, h hooks) (*autopaho.ConnectionManager, error) {
	if h.publish == nil {
		h.publish = func(paho.PublishReceived) (bool, error) { return true, nil }
	}
	subscribed := make(chan error, 1)
	failed := make(chan error, 1)
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{s.url},
		TlsCfg:                        s.tls,
		KeepAlive:                     s.keepAlive,
		CleanStartOnInitialConnection: clean,
		SessionExpiryInterval:         expiry,
		ConnectTimeout:                connectTimeout,
		ReconnectBackoff:              func(int) time.Duration { return 0 },
		ConnectUsername:               s.username,
		ConnectPassword:               []byte(s.password),
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			if inflight > 0 {
				cp.Properties.ReceiveMaximum = &inflight
			}
			if s.maxPacket > 0 {
				cp.Properties.MaximumPacketSize = &s.maxPacket
			}
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() { subscribed <- s.subscribe(ctx, cm) }()
		},
		OnConnectionDown: func() bool {
			if h.down != nil {
				h.down()
			}
			return false
		},
		OnConnectError: func(err error) {
			select {
			case failed <- err:
			default:
			}
		},
		ClientConfig: paho.ClientConfig{
			ClientID:                   clientID,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){h.publish},
			EnableManualAcknowledgment: true,
			SendAcksInterval:           ackInterval,
			OnClientError: func(err error) {
				if h.failed != nil {
					h.failed(err)
				}
			},
			OnServerDisconnect: func(d *paho.Disconnect) {
				if h.failed == nil {
					return
				}
				reason := (&packets.Disconnect{ReasonCode: d.ReasonCode}).Reason()
				if d.Properties != nil && d.Properties.ReasonString != "" {
					reason += ": " + d.Properties.ReasonString
				}
				h.failed(fmt.Errorf("the broker disconnected: %s", reason))
			},
		},
	}
	cm, err := autopaho.NewConnection(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.url.Redacted(), err)
	}
	timeout := time.NewTimer(2 * connectTimeout)
	defer timeout.Stop()
	select {
	case err = <-subscribed:
		if err == nil {
			return cm, nil
		}
	case err = <-failed:
		err = fmt.Errorf("connect to %s as %s: %w", s.url.Redacted(), clientID, describe(err))
	case <-timeout.C:
		err = fmt.Errorf("connect to %s as %s: no answer within %v", s.url.Redacted(), clientID, 2*connectTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	dctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	_ = cm.Disconnect(dctx) // the error that made us give up is the one to report
	return nil, err
}

// subscribe subscribes to every filter in one SUBSCRIBE and checks each
// filter's reason code.
func (s *Source) subscribe(ctx context.Context, cm *autopaho.ConnectionManager) error {
	sub := &paho.Subscribe{}
	for _, f := range s.filters {
		sub.Subscriptions = append(sub.Subscriptions, paho.SubscribeOptions{Topic: f, QoS: s.qos})
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	sa, err := cm.Subscribe(ctx, sub)
	if sa != nil {
		for i, code := range sa.Reasons {
			if code >= 0x80 && i < len(s.filters) {
				reason := (&packets.Suback{Reasons: []byte{code}}).Reason(0)
				if sa.Properties != nil && sa.Properties.ReasonString != "" {
					reason += ": " + sa.Properties.ReasonString
				}
				return fmt.Errorf("subscribe to %q at %s: %s", s.filters[i], s.url.Redacted(), reason)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("subscribe to %s at %s: %w", strings.Join(s.filters, ","), s.url.Redacted(), err)
	}
	return nil
}

// describe turns a CONNACK refusal into its reason.
func describe(err error) error {
	var ce *autopaho.ConnackError
	if errors.As(err, &ce) {
		reason := (&packets.Connack{ReasonCode: ce.ReasonCode}).Reason()
		if ce.Reason != "" {
			reason += ": " + ce.Reason
		}
		return fmt.Errorf("the broker refused the connection: %s", reason)
	}
	return err
}

// takeSlot reserves the lowest client.id suffix free now.
func (s *Source) takeSlot() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, used := range s.slots {
		if !used {
			s.slots[i] = true
			return i
		}
	}
	s.slots = append(s.slots, true)
	return len(s.slots) - 1
}

func (s *Source) freeSlot(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slots[i] = false
}

// Open connects, subscribes and returns a reader of the subscription. pos
// is ignored: MQTT cannot replay, so every reader starts with the messages
// the broker sends from now on (and, with clean_start = false, those its
// session kept).
func (s *Source) Open(ctx context.Context, split connectors.Split, _ connectors.Position) (connectors.Reader, error) {
	if split.ID != splitID {
		return nil, fmt.Errorf("mqtt: invalid split %q", split.ID)
	}
	r := &reader{
		src:      s,
		slot:     -1,
		msgs:     make(chan received, int(s.inflight)+s.batchSize),
		stop:     make(chan struct{}),
		down:     make(chan struct{}),
		errSet:   make(chan struct{}),
		includes: s.topicCol,
	}
	clientID := generatedID(s.name)
	if s.clientID != "" {
		r.slot = s.takeSlot()
		clientID = s.clientID
		if r.slot > 0 {
			clientID += "-" + strconv.Itoa(r.slot+1)
		}
	}
	var err error
	if r.dec, err = format.NewDecoder(s.format.Encode, s.format.Options, s.declared, s.alloc); err != nil {
		r.Close()
		return nil, err
	}
	if r.includes {
		r.topics = array.NewStringBuilder(s.alloc)
	}
	r.cm, err = s.connect(ctx, clientID, s.cleanStart, s.sessionExpiry, s.inflight,
		hooks{publish: r.onPublish, down: r.onDown, failed: r.setDownErr})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// received is a message and the client that must acknowledge it.
type received struct {
	p *paho.Publish
	c *paho.Client
}

// reader reads the subscription through one connection.
type reader struct {
	src  *Source
	cm   *autopaho.ConnectionManager
	slot int // client.id suffix held, or -1

	// msgs holds messages received and not yet taken by Next. Its room
	// (inflight_messages + batch.size) exceeds what the broker may send
	// unacknowledged at QoS 1 and 2, so the handler does not wait on it
	// for those; for QoS 0, which has no such bound, the handler waits,
	// which stops reading from the connection rather than dropping.
	msgs chan received
	stop chan struct{} // closed by Close, to release a waiting handler
	down chan struct{} // closed when the connection is lost

	mu      sync.Mutex
	downErr error         // why the connection was lost, when known
	errSet  chan struct{} // closed when downErr is set

	// pending are the messages of the batch Next returned last: they are
	// acknowledged when Next is called again, once the runtime has taken
	// the batch.
	pending []received

	dec      format.Decoder
	includes bool
	topics   *array.StringBuilder // INCLUDE topic
	ackedAt  time.Time            // when acknowledgements were last marked
	closed   bool
	downOnce sync.Once
}

func (r *reader) onPublish(pr paho.PublishReceived) (bool, error) {
	select {
	case r.msgs <- received{p: pr.Packet, c: pr.Client}:
	case <-r.stop:
	}
	return true, nil
}

func (r *reader) onDown() {
	r.downOnce.Do(func() { close(r.down) })
}

// setDownErr records why the connection went down; the first reason wins.
func (r *reader) setDownErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.downErr == nil {
		r.downErr = err
		close(r.errSet)
	}
}

func (r *reader) lost() error {
	// Paho reports the reason and the loss from separate goroutines; the
	// reason usually follows at once.
	select {
	case <-r.errSet:
	case <-time.After(time.Second):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.downErr != nil {
		return fmt.Errorf("connection to %s lost: %w", r.src.url.Redacted(), r.downErr)
	}
	return fmt.Errorf("connection to %s lost", r.src.url.Redacted())
}

// Next acknowledges the messages of the previous batch, waits for a
// message, then gathers more for up to batch.linger, until batch.size
// messages or inflight_messages unacknowledged ones (the broker sends no
// more before they are acknowledged). Messages received before the
// connection dropped are returned before the error is.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	if err := ctx.Err(); err != nil {
		// The runtime is stopping and may not have kept the last batch:
		// leave it unacknowledged, for a persistent session to redeliver.
		return connectors.Batch{}, err
	}
	r.ack()
	var b connectors.Batch
	var unacked int
	take := func(m received) {
		r.take(&b, m)
		if m.p.QoS > 0 {
			unacked++
		}
	}
	select {
	case <-ctx.Done():
		return connectors.Batch{}, ctx.Err()
	case m := <-r.msgs:
		take(m)
	case <-r.down:
		select {
		case m := <-r.msgs:
			take(m)
		default:
			return connectors.Batch{}, r.lost()
		}
	}
	var linger <-chan time.Time
	if r.src.linger > 0 {
		t := time.NewTimer(r.src.linger)
		defer t.Stop()
		linger = t.C
	}
gather:
	for n := 1; n < r.src.batchSize && unacked < int(r.src.inflight); n++ {
		select {
		case m := <-r.msgs:
			take(m)
			continue
		default:
		}
		if linger == nil {
			break
		}
		select {
		case m := <-r.msgs:
			take(m)
		case <-linger:
			break gather
		case <-r.down:
			break gather
		case <-ctx.Done():
			break gather
		}
	}
	r.finish(&b)
	return b, nil
}

// take decodes one message into the batch being built.
func (r *reader) take(b *connectors.Batch, m received) {
	if m.p.QoS > 0 {
		r.pending = append(r.pending, m)
	}
	payload := m.p.Payload
	b.Bytes += int64(len(payload))
	if format.IsBlank(payload) {
		return // an empty message (clearing a retained one) is no record
	}
	if err := r.dec.Append(payload); err != nil {
		b.Errors = append(b.Errors, connectors.RecordError{
			Where: "topic " + m.p.Topic,
			Err:   err,
			Raw:   bytes.Clone(payload[:min(len(payload), maxRawBytes)]),
		})
		return
	}
	if r.topics != nil {
		r.topics.Append(m.p.Topic)
	}
}

// finish turns the rows decoded so far into the batch's record.
func (r *reader) finish(b *connectors.Batch) {
	if r.dec.Len() == 0 {
		return
	}
	rec := r.dec.Finish()
	if r.topics == nil {
		b.Record = rec
		return
	}
	topics := r.topics.NewArray()
	defer topics.Release()
	cols := append(append([]arrow.Array(nil), rec.Columns()...), topics)
	b.Record = array.NewRecordBatch(r.src.schema, cols, rec.NumRows())
	rec.Release()
}

// ack marks the messages of the previous batch acknowledged; paho sends
// the acknowledgements, in the order the messages came, within
// ackInterval. This is where a checkpoint hook belongs once the runtime
// has checkpoints: acknowledge when a checkpoint covering the batch is
// stored, not when the next batch is asked for.
func (r *reader) ack() {
	if len(r.pending) > 0 {
		r.ackedAt = time.Now()
	}
	for _, m := range r.pending {
		// An acknowledgement that cannot be sent (the connection dropped)
		// leaves the message to be delivered again with a persistent
		// session: at least once.
		_ = m.c.Ack(m.p)
	}
	clear(r.pending)
	r.pending = r.pending[:0]
}

// Close disconnects. Messages returned by Next but not acknowledged yet
// stay unacknowledged: with clean_start = false the broker delivers them
// again to the next reader. Closing again does nothing.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.stop)
	// Paho sends marked acknowledgements every ackInterval and forgets
	// those not sent yet when the connection closes; give it the time to
	// send the last ones, so that a batch the runtime took is not
	// delivered again to the next reader.
	if wait := ackGrace - time.Since(r.ackedAt); wait > 0 {
		time.Sleep(wait)
	}
	if r.cm != nil {
		ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
		_ = r.cm.Disconnect(ctx) // nothing to do about a failed goodbye
		cancel()
	}
	if r.slot >= 0 {
		r.src.freeSlot(r.slot)
	}
	if r.dec != nil {
		r.dec.Release()
	}
	if r.topics != nil {
		r.topics.Release()
	}
	return nil
}
