package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
)

// Headers a dead letter carries besides the original message's own.
const (
	headerSource    = "sluice.source"
	headerTopic     = "sluice.topic"
	headerPartition = "sluice.partition"
	headerOffset    = "sluice.offset"
	headerError     = "sluice.error"
)

// deadLetter is a message that did not decode, and why.
type deadLetter struct {
	msg *sarama.ConsumerMessage
	err error
}

// sendDeadLetters copies the bad messages of the batch being built to the
// dead-letter topic and waits until the brokers have them all, so that a
// batch counts as read only once its dead letters are stored. The producer
// is created on first use: most readers never need one.
func (r *reader) sendDeadLetters(ctx context.Context) error {
	if len(r.dead) == 0 {
		return nil
	}
	defer func() { clear(r.dead); r.dead = r.dead[:0] }()
	if r.dlq == nil {
		p, err := sarama.NewSyncProducerFromClient(r.client)
		if err != nil {
			return fmt.Errorf("dead-letter topic %s: %w", r.src.dlqTopic, err)
		}
		r.dlq = p
	}
	msgs := make([]*sarama.ProducerMessage, len(r.dead))
	for i, d := range r.dead {
		m := d.msg
		headers := make([]sarama.RecordHeader, 0, len(m.Headers)+5)
		for _, h := range m.Headers {
			if h != nil {
				headers = append(headers, *h)
			}
		}
		headers = append(headers,
			sarama.RecordHeader{Key: []byte(headerSource), Value: []byte(r.src.name)},
			sarama.RecordHeader{Key: []byte(headerTopic), Value: []byte(m.Topic)},
			sarama.RecordHeader{Key: []byte(headerPartition), Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
			sarama.RecordHeader{Key: []byte(headerOffset), Value: strconv.AppendInt(nil, m.Offset, 10)},
			sarama.RecordHeader{Key: []byte(headerError), Value: []byte(d.err.Error())},
		)
		pm := &sarama.ProducerMessage{Topic: r.src.dlqTopic, Headers: headers, Timestamp: m.Timestamp}
		if m.Key != nil {
			pm.Key = sarama.ByteEncoder(m.Key)
		}
		if m.Value != nil {
			pm.Value = sarama.ByteEncoder(m.Value)
		}
		msgs[i] = pm
	}
	// SendMessages cannot be cancelled; it is bounded by the producer's
	// timeouts and retries.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.dlq.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			err = perrs[0].Err
		}
		return fmt.Errorf("copy %d bad messages to dead-letter topic %s: %w", len(msgs), r.src.dlqTopic, err)
	}
	return nil
}
