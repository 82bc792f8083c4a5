// Package http is the HTTP connector. Its sink POSTs a view's changes to a
// URL as JSON; a source side (rows received over HTTP) can join it in the
// same Connector.
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
