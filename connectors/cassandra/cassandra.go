package cassandra

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
)

// Option keys, spelled as RisingWave spells them, so that statements move
// between the two unchanged.
const (
	optURL            = "cassandra.url"
	optKeyspace       = "cassandra.keyspace"
	optTable          = "cassandra.table"
	optDatacenter     = "cassandra.datacenter"
	optMaxBatchRows   = "cassandra.max_batch_rows"
	optRequestTimeout = "cassandra.request_timeout_ms"
	optUsername       = "cassandra.username"
	optPassword       = "cassandra.password"
)

// Sink types.
const (
	typeAppendOnly = "append-only"
	typeUpsert     = "upsert"
)

// defaultPort is Cassandra's native protocol port.
const defaultPort = 9042

// maxBatchStatements is the most statements the native protocol allows in
// one BATCH.
const maxBatchStatements = 65535

// Connector describes the Cassandra sink.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "cassandra",
		Doc:  "A Cassandra (or ScyllaDB) table, written by a sink.",
		Sink: &connectors.SinkSpec{
			Doc:     "Each change written to a Cassandra table by its primary key, as prepared INSERT and DELETE statements in UNLOGGED batches of one partition each.",
			Options: sinkOptions(),
			Types:   []string{typeAppendOnly, typeUpsert},
			// Writes by primary key converge when an epoch is written
			// again; the epoch recorded after them is not atomic with
			// them (see the package documentation).
			Guarantee: "idempotent",
			NewSink: func(ctx context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
				return NewSink(ctx, cfg)
			},
		},
	}
}

func sinkOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optURL, Type: connectors.OptString, Required: true,
			Doc: "The nodes to connect to first, as host:port (port 9042 when omitted), comma-separated; the rest of the cluster is discovered from them, on the first one's port."},
		{Key: optKeyspace, Type: connectors.OptString, Required: true,
			Doc: "The keyspace of the table; the progress table sluice_sink_progress is kept there too."},
		{Key: optTable, Type: connectors.OptString, Required: true,
			Doc: "The table to write to. It must exist; its columns are matched to the sink's by name, and its primary key must be among them (for an upsert sink: be primary_key)."},
		{Key: optDatacenter, Type: connectors.OptString,
			Doc: "The local data center: requests go to its nodes, token-aware, and to others only when none answers; consistency is LOCAL_QUORUM. Without it every data center's nodes are used."},
		{Key: optMaxBatchRows, Type: connectors.OptInt, Default: "512",
			Doc: "The most statements in one UNLOGGED BATCH; a batch holds changes of one partition only, so an epoch takes at least one batch per partition it changes."},
		{Key: optRequestTimeout, Type: connectors.OptInt, Default: "2000",
			Doc: "How long, in milliseconds, one request (a batch, a statement, connecting) may take before it counts as failed; a timed-out write is retried with backoff."},
		{Key: optUsername, Type: connectors.OptString,
			Doc: "The user name, for clusters with PasswordAuthenticator."},
		{Key: optPassword, Type: connectors.OptString,
			Doc: "The user's password."},
	}
}

// contactPoints parses cassandra.url into host:port pairs and the port the
// other nodes are reached on (the first contact point's).
func contactPoints(v string) (hosts []string, port int, err error) {
	bad := func(what string) error {
		return pgerror.New(pgerror.InvalidParameterValue,
			"invalid value for option %q: %s", optURL, what).
			WithHint("Give the contact points as host:port, comma-separated, such as 'cass1:9042,cass2:9042'.")
	}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "://") {
			return nil, 0, bad(strconv.Quote(part) + " is a URL, not host:port")
		}
		host, p := part, defaultPort
		if h, ps, splitErr := net.SplitHostPort(part); splitErr == nil {
			n, convErr := strconv.Atoi(ps)
			if convErr != nil || n < 1 || n > 65535 {
				return nil, 0, bad(strconv.Quote(part) + " has no valid port")
			}
			host, p = h, n
		} else if strings.Count(part, ":") == 1 {
			return nil, 0, bad(strconv.Quote(part) + " is not host:port")
		}
		if host == "" {
			return nil, 0, bad(strconv.Quote(part) + " has no host")
		}
		if len(hosts) == 0 {
			port = p
		}
		hosts = append(hosts, net.JoinHostPort(host, strconv.Itoa(p)))
	}
	if len(hosts) == 0 {
		return nil, 0, bad("no contact point")
	}
	return hosts, port, nil
}
