package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// maxRawBytes bounds how much of a bad message is kept in its RecordError;
// the dead-letter topic gets all of it.
const maxRawBytes = 1 << 10

// Source is a Kafka topic read as a source: one split per partition.
type Source struct {
	name      string
	topic     string
	conn      *connection
	startMode string // earliest, latest or timestamp
	startTime int64  // Unix milliseconds, for timestamp
	group     string
	dlqTopic  string
	discovery time.Duration
	batchSize int

	format   connectors.Format
	alloc    memory.Allocator
	declared types.Schema // the columns the decoder fills
	schema   *arrow.Schema
	includes []include
}

var (
	_ connectors.Source                              = (*Source)(nil)
	_ interface{ DiscoveryInterval() time.Duration } = (*Source)(nil)
)

// NewSource checks the configuration, connects to the cluster and checks
// that the topic exists.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (*Source, error) {
	o := cfg.Options
	conn, err := parseConnection(o)
	if err != nil {
		return nil, err
	}
	s := &Source{
		name:      cfg.Name,
		topic:     o.String(optTopic),
		conn:      conn,
		startMode: o.String(optStartupMode),
		group:     o.String(optGroupID),
		dlqTopic:  o.String(optDeadLetter),
		format:    cfg.Format,
		alloc:     cfg.Alloc,
		schema:    cfg.Schema.Arrow(),
	}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	if _, set := o.Lookup(optStartupMillis); set {
		if s.startTime, err = o.Int(optStartupMillis); err != nil {
			return nil, err
		}
		if s.startMode != "timestamp" && s.startMode != "earliest" {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"option %q needs %s = 'timestamp', not '%s'", optStartupMillis, optStartupMode, s.startMode)
		}
		// As in RisingWave, the timestamp wins over the default mode.
		s.startMode = "timestamp"
	} else if s.startMode == "timestamp" {
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"%s = 'timestamp' needs option %q", optStartupMode, optStartupMillis)
	}
	if s.discovery, err = o.Duration(optDiscovery); err != nil {
		return nil, err
	}
	n, err := o.Int(optBatchSize)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<20 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and %d", optBatchSize, 1<<20)
	}
	s.batchSize = int(n)
	if s.dlqTopic == s.topic {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must name another topic than %q", optDeadLetter, optTopic)
	}

	if s.declared, s.includes, err = splitIncludes(cfg.Schema, cfg.Includes); err != nil {
		return nil, err
	}
	if err := checkFormat(cfg.Format); err != nil {
		return nil, err
	}
	// Build a decoder once to check the encoding, its options and the
	// column types now rather than when the first partition is opened.
	dec, err := format.NewFormatDecoder(cfg.Format.Format, cfg.Format.Encode, cfg.Format.Options, s.declared, s.alloc)
	if err != nil {
		return nil, err
	}
	dec.Release()

	if cfg.Recovering {
		return s, nil // the cluster may be down at start-up; readers retry
	}
	if err := s.checkTopics(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// checkTopics checks that the cluster answers and has the topic, and the
// dead-letter topic if there is one (readers do not create it).
func (s *Source) checkTopics(ctx context.Context) error {
	client, err := s.metadataClient(ctx)
	if err != nil {
		return s.conn.userError(s.topic, err)
	}
	defer client.Close()
	for _, t := range []string{s.topic, s.dlqTopic} {
		if t == "" {
			continue
		}
		if _, err := client.Partitions(t); err != nil {
			return s.conn.userError(t, err)
		}
	}
	return nil
}

func (s *Source) metadataClient(ctx context.Context) (sarama.Client, error) {
	cfg := s.conn.config()
	cfg.Metadata.AllowAutoTopicCreation = false
	return s.conn.connect(ctx, cfg)
}

// checkFormat accepts FORMAT PLAIN ENCODE JSON or CSV, where each message
// is one record: a CSV header has no place in that.
func checkFormat(f connectors.Format) error {
	if f.Encode == "" {
		return pgerror.New(pgerror.InvalidParameterValue, "connector kafka needs FORMAT PLAIN ENCODE JSON or ENCODE CSV")
	}
	if ff := strings.ToUpper(f.Format); ff != "" && ff != "PLAIN" && ff != "DEBEZIUM" {
		return pgerror.New(pgerror.FeatureNotSupported, "connector kafka supports FORMAT PLAIN and DEBEZIUM, not FORMAT %s", f.Format)
	}
	if strings.EqualFold(f.Encode, "CSV") {
		if o, err := format.ParseCSVOptions(f.Options); err == nil && o.Header {
			return pgerror.New(pgerror.FeatureNotSupported,
				"connector kafka does not support ENCODE CSV (header = true): each message is one record, so there is no header line").
				WithHint("Remove the header option; fields are then matched to columns by position.")
		}
	}
	return nil
}

// DiscoveryInterval is how often the runtime should call Splits again to
// find partitions added to the topic; 0 means never.
func (s *Source) DiscoveryInterval() time.Duration { return s.discovery }

// Splits lists the topic's partitions now, in order; a split's ID is the
// partition number.
func (s *Source) Splits(ctx context.Context) ([]connectors.Split, error) {
	client, err := s.metadataClient(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	parts, err := client.Partitions(s.topic)
	if err != nil {
		return nil, fmt.Errorf("list partitions of topic %s: %w", s.topic, err)
	}
	slices.Sort(parts)
	splits := make([]connectors.Split, len(parts))
	for i, p := range parts {
		splits[i] = connectors.Split{ID: strconv.Itoa(int(p))}
	}
	return splits, nil
}

// Open starts reading partition split.ID at pos, the offset of the next
// message to read (as a Batch reported it), or where scan.startup.mode says
// when pos is empty.
func (s *Source) Open(ctx context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	p, err := strconv.ParseInt(split.ID, 10, 32)
	if err != nil || p < 0 {
		return nil, fmt.Errorf("kafka: invalid split %q: not a partition number", split.ID)
	}
	partition := int32(p)
	cfg := s.conn.config()
	cfg.Metadata.AllowAutoTopicCreation = false
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	// Room for a whole batch of fetched messages, so that a batch is
	// not cut short by the channel between sarama and Next.
	cfg.ChannelBufferSize = s.batchSize
	// For dead letters, which must be stored before the batch that
	// skipped them counts as read.
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	client, err := s.conn.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r := &reader{
		src:       s,
		client:    client,
		partition: partition,
		where:     fmt.Sprintf("topic %s partition %d", s.topic, partition),
	}
	if err := r.open(pos); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// reader reads one partition with its own client and partition consumer,
// so that a reader that fails is replaced whole, connections included.
type reader struct {
	src       *Source
	client    sarama.Client
	consumer  sarama.Consumer
	pc        sarama.PartitionConsumer
	group     *groupCommitter // nil without group.id
	dlq       sarama.SyncProducer
	partition int32
	where     string

	dec      format.Decoder
	includes []includeBuilder

	next int64 // the offset of the next message: the Position
	// first is what the first Next returns at once: the start position
	// (so that a reader replaced before any message arrives resumes there
	// rather than at a new "latest") and offsets skipped because retention
	// deleted them.
	first *connectors.Batch
	// failed is an error met after messages of a batch, reported by the
	// next call.
	failed error

	dead   []deadLetter // the bad messages of the batch being built
	closed bool
}

// open resolves the start offset and starts consuming there.
func (r *reader) open(pos connectors.Position) error {
	s := r.src
	oldest, err := r.client.GetOffset(s.topic, r.partition, sarama.OffsetOldest)
	if err != nil {
		return fmt.Errorf("%s: get oldest offset: %w", r.where, err)
	}
	newest, err := r.client.GetOffset(s.topic, r.partition, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("%s: get newest offset: %w", r.where, err)
	}
	r.first = &connectors.Batch{}
	switch {
	case pos != "":
		start, err := strconv.ParseInt(string(pos), 10, 64)
		if err != nil || start < 0 {
			return fmt.Errorf("%s: invalid position %q", r.where, pos)
		}
		switch {
		case start > newest:
			return fmt.Errorf("%s: position %d is past the partition's end (%d): was the topic deleted and created again?",
				r.where, start, newest)
		case start < oldest:
			// Deleted by retention while Sluice was not reading: those
			// messages are gone. Say so once, as one bad record.
			r.first.Errors = append(r.first.Errors, connectors.RecordError{
				Where: fmt.Sprintf("partition %d offsets %d to %d", r.partition, start, oldest-1),
				Err:   fmt.Errorf("%d messages were deleted from the topic (retention) before they were read", oldest-start),
			})
			start = oldest
		}
		r.next = start
	case s.startMode == "latest":
		r.next = newest
	case s.startMode == "timestamp":
		at, err := r.client.GetOffset(s.topic, r.partition, s.startTime)
		if err != nil {
			return fmt.Errorf("%s: find offset for time %d: %w", r.where, s.startTime, err)
		}
		if at < 0 { // no message that late
			at = newest
		}
		r.next = at
	default:
		r.next = oldest
	}
	r.first.Position = r.position()

	if r.consumer, err = sarama.NewConsumerFromClient(r.client); err != nil {
		return fmt.Errorf("%s: %w", r.where, err)
	}
	if r.pc, err = r.consumer.ConsumePartition(s.topic, r.partition, r.next); err != nil {
		return fmt.Errorf("%s: consume from offset %d: %w", r.where, r.next, err)
	}
	if s.group != "" {
		r.group = startGroupCommitter(r.client, s.group, s.topic, r.partition)
	}
	if r.dec, err = format.NewFormatDecoder(s.format.Format, s.format.Encode, s.format.Options, s.declared, s.alloc); err != nil {
		return err
	}
	r.includes = newIncludeBuilders(s.includes, s.alloc)
	return nil
}

func (r *reader) position() connectors.Position {
	return connectors.Position(strconv.FormatInt(r.next, 10))
}

// Next waits for a message, then returns it with every message already
// fetched, up to batch.size, without waiting for more.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	if r.first != nil {
		b := *r.first
		r.first = nil
		return b, nil
	}
	if r.failed != nil {
		return connectors.Batch{}, r.failed
	}
	var b connectors.Batch
	select {
	case <-ctx.Done():
		return connectors.Batch{}, ctx.Err()
	case m, ok := <-r.pc.Messages():
		if !ok {
			return connectors.Batch{}, r.stopped()
		}
		r.take(&b, m)
	case e := <-r.pc.Errors():
		return connectors.Batch{}, r.consumerError(e)
	}
	msgs, errs := r.pc.Messages(), r.pc.Errors()
drain:
	for n := 1; n < r.src.batchSize; n++ {
		select {
		case m, ok := <-msgs:
			if !ok {
				r.failed = r.stopped()
				break drain
			}
			r.take(&b, m)
		case e := <-errs:
			r.failed = r.consumerError(e)
			break drain
		default:
			break drain
		}
	}
	if err := r.sendDeadLetters(ctx); err != nil {
		// The batch is dropped and will be read again from its start, dead
		// letters included: at least once, never lost.
		r.discard()
		return connectors.Batch{}, err
	}
	r.finish(&b)
	if r.group != nil {
		r.group.mark(r.next)
	}
	return b, nil
}

func (r *reader) stopped() error {
	return fmt.Errorf("%s: the partition consumer stopped", r.where)
}

func (r *reader) consumerError(e *sarama.ConsumerError) error {
	if e == nil {
		return r.stopped()
	}
	return fmt.Errorf("%s at offset %d: %w", r.where, r.next, e.Err)
}

// take decodes one message into the batch being built.
func (r *reader) take(b *connectors.Batch, m *sarama.ConsumerMessage) {
	r.next = m.Offset + 1
	b.Bytes += int64(len(m.Value))
	if format.IsBlank(m.Value) {
		return // a tombstone or an empty message is no record
	}
	err := checkIncludes(r.includes, m)
	if err == nil {
		err = r.dec.Append(m.Value)
	}
	if err != nil {
		b.Errors = append(b.Errors, connectors.RecordError{
			Where: fmt.Sprintf("partition %d offset %d", m.Partition, m.Offset),
			Err:   err,
			Raw:   bytes.Clone(m.Value[:min(len(m.Value), maxRawBytes)]),
		})
		if r.src.dlqTopic != "" {
			r.dead = append(r.dead, deadLetter{msg: m, err: err})
		}
		return
	}
	appendIncludes(r.includes, m)
}

// Backlog is how many messages the partition holds beyond those read: its
// high watermark (as of the last fetch) less the next offset.
func (r *reader) Backlog() (int64, bool) {
	if r.pc == nil {
		return 0, false
	}
	hwm := r.pc.HighWaterMarkOffset()
	if hwm <= 0 {
		return 0, false
	}
	return max(hwm-r.next, 0), true
}

var _ connectors.BacklogReader = (*reader)(nil)

// finish turns the rows decoded so far into the batch's record.
func (r *reader) finish(b *connectors.Batch) {
	b.Position = r.position()
	if r.dec.Len() == 0 {
		return
	}
	rec, deletes := format.FinishChanges(r.dec)
	if deletes != nil {
		b.Kinds = connectors.KindsOf(deletes)
	}
	if len(r.includes) == 0 {
		b.Record = rec
		return
	}
	cols := make([]arrow.Array, 0, len(r.src.declared)+len(r.includes))
	cols = append(cols, rec.Columns()...)
	for i := range r.includes {
		arr := r.includes[i].b.NewArray()
		defer arr.Release()
		cols = append(cols, arr)
	}
	b.Record = array.NewRecordBatch(r.src.schema, cols, rec.NumRows())
	rec.Release()
}

// discard drops the rows decoded for a batch that is not returned. The
// reader cannot go on past them: it must be reopened at the last position
// returned, which is before the dropped batch.
func (r *reader) discard() {
	if r.dec.Len() > 0 {
		r.dec.Finish().Release()
		for i := range r.includes {
			r.includes[i].b.NewArray().Release()
		}
	}
	r.failed = errors.New("reader must be reopened")
}

// Close stops the reader. The last position is committed to the consumer
// group and the decoder's memory released before it returns; the
// connections are shut down in the background, because sarama's consumer
// waits for the broker's pending long poll (up to 500 ms) to end, and a
// replaced reader should not wait for that. Closing again does nothing.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.group != nil {
		_ = r.group.close() // failures only affect Kafka's view of lag
	}
	if r.dec != nil {
		r.dec.Release()
	}
	for i := range r.includes {
		r.includes[i].b.Release()
	}
	go func(pc sarama.PartitionConsumer, consumer sarama.Consumer, dlq sarama.SyncProducer, client sarama.Client) {
		// Errors of a consumer that is going away have been reported
		// by Next, or concern no one.
		if pc != nil {
			_ = pc.Close()
		}
		if consumer != nil {
			_ = consumer.Close()
		}
		if dlq != nil {
			_ = dlq.Close()
		}
		_ = client.Close()
	}(r.pc, r.consumer, r.dlq, r.client)
	return nil
}
