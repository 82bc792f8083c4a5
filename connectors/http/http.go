package http

import (
	"context"

	"github.com/sluicedb/sluice/connectors"
)

// Sink option keys.
const (
	optURL        = "url"
	optHeaders    = "headers"
	optHeader     = "header.*"
	optSecret     = "secret"
	optBatchRows  = "batch.rows"
	optTimeout    = "timeout"
	optRetryMax   = "retry.max"
	optBackoff    = "retry.backoff"
	optDeadLetter = "dead_letter.url"
)

// Source option keys.
const (
	optAuthToken     = "auth.token"
	optMaxBodyBytes  = "max.body.bytes"
	optMaxPending    = "max.pending.requests"
	optAcceptTimeout = "accept.timeout"
)

// Sink types.
const (
	typeAppendOnly = "append-only"
	typeUpsert     = "upsert"
)

// Connector describes the HTTP connector: a source whose rows are POSTed to
// hub (which sluice serve mounts on its HTTP listener at /ingest/), and a
// sink that POSTs a view's changes to a URL. With a nil hub the connector
// still lists its source options, but CREATE SOURCE fails: nothing would
// receive the requests.
func Connector(hub *Ingest) connectors.Connector {
	return connectors.Connector{
		Name:    "http",
		Doc:     "HTTP: rows POSTed to Sluice as JSON (source); changes POSTed to a URL as JSON (sink).",
		Options: sourceOptions(),
		Encodes: []string{"JSON"},
		NewSource: func(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
			return NewSource(ctx, hub, cfg)
		},
		Sink: &connectors.SinkSpec{
			Doc:       "Each epoch's changes POSTed to a URL as JSON arrays of row objects, in batches, signed, retried with backoff, with an idempotency key per batch.",
			Options:   sinkOptions(),
			Encodes:   []string{"JSON"},
			Types:     []string{typeAppendOnly, typeUpsert},
			Guarantee: "at-least-once",
			NewSink: func(ctx context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
				return NewSink(ctx, cfg)
			},
		},
	}
}

func sourceOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optAuthToken, Type: connectors.OptString,
			Doc: "A secret each request must carry in the header Authorization: Bearer followed by the secret, or be answered 401; without it the source takes requests from anyone who can reach the HTTP listener."},
		{Key: optMaxBodyBytes, Type: connectors.OptInt, Default: "10485760",
			Doc: "The largest request body accepted; a larger one is answered 413."},
		{Key: optMaxPending, Type: connectors.OptInt, Default: "64",
			Doc: "How many requests may be in progress at once (being read, decoded or waiting for the pipeline to take their rows); one more is answered 429 with Retry-After."},
		{Key: optAcceptTimeout, Type: connectors.OptDuration, Default: "5s",
			Doc: "How long a request waits for the pipeline to take its rows; after that it is answered 503 with Retry-After and none of its rows is used."},
	}
}

func sinkOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optURL, Type: connectors.OptString, Required: true,
			Doc: "The http:// or https:// URL each batch is POSTed to."},
		{Key: optHeaders, Type: connectors.OptString,
			Doc: "Extra request headers as 'Name: value' pairs separated by commas, e.g. 'Authorization: Bearer xyz, X-Team: ads'; use header.* for a value that holds a comma."},
		{Key: optHeader, Type: connectors.OptString,
			Doc: "An extra request header named *, e.g. header.Authorization = 'Bearer xyz'."},
		{Key: optSecret, Type: connectors.OptString,
			Doc: "A key to sign each body with: the header X-Sluice-Signature is sha256= and the hex HMAC-SHA256 of the body."},
		{Key: optBatchRows, Type: connectors.OptInt, Default: "1000",
			Doc: "The most rows in one POST; an epoch's rows are sent in batches of this many."},
		{Key: optTimeout, Type: connectors.OptDuration, Default: "10s",
			Doc: "How long one request may take, response included, before it counts as failed (and is retried)."},
		{Key: optRetryMax, Type: connectors.OptInt, Default: "5",
			Doc: "How many times a request that failed with a 5xx, 429 or 408 status, a timeout or a connection error is retried before the epoch fails (and is delivered again)."},
		{Key: optBackoff, Type: connectors.OptDuration, Default: "200ms",
			Doc: "The wait before the first retry; it doubles with each retry, up to 30s, with jitter, or is what a Retry-After header asks."},
		{Key: optDeadLetter, Type: connectors.OptString,
			Doc: "A URL to POST a batch to when the sink's URL refuses it permanently (a 4xx status other than 408 and 429), with headers X-Sluice-Status and X-Sluice-Url added; without it such a batch fails the epoch."},
	}
}
