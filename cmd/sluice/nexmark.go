package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicedb/sluice/connectors/nexmark"
)

const nexmarkUsage = `Usage: sluice nexmark produce --bootstrap-server HOST:PORT --events N [flags]

Writes the Nexmark event stream into Kafka as JSON, one topic per event type:
<prefix>person, <prefix>auction and <prefix>bid (1 : 3 : 46), with the same
columns and values as the nexmark source with the same seed. Read them with

  CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR,
    url VARCHAR, date_time TIMESTAMP, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
  WITH (connector = 'kafka', topic = 'nexmark-bid', properties.bootstrap.server = 'HOST:PORT',
    scan.startup.mode = 'earliest') FORMAT PLAIN ENCODE JSON;

Events are written in event-id order; 'sluice playground' runs a broker to try it on.

Flags:
`

// produceConfig is what `sluice nexmark produce` was asked to do.
type produceConfig struct {
	bootstrap   string
	events      int64
	rate        int64 // events per second; 0 is as fast as the broker takes them
	seed        int64
	topicPrefix string
	progress    time.Duration
}

func nexmarkCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "produce" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h") {
			fmt.Fprint(stdout, nexmarkUsage)
			return 0
		}
		fmt.Fprintf(stderr, "sluice nexmark: the only subcommand is produce\n\n%s", nexmarkUsage)
		return 2
	}
	fs := flag.NewFlagSet("sluice nexmark produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := produceConfig{progress: time.Second}
	fs.StringVar(&cfg.bootstrap, "bootstrap-server", "", "Kafka brokers, comma-separated (required)")
	fs.Int64Var(&cfg.events, "events", 0, "events to write, all three types together (required)")
	fs.Int64Var(&cfg.rate, "rate", 0, "events per second; 0 writes as fast as the broker takes them")
	fs.Int64Var(&cfg.seed, "seed", 0, "generator seed; 0 is the reference data")
	fs.StringVar(&cfg.topicPrefix, "topic-prefix", "nexmark-", "prefix of the three topic names")
	fs.Usage = func() {
		fmt.Fprint(stderr, nexmarkUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "sluice nexmark produce: unexpected argument %q\n", fs.Arg(0))
		return 2
	case cfg.bootstrap == "":
		fmt.Fprintf(stderr, "sluice nexmark produce: --bootstrap-server is required (such as 127.0.0.1:9092)\n")
		return 2
	case cfg.events <= 0:
		fmt.Fprintf(stderr, "sluice nexmark produce: --events must be positive\n")
		return 2
	case cfg.rate < 0:
		fmt.Fprintf(stderr, "sluice nexmark produce: --rate must not be negative\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := produceNexmark(ctx, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "sluice nexmark produce: %v\n", err)
		return 1
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "wrote %d events to %sperson, %sauction and %sbid in %.1f s (%.0f events/s)\n",
		cfg.events, cfg.topicPrefix, cfg.topicPrefix, cfg.topicPrefix, secs, float64(cfg.events)/secs)
	return 0
}

// produceBatch is how many events go to the broker in one request.
const produceBatch = 2000

// produceNexmark writes cfg.events events and returns once the broker has
// acknowledged all of them.
func produceNexmark(ctx context.Context, cfg produceConfig, progress io.Writer) error {
	sc := sarama.NewConfig()
	sc.ClientID = "sluice-nexmark"
	sc.Net.DialTimeout = 5 * time.Second
	sc.Metadata.Retry.Max = 2
	sc.Producer.Return.Successes = true
	sc.Producer.RequiredAcks = sarama.WaitForLocal
	sc.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	sc.Producer.MaxMessageBytes = 16 << 20
	brokers := strings.Split(cfg.bootstrap, ",")
	producer, err := sarama.NewSyncProducer(brokers, sc)
	if err != nil {
		return fmt.Errorf("cannot reach Kafka at %s: %w (is the broker running? 'sluice playground' starts one)", cfg.bootstrap, err)
	}
	defer producer.Close()

	stream := nexmark.NewStream(cfg.seed, 0)
	start := time.Now()
	lastReport := start
	msgs := make([]*sarama.ProducerMessage, 0, produceBatch)
	for written := int64(0); written < cfg.events; {
		n := min(cfg.events-written, produceBatch)
		if cfg.rate > 0 {
			// Pace by schedule, not by sleeping a fixed gap, so that time
			// spent writing does not slow the rate down.
			n = min(n, max(cfg.rate/100, 1))
			due := start.Add(time.Duration(float64(written+n) / float64(cfg.rate) * float64(time.Second)))
			if err := sleepUntil(ctx, due); err != nil {
				return fmt.Errorf("stopped after %d events: %w", written, err)
			}
		}
		msgs = msgs[:0]
		for range n {
			table, doc := stream.Next()
			msgs = append(msgs, &sarama.ProducerMessage{
				Topic: cfg.topicPrefix + table,
				Value: sarama.ByteEncoder(append([]byte(nil), doc...)),
			})
		}
		if err := producer.SendMessages(msgs); err != nil {
			return fmt.Errorf("writing events %d to %d: %w", written, written+n-1, err)
		}
		written += n
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped after %d events: %w", written, err)
		}
		if now := time.Now(); cfg.progress > 0 && now.Sub(lastReport) >= cfg.progress {
			lastReport = now
			fmt.Fprintf(progress, "%d of %d events written (%.0f events/s)\n",
				written, cfg.events, float64(written)/now.Sub(start).Seconds())
		}
	}
	return nil
}

// sleepUntil waits for t or for ctx to end.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
