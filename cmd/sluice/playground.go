package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/pgwire"
)

// playgroundSetup fills the playground's broker: Sluice itself generates
// Nexmark bids and writes them to the topic `bids` as JSON, so that a
// newcomer has a live Kafka topic to read.
const playgroundSetup = `
CREATE SOURCE playground_bid_generator (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP)
WITH (connector = 'nexmark', nexmark.table.type = 'Bid', nexmark.event.rate = '%d');
CREATE SINK playground_bids FROM playground_bid_generator
WITH (connector = 'kafka', topic = 'bids', properties.bootstrap.server = '%s', type = 'append-only')
FORMAT PLAIN ENCODE JSON;`

const playgroundUsage = `Usage: sluice playground [flags]

Runs Sluice together with an in-process, Kafka-compatible broker, and keeps a
topic "bids" filled with Nexmark auction bids as JSON, so that a Kafka
pipeline can be tried with nothing installed. Everything lives in memory and
is gone when the playground stops.

Then, in psql -h 127.0.0.1 -p 7432 -U sluice -d sluice:

  CREATE SOURCE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP,
    WATERMARK FOR date_time AS date_time - INTERVAL '5' SECOND)
  WITH (connector = 'kafka', topic = 'bids', properties.bootstrap.server = '127.0.0.1:9092')
  FORMAT PLAIN ENCODE JSON;

Flags:
`

func playground(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice playground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	var kafkaListen string
	var rate int
	fs.StringVar(&cfg.pgListen, "pg-listen", "127.0.0.1:7432", "address for PostgreSQL clients")
	fs.StringVar(&kafkaListen, "kafka-listen", "127.0.0.1:9092", "address of the in-process Kafka-compatible broker")
	fs.IntVar(&rate, "bids-per-second", 1000, "Nexmark events per second written to the topic bids (46 of 50 are bids)")
	fs.DurationVar(&cfg.barrierInterval, "barrier-interval", 10*time.Millisecond, "how often an epoch closes: the freshness of reads")
	fs.StringVar(&cfg.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(stderr, playgroundUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	logger, err := newLogger(cfg.logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sluice playground: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runPlayground(ctx, cfg, kafkaListen, rate, logger, stdout); err != nil {
		logger.Error("sluice playground stopped", "err", err)
		fmt.Fprintf(stderr, "sluice playground: %v\n", err)
		return 1
	}
	return 0
}

func runPlayground(ctx context.Context, cfg serveConfig, kafkaListen string, rate int, logger *slog.Logger, stdout io.Writer) error {
	stopBroker, err := kafka.StartBroker(ctx, kafkaListen, 4, "bids")
	if err != nil {
		return fmt.Errorf("%w (is Kafka already running there? choose another address with --kafka-listen)", err)
	}
	defer stopBroker()
	pgLn, err := net.Listen("tcp", cfg.pgListen)
	if err != nil {
		return fmt.Errorf("listen for PostgreSQL clients on %s: %w (choose another address with --pg-listen)", cfg.pgListen, err)
	}
	eng, err := engine.Open(ctx, engine.Options{Connectors: all.Registry(), BarrierInterval: cfg.barrierInterval, Logger: logger, Version: version})
	if err != nil {
		pgLn.Close()
		return err
	}
	defer eng.Close()
	setup := eng.NewSession(pgwire.ClientInfo{User: "playground", Database: "sluice"})
	r, err := setup.Exec(ctx, fmt.Sprintf(playgroundSetup, rate, kafkaListen))
	if err != nil {
		pgLn.Close()
		return fmt.Errorf("fill the topic bids: %w", err)
	}
	r.Close()
	fmt.Fprintf(stdout, `Sluice %s playground is ready.
  Kafka:      %s (topic "bids" receives Nexmark bids as JSON)
  PostgreSQL: psql -h %s -p %s -U sluice -d sluice
Everything is in memory. Press Ctrl-C to stop.
`, version, kafkaListen, host(pgLn.Addr()), port(pgLn.Addr()))
	return pgwire.NewServer(eng, pgwire.Options{Logger: logger}).Serve(ctx, pgLn)
}
