package kafka

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// groupCommitInterval is how often read offsets are committed to the
// consumer group.
const groupCommitInterval = time.Second

// groupCommitter commits a reader's position to a consumer group, as a
// "simple" consumer does (generation -1, no member id, the group never
// joined), so that Kafka's tools show the group's lag. It never reads the
// group's offsets back: Sluice resumes from its own positions. Commits run
// on their own goroutine, once a second, so that a slow or missing group
// coordinator never delays reading; their failures are kept for tests and
// otherwise ignored.
type groupCommitter struct {
	client    sarama.Client
	group     string
	topic     string
	partition int32

	marked atomic.Int64 // the offset to commit next; -1 before the first batch
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	lastErr error
}

func startGroupCommitter(client sarama.Client, group, topic string, partition int32) *groupCommitter {
	g := &groupCommitter{
		client: client, group: group, topic: topic, partition: partition,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	g.marked.Store(-1)
	go g.run()
	return g
}

// mark records that offsets before next have been read.
func (g *groupCommitter) mark(next int64) { g.marked.Store(next) }

func (g *groupCommitter) run() {
	defer close(g.done)
	ticker := time.NewTicker(groupCommitInterval)
	defer ticker.Stop()
	committed := int64(-1)
	flush := func() {
		if off := g.marked.Load(); off >= 0 && off != committed {
			err := g.commit(off)
			if err == nil {
				committed = off
			}
			g.mu.Lock()
			g.lastErr = err
			g.mu.Unlock()
		}
	}
	for {
		select {
		case <-ticker.C:
			flush()
		case <-g.stop:
			flush()
			return
		}
	}
}

func (g *groupCommitter) commit(offset int64) error {
	coord, err := g.client.Coordinator(g.group)
	if err != nil {
		return fmt.Errorf("find the coordinator of group %s: %w", g.group, err)
	}
	req := sarama.NewOffsetCommitRequest(g.client.Config(), g.group)
	req.AddBlockWithLeaderEpoch(g.topic, g.partition, offset, -1, 0, "")
	resp, err := coord.CommitOffset(req)
	if err != nil {
		return fmt.Errorf("commit to group %s: %w", g.group, err)
	}
	if kerr := resp.Errors[g.topic][g.partition]; kerr != sarama.ErrNoError {
		if kerr == sarama.ErrNotCoordinatorForConsumer || kerr == sarama.ErrConsumerCoordinatorNotAvailable {
			_ = g.client.RefreshCoordinator(g.group)
		}
		return fmt.Errorf("commit to group %s: %w", g.group, kerr)
	}
	return nil
}

// close commits the last mark and stops.
func (g *groupCommitter) close() error {
	close(g.stop)
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastErr
}
