package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/IBM/sarama"
)

// The tail of a partition is read in windows of offsets, from the last
// stable offset backwards, each window tailWidening times the last, until
// one holds a committed message of the sink or the partition's start is
// reached. The first window is enough for a topic the sink writes alone:
// its last messages are the last epoch's, and a transaction marker takes
// one offset per partition and epoch.
const (
	tailWindow    = 256
	tailWidening  = 8
	tailFetchSize = 1 << 20 // bytes asked for per partition and fetch
)

// LastCommitted returns the highest epoch of a message this sink's
// transactional id committed to the topic, or 0 when there is none (or the
// sink is at least once, whose messages carry no epoch). Transactions are
// atomic and epochs commit in order, so one committed message of epoch e
// means that the whole of e, and every epoch before it, took effect.
//
// It reads committed messages only (read_committed, aborted transactions
// skipped). A transaction left open by a crashed producer of the same id
// has been aborted by this sink's producer, which fenced it on creation,
// so the last stable offset is not held back by it.
func (s *Sink) LastCommitted(ctx context.Context) (uint64, error) {
	if s.txnID == "" {
		return 0, nil
	}
	if err := s.client.RefreshMetadata(s.topic); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return 0, fmt.Errorf("read the last epoch of Kafka topic %s: %w", s.topic, err)
	}
	parts, err := s.client.Partitions(s.topic)
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		parts, err = nil, nil // not created yet: nothing committed
	}
	if err != nil {
		return 0, fmt.Errorf("read the last epoch of Kafka topic %s: %w", s.topic, err)
	}
	var last uint64
	for _, p := range parts {
		e, err := s.partitionEpoch(ctx, p)
		if err != nil {
			return 0, fmt.Errorf("read the last epoch of Kafka topic %s partition %d: %w", s.topic, p, err)
		}
		last = max(last, e)
	}
	s.committed, s.known = last, true
	return last, nil
}

// partitionEpoch returns the highest epoch of the sink's committed
// messages in partition p, or 0.
func (s *Sink) partitionEpoch(ctx context.Context, p int32) (uint64, error) {
	broker, err := s.client.Leader(s.topic, p)
	if err != nil {
		return 0, err
	}
	oldest, err := s.client.GetOffset(s.topic, p, sarama.OffsetOldest)
	if err != nil {
		return 0, err
	}
	end, err := s.lastStableOffset(broker, p)
	if err != nil {
		return 0, err
	}
	for width := int64(tailWindow); end > oldest; width *= tailWidening {
		start := max(oldest, end-width)
		epoch, found, err := s.scan(ctx, broker, p, start, end)
		if err != nil || found {
			return epoch, err
		}
		end = start
	}
	return 0, nil
}

// lastStableOffset asks for the end of the committed part of partition p.
func (s *Sink) lastStableOffset(broker *sarama.Broker, p int32) (int64, error) {
	req := sarama.NewOffsetRequest(s.client.Config().Version)
	req.IsolationLevel = sarama.ReadCommitted
	req.AddBlock(s.topic, p, sarama.OffsetNewest, 1)
	resp, err := broker.GetAvailableOffsets(req)
	if err != nil {
		_ = broker.Close() // reopened by the next request
		return 0, err
	}
	block := resp.GetBlock(s.topic, p)
	switch {
	case block == nil:
		return 0, sarama.ErrIncompleteResponse
	case !errors.Is(block.Err, sarama.ErrNoError):
		return 0, block.Err
	case len(block.Offsets) != 1:
		return 0, sarama.ErrOffsetOutOfRange
	}
	return block.Offsets[0], nil
}

// scan reads the committed messages of partition p from start to end and
// returns the highest epoch among the sink's, and whether there was one.
func (s *Sink) scan(ctx context.Context, broker *sarama.Broker, p int32, start, end int64) (uint64, bool, error) {
	var (
		epoch uint64
		found bool
	)
	offset, size := start, int32(tailFetchSize)
	for offset < end {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		req := &sarama.FetchRequest{MinBytes: 1, MaxBytes: size, Isolation: sarama.ReadCommitted, Version: 5}
		if s.client.Config().Version.IsAtLeast(sarama.V2_7_0_0) {
			req.Version = 12
		}
		if req.Version >= 7 {
			req.SessionID, req.SessionEpoch = 0, -1 // no fetch session
		}
		req.AddBlock(s.topic, p, offset, size, -1)
		resp, err := broker.Fetch(req)
		if err != nil {
			_ = broker.Close()
			return 0, false, err
		}
		block := resp.GetBlock(s.topic, p)
		if block == nil {
			return 0, false, sarama.ErrIncompleteResponse
		}
		if !errors.Is(block.Err, sarama.ErrNoError) {
			return 0, false, block.Err
		}
		next, partial, e, ok := s.readBlock(block, offset)
		if ok {
			epoch, found = max(epoch, e), true
		}
		switch {
		case next > offset:
			offset = next
		case partial && size < 1<<30:
			size *= 2 // a batch larger than the fetch: ask for more
		default:
			// Nothing more below the last stable offset (the rest was
			// compacted away, or the partition was truncated).
			return epoch, found, nil
		}
	}
	return epoch, found, nil
}

// readBlock goes through the record batches of one fetch response, the way
// a read_committed consumer does: control batches and the batches of
// aborted transactions are skipped. It returns the offset after the last
// whole batch, whether a batch was cut short, and the highest epoch of the
// sink's messages, if there was one.
func (s *Sink) readBlock(block *sarama.FetchResponseBlock, offset int64) (next int64, partial bool, epoch uint64, found bool) {
	aborted := append([]*sarama.AbortedTransaction(nil), block.AbortedTransactions...)
	sort.Slice(aborted, func(i, j int) bool { return aborted[i].FirstOffset < aborted[j].FirstOffset })
	abortedPIDs := map[int64]bool{}
	next = offset
	for _, recs := range block.RecordsSet {
		b := recs.RecordBatch
		if b == nil {
			continue // a legacy message set: no headers, no transactions
		}
		if b.PartialTrailingRecord {
			partial = true
			break
		}
		last := b.FirstOffset + int64(b.LastOffsetDelta)
		if last < offset {
			continue
		}
		next = last + 1
		if b.IsTransactional {
			// A transaction aborted from here on: its producer's batches
			// are skipped until its abort marker.
			for len(aborted) > 0 && aborted[0].FirstOffset <= last {
				abortedPIDs[aborted[0].ProducerID] = true
				aborted = aborted[1:]
			}
		}
		if b.Control {
			if isAbortMarker(b) {
				delete(abortedPIDs, b.ProducerID)
			}
			continue
		}
		if b.IsTransactional && abortedPIDs[b.ProducerID] {
			continue
		}
		for _, r := range b.Records {
			if e, ok := s.recordEpoch(r); ok {
				epoch, found = max(epoch, e), true
			}
		}
	}
	if block.Partial {
		partial = true
	}
	return next, partial, epoch, found
}

// isAbortMarker reports whether a control batch ends a transaction by
// aborting it: its record's key is a version (int16) and a type (int16),
// 0 for abort, 1 for commit.
func isAbortMarker(b *sarama.RecordBatch) bool {
	for _, r := range b.Records {
		if len(r.Key) >= 4 && r.Key[2] == 0 && r.Key[3] == 0 {
			return true
		}
	}
	return false
}

// recordEpoch returns the epoch header of a message this sink wrote.
func (s *Sink) recordEpoch(r *sarama.Record) (uint64, bool) {
	var epoch []byte
	mine := false
	for _, h := range r.Headers {
		switch string(h.Key) {
		case headerEpoch:
			epoch = h.Value
		case headerTransactionalID:
			mine = string(h.Value) == s.txnID
		}
	}
	if !mine || epoch == nil {
		return 0, false
	}
	e, err := strconv.ParseUint(string(epoch), 10, 64)
	return e, err == nil
}
