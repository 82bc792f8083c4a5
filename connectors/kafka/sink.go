package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
)

// Sink writes a view's changes to a Kafka topic, one message per row.
//
// Exactly-once (the default): Write encodes the rows and keeps the messages;
// Commit(epoch) begins a transaction, produces them with the epoch in a
// header, waits for every acknowledgement and commits the transaction. An
// epoch is therefore visible to read_committed consumers whole or not at
// all, and LastCommitted finds the last epoch that took effect by reading
// the headers at the end of the topic. Commit of an epoch at or below it
// writes nothing, whether the engine asked LastCommitted or not. A failed
// epoch's transaction is aborted (or, left open by a crash, aborted by the
// next producer of the same transactional id, which also fences the old
// one).
//
// At-least-once: Write hands messages to sarama's asynchronous producer and
// returns; a goroutine counts the acknowledgements (acks = all) and keeps
// the first failure. Commit waits until every message written so far is
// acknowledged and returns that failure. A failed epoch is the caller's to
// write again: messages may then be duplicated, never lost.
//
// The producer is idempotent with one request in flight per broker, so a
// retried request can neither be duplicated by the broker nor overtaken by a
// later one: messages of one key (one partition) stay in the order written,
// which an upsert topic's readers rely on.
type Sink struct {
	topic    string
	upsert   bool
	key      *format.Encoder // nil: messages have no key
	value    *format.Encoder
	client   sarama.Client
	producer sarama.AsyncProducer
	acked    chan struct{} // closed when the acknowledgement loop ends
	rowBytes int           // the expected size of a row's key and value

	// Exactly-once state, used only by the caller's goroutine.
	txnID   string                     // "": at-least-once
	pending [][]sarama.ProducerMessage // the open epoch's messages
	// committed is the last epoch known to have taken effect, once known
	// is set (by LastCommitted or the first Commit).
	committed uint64
	known     bool
	// broken is set when a transaction was left in an unknown state (a
	// cancelled Commit, a failed EndTxn): the sink must be closed.
	broken error
	closed bool

	mu       sync.Mutex
	inflight int           // messages handed to the producer, not yet acknowledged
	idle     chan struct{} // closed when inflight drops to 0; nil while it is 0
	failed   error         // the first delivery error since the last Commit
}

var (
	_ connectors.Sink          = (*Sink)(nil)
	_ connectors.EpochRecorder = (*Sink)(nil)
)

// NewSink checks the configuration and connects to the cluster. The topic is
// not checked here: a broker may create it on first use, and a missing topic
// is reported by the Commit that needed it.
func NewSink(ctx context.Context, cfg connectors.SinkConfig) (*Sink, error) {
	o := cfg.Options
	conn, err := parseConnection(o)
	if err != nil {
		return nil, err
	}
	s := &Sink{topic: o.String(optTopic), acked: make(chan struct{}), rowBytes: 256}

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
			"connector kafka supports sink types %s and %s, not %q", typeAppendOnly, typeUpsert, cfg.Type)
	}
	if cfg.Format.Encode == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"a kafka sink needs FORMAT PLAIN ENCODE JSON or ENCODE CSV")
	}
	switch f := strings.ToUpper(cfg.Format.Format); {
	case f == "" || f == "PLAIN":
	case f == "UPSERT" && s.upsert:
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported,
			"a kafka sink supports FORMAT PLAIN only, not FORMAT %s", cfg.Format.Format)
	}
	if err := checkFormat(cfg.Format); err != nil {
		return nil, err
	}
	if s.value, err = format.NewEncoder(cfg.Format.Encode, cfg.Format.Options, cfg.Schema, nil); err != nil {
		return nil, err
	}
	if len(cfg.PrimaryKey) > 0 {
		if s.key, err = format.NewEncoder(cfg.Format.Encode, cfg.Format.Options, cfg.Schema, cfg.PrimaryKey); err != nil {
			return nil, err
		}
	}

	if o.String(optDelivery) != deliveryAtLeastOnce {
		if s.txnID = o.String(optTransactionalID); s.txnID == "" {
			s.txnID = "sluice-sink-" + cfg.Name
		}
	}
	pcfg, err := producerConfig(conn, o, s.txnID)
	if err != nil {
		return nil, err
	}
	if s.client, err = conn.connect(ctx, pcfg); err != nil {
		return nil, conn.userError(s.topic, err)
	}
	// Reach a broker now, so that an unreachable cluster is reported
	// plainly rather than by the producer's retries.
	if err := s.client.RefreshMetadata(); err != nil {
		s.client.Close()
		return nil, conn.userError(s.topic, err)
	}
	if s.producer, err = sarama.NewAsyncProducerFromClient(s.client); err != nil {
		s.client.Close()
		var cerr sarama.ConfigurationError
		if errors.As(err, &cerr) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "kafka producer: %v", err)
		}
		// The idempotent producer asks the cluster for a producer id
		// first: this is where an unreachable cluster shows. With a
		// transactional id, this also fences the previous producer of that
		// id and aborts the transaction it left open.
		return nil, conn.userError(s.topic, err)
	}
	go s.acknowledge()
	return s, nil
}

// producerConfig maps the sink's options onto sarama's producer settings;
// a non-empty txnID makes the producer transactional.
func producerConfig(conn *connection, o connectors.Options, txnID string) (*sarama.Config, error) {
	cfg := conn.config()
	linger, err := o.Int(optLinger)
	if err != nil {
		return nil, err
	}
	batch, err := o.Int(optBatchNum)
	if err != nil {
		return nil, err
	}
	maxBytes, err := o.Int(optMaxMessage)
	if err != nil {
		return nil, err
	}
	switch {
	case linger < 0 || linger > 60_000:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 0 and 60000", optLinger)
	case batch < 1 || batch > 1_000_000:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 1000000", optBatchNum)
	case maxBytes < 1000 || maxBytes > 1<<30:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1000 and %d", optMaxMessage, 1<<30)
	}
	cfg.Producer.Flush.Frequency = time.Duration(linger) * time.Millisecond
	cfg.Producer.Flush.Messages = int(batch)
	cfg.Producer.Flush.MaxMessages = int(batch)
	cfg.Producer.MaxMessageBytes = int(maxBytes)
	switch o.String(optCompression) {
	case "gzip":
		cfg.Producer.Compression = sarama.CompressionGZIP
	case "snappy":
		cfg.Producer.Compression = sarama.CompressionSnappy
	case "lz4":
		cfg.Producer.Compression = sarama.CompressionLZ4
	case "zstd":
		cfg.Producer.Compression = sarama.CompressionZSTD
	default:
		cfg.Producer.Compression = sarama.CompressionNone
	}
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = txnID
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	// Ride out a broker restart or a leader election before failing an
	// epoch: retries back off from 100 ms to 2 s, about 15 s in all.
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		return min(100*time.Millisecond<<min(retries, 5), 2*time.Second)
	}
	if err := cfg.Validate(); err != nil {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "kafka producer: %v", err)
	}
	return cfg, nil
}

// Write encodes the batch's rows. At least once, it hands them to the
// producer and returns before they are delivered; Commit waits for that.
// Exactly once, it keeps them for Commit, which knows the epoch.
func (s *Sink) Write(ctx context.Context, b connectors.SinkBatch) error {
	rec := b.Record
	if rec == nil || rec.NumRows() == 0 {
		return nil
	}
	n := int(rec.NumRows())
	if b.Kinds != nil && len(b.Kinds) != n {
		return fmt.Errorf("kafka sink: %d kinds for %d rows", len(b.Kinds), n)
	}
	s.value.Bind(rec)
	if s.key != nil {
		s.key.Bind(rec)
	}
	// One buffer holds every key and value of the batch, and the messages
	// and their encoders are two slices: the producer keeps them until
	// delivery, and nothing is allocated per row.
	buf := make([]byte, 0, n*s.rowBytes)
	ends := make([]int, 2*n) // end of row i's key, end of its value
	for i := 0; i < n; i++ {
		if s.key != nil {
			buf = s.key.AppendRow(buf, i)
		}
		ends[2*i] = len(buf)
		if b.Kinds != nil && b.Kinds[i] == connectors.RowDelete {
			if !s.upsert {
				return fmt.Errorf("kafka sink: an append-only sink received a delete (row %d)", i)
			}
		} else {
			buf = s.value.AppendRow(buf, i)
		}
		ends[2*i+1] = len(buf)
	}
	// Size the next batch's buffer from this one, with room to spare,
	// so that it is allocated once.
	s.rowBytes = len(buf)/n + len(buf)/(4*n) + 1
	msgs := make([]sarama.ProducerMessage, n)
	encs := make([]sarama.ByteEncoder, 2*n)
	start := 0
	for i := range msgs {
		m := &msgs[i]
		m.Topic = s.topic
		keyEnd, valueEnd := ends[2*i], ends[2*i+1]
		if s.key != nil {
			encs[2*i] = buf[start:keyEnd:keyEnd]
			m.Key = &encs[2*i]
		}
		tombstone := b.Kinds != nil && b.Kinds[i] == connectors.RowDelete
		if !tombstone {
			encs[2*i+1] = buf[keyEnd:valueEnd:valueEnd]
			m.Value = &encs[2*i+1]
		}
		start = valueEnd
	}

	if s.txnID != "" {
		s.pending = append(s.pending, msgs)
		return nil
	}
	return s.send(ctx, msgs)
}

// send hands msgs to the producer.
func (s *Sink) send(ctx context.Context, msgs []sarama.ProducerMessage) error {
	n := len(msgs)
	s.mu.Lock()
	if s.inflight == 0 {
		s.idle = make(chan struct{})
	}
	s.inflight += n
	s.mu.Unlock()
	for i := range msgs {
		select {
		case s.producer.Input() <- &msgs[i]:
		case <-ctx.Done():
			s.settle(n-i, nil) // never sent
			return ctx.Err()
		}
	}
	return nil
}

// acknowledge counts deliveries and failures until the producer closes.
func (s *Sink) acknowledge() {
	defer close(s.acked)
	successes, errs := s.producer.Successes(), s.producer.Errors()
	for successes != nil || errs != nil {
		select {
		case _, ok := <-successes:
			if !ok {
				successes = nil
				continue
			}
			s.settle(1, nil)
		case e, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.settle(1, e.Err)
		}
	}
}

// settle marks n messages as done, with err if they failed.
func (s *Sink) settle(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.failed == nil {
		s.failed = fmt.Errorf("deliver to Kafka topic %s: %w", s.topic, err)
	}
	s.inflight -= n
	if s.inflight == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// Commit returns once the epoch's messages are delivered: exactly once,
// produced and committed in one transaction; at least once, every message
// written so far acknowledged. It returns the first delivery error.
func (s *Sink) Commit(ctx context.Context, epoch uint64) error {
	if s.txnID != "" {
		return s.commitTxn(ctx, epoch)
	}
	if err := s.wait(ctx); err != nil {
		return fmt.Errorf("epoch %d: %w", epoch, err)
	}
	return nil
}

// wait returns once every message handed to the producer is acknowledged,
// with the first delivery error since the last wait, if any.
func (s *Sink) wait(ctx context.Context) error {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.failed
	s.failed = nil
	return err
}

// commitTxn writes the epoch's messages in one transaction.
func (s *Sink) commitTxn(ctx context.Context, epoch uint64) error {
	pending := s.pending
	s.pending = nil
	if s.broken != nil {
		return s.broken
	}
	if !s.known {
		if _, err := s.LastCommitted(ctx); err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
	}
	if epoch <= s.committed || len(pending) == 0 {
		// Already in the topic, or nothing to write: an empty
		// transaction would record nothing LastCommitted can find.
		return nil
	}
	if err := s.produceTxn(ctx, epoch, pending); err != nil {
		return err
	}
	if err := s.producer.CommitTxn(); err != nil {
		return s.failTxn(epoch, fmt.Errorf("commit the transaction: %w", err))
	}
	s.committed = epoch
	return nil
}

// produceTxn begins a transaction and produces msgs in it, each with the
// epoch's headers, and returns once they are acknowledged.
func (s *Sink) produceTxn(ctx context.Context, epoch uint64, pending [][]sarama.ProducerMessage) error {
	headers := []sarama.RecordHeader{
		{Key: []byte(headerEpoch), Value: strconv.AppendUint(nil, epoch, 10)},
		{Key: []byte(headerTransactionalID), Value: []byte(s.txnID)},
	}
	// A message the producer would refuse for its size dooms the
	// transaction, and sarama then retries the epoch's other batches to
	// exhaustion before failing them: refuse the epoch before it begins.
	limit := s.client.Config().Producer.MaxMessageBytes
	for _, msgs := range pending {
		for i := range msgs {
			msgs[i].Headers = headers
			if n := msgs[i].ByteSize(2); n > limit {
				return fmt.Errorf("epoch %d: deliver to Kafka topic %s: a message of %d bytes exceeds %s (%d)",
					epoch, s.topic, n, optMaxMessage, limit)
			}
		}
	}
	if err := s.producer.BeginTxn(); err != nil {
		return s.failTxn(epoch, fmt.Errorf("begin a transaction: %w", err))
	}
	for _, msgs := range pending {
		if err := s.send(ctx, msgs); err != nil {
			// Messages are in flight: aborting would wait for them.
			s.broken = fmt.Errorf("kafka sink: a transaction was left open by a cancelled commit: %w", err)
			return err
		}
	}
	if err := s.wait(ctx); err != nil {
		if ctx.Err() != nil {
			s.broken = fmt.Errorf("kafka sink: a transaction was left open by a cancelled commit: %w", err)
			return err
		}
		return s.failTxn(epoch, err)
	}
	return nil
}

// failTxn aborts the open transaction, if there is one, and returns err for
// the epoch. A sink whose producer is not ready for another transaction
// afterwards (fenced, or the outcome of EndTxn unknown) is broken: only a
// new sink, which reads LastCommitted again, may go on.
func (s *Sink) failTxn(epoch uint64, err error) error {
	st := s.producer.TxnStatus()
	if st&(sarama.ProducerTxnFlagInTransaction|sarama.ProducerTxnFlagAbortableError) != 0 && st&sarama.ProducerTxnFlagFatalError == 0 {
		if aerr := s.producer.AbortTxn(); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort the transaction: %w", aerr))
		}
	}
	if errors.Is(err, sarama.ErrProducerFenced) {
		// sarama has no message for this code.
		err = fmt.Errorf("another producer of transactional id %q took over (fenced): %w", s.txnID, err)
	}
	err = fmt.Errorf("epoch %d: %w", epoch, err)
	if s.producer.TxnStatus()&sarama.ProducerTxnFlagReady == 0 {
		s.broken = fmt.Errorf("kafka sink: the producer cannot go on after %w", err)
	}
	return err
}

// Close flushes what is pending, waits for its acknowledgements and
// disconnects. Exactly once, the messages of an epoch not committed are
// dropped; a transaction a cancelled Commit left open stays open until the
// next producer of the transactional id aborts it, or it times out. A
// second Close does nothing.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.pending = nil
	err := s.producer.Close()
	<-s.acked
	var perrs sarama.ProducerErrors
	if errors.As(err, &perrs) {
		err = nil // already counted by acknowledge
	}
	return errors.Join(err, s.client.Close())
}
