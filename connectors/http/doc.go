// Package http is the HTTP connector: a source of rows POSTed to Sluice, and
// a sink that POSTs a view's changes to a URL.
//
// # Source: HTTP ingest
//
//	CREATE SOURCE clicks (user_id INT, url TEXT, ts TIMESTAMP,
//	    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
//	WITH (connector = 'http', auth.token = 's3cret') FORMAT PLAIN ENCODE JSON;
//
//	curl -H 'Authorization: Bearer s3cret' -d '{"user_id": 1, "url": "/", "ts": "2026-03-01 12:00:00"}' \
//	    http://127.0.0.1:7480/ingest/clicks
//
// Rows arrive as POST /ingest/<source> on sluice serve's HTTP listener,
// where an Ingest hub routes each request to the Source of that name; the
// hub is built by the server and given to Connector, and NewSource
// registers each source with it (there is no package state). A body is one
// JSON object, a JSON array of objects, or newline-delimited JSON objects,
// told apart by its first non-space byte ('[' is an array; '{' is one
// object if the object is the whole body, one object per line otherwise) or
// by a Content-Type of application/x-ndjson, which always means lines. The
// records are decoded by connectors/format's JSON decoder in the request's
// goroutine, straight into one Arrow record.
//
// A record that is not an object of the source's columns is bad. The
// request's good records are accepted all the same, and the answer is 200
// with {"accepted": n, "rejected": k, "errors": [{"index": i, "line": l,
// "error": "..."}, ...]} (the first 100 bad records; line only for
// newline-delimited JSON); when every record is bad the answer is 400 with
// the same body. Bad records are counted in SHOW SOURCES error_rows and
// listed by SHOW SOURCE ERRORS, once the request is answered 200 or 400; a
// request answered otherwise counts nothing. Other answers: 404 for a name
// that is not an http source (or was dropped), 405 for a method other than
// POST, 401 without 'Authorization: Bearer <auth.token>' when the source
// has one (compared in constant time), 413 for a body over max.body.bytes,
// 415 for a compressed body, 400 for a body that is not JSON at all.
//
// # Handoff: a row is either answered 200 or used nowhere
//
// Each request's rows become an offer, handed to every reader of the
// source (a reader per materialized view or table reading it; all read the
// same stream). Offers wait in the readers' queues in the same order. A
// reader's Next takes the first offer of its queue; the last reader to
// take it commits it, and only a committed offer is returned by any Next.
// The request waits for the commit: then it is answered 200, the rows having
// been handed to the engine, which takes them into its dataflows (Next's
// caller does not call Next again until the dataflow has room: backpressure
// reaches the queue). If instead the request gives up first, after
// accept.timeout or because the client went away, or a reader it waits for
// is closed, the offer is aborted under the same lock that commits: it
// leaves every queue, readers that took it drop it, and the request is
// answered 503 with Retry-After. A request that finds max.pending.requests
// requests of its source in progress is answered 429 with Retry-After before
// its body is read; a request for a source that no view reads yet is
// answered 503 with Retry-After, since its rows would go nowhere. A client that sends a 429
// or 503 request again, and counts what was answered 200, has in every view
// each row it counted once and no other row; only a client that got no
// answer at all (its connection cut after the commit) cannot tell, and may
// double rows by sending them again.
//
// # Guarantee
//
// A 200 means "accepted into the pipeline", not "durable". The source has
// one split and its Position is the number of requests a reader has
// delivered; nothing keeps the rows themselves, so a restart cannot replay
// them: rows accepted after the last checkpoint are lost on a crash (or a
// stop), and the views resume from the checkpoint without them. Delivery is
// at-most-once across crashes. A table fed by the source (CREATE TABLE ...
// WITH (connector = 'http')) writes each batch to its log right after Next
// returns it, so there the window of loss is that one write.
//
// The engine drops a source without telling its connector; the hub's
// IngestOptions.Exists asks the catalog, so that requests for a dropped
// source get 404. A source created again under the same name replaces the
// old registration.
//
// # Sink
//
//	CREATE SINK alerts_out FROM alerts WITH (connector = 'http',
//	    url = 'https://hooks.example.com/sluice', secret = 's3cret',
//	    header.Authorization = 'Bearer xyz', batch.rows = '500')
//	FORMAT PLAIN ENCODE JSON;
//
// The body of each POST is a JSON array of row objects, encoded by
// connectors/format's JSON encoder (the column names are the keys). An
// upsert sink adds "op": "insert" or "op": "delete" as the first key of each
// object (a delete carries the row as it was); an append-only sink adds
// nothing. Write only encodes: an epoch's rows are POSTed at Commit, when
// the epoch is known, in batches of up to batch.rows rows, one request at a
// time, in order. Each request carries X-Sluice-Sink (the sink's name),
// X-Sluice-Epoch and X-Sluice-Batch (0, 1, ... within the epoch), and with a
// secret X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the body>.
//
// A request that fails with a 5xx, 429 or 408 status, a timeout or a
// connection error is retried up to retry.max times, waiting retry.backoff,
// then twice as long each time (up to 30s, or longer when a Retry-After
// header asks), with jitter. Any other status that is not 2xx is permanent:
// with dead_letter.url the batch is POSTed there (same body and headers,
// plus X-Sluice-Status and X-Sluice-Url) and counted, otherwise the epoch
// fails with the status and the start of the response. A failed epoch is
// delivered again by the engine, so batches that had arrived arrive again
// with the same epoch and batch numbers: delivery is at-least-once, and
// (X-Sluice-Sink, X-Sluice-Epoch, X-Sluice-Batch) is the idempotency key a
// receiver deduplicates by. Batch boundaries are the same in a replay as
// long as batch.rows is unchanged.
package http
