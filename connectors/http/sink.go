package http

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/format"
	"github.com/sluicedb/sluice/pgerror"
)

// Request headers the sink sets on every POST.
const (
	HeaderSink      = "X-Sluice-Sink"
	HeaderEpoch     = "X-Sluice-Epoch"
	HeaderBatch     = "X-Sluice-Batch"
	HeaderSignature = "X-Sluice-Signature"
	// On dead letters: the status the sink's URL answered, and that URL.
	HeaderStatus = "X-Sluice-Status"
	HeaderURL    = "X-Sluice-Url"
)

// maxBackoff bounds the wait between retries, and maxRetryAfter what a
// Retry-After header may ask.
const (
	maxBackoff    = 30 * time.Second
	maxRetryAfter = 5 * time.Minute
)

// snippetBytes is how much of a refusing response an error quotes.
const snippetBytes = 256

// Sink POSTs a view's changes as JSON. See the package documentation.
type Sink struct {
	name      string
	url       string
	deadURL   string
	headers   nethttp.Header
	secret    []byte
	batchRows int
	retryMax  int
	backoff   time.Duration
	upsert    bool
	client    *nethttp.Client
	enc       *format.Encoder

	batches [][]byte // the open epoch's bodies, the last one still open
	rows    []int    // rows per batch
	row     []byte

	deadLettered atomic.Int64
}

var (
	_ connectors.Sink         = (*Sink)(nil)
	_ connectors.StableEpochs = (*Sink)(nil)
)

// StableEpochs asks the engine to deliver only checkpointed epochs, so that
// X-Sluice-Epoch and X-Sluice-Batch identify a batch across crashes too: a
// receiver that drops a batch it has already seen gets every row once.
func (s *Sink) StableEpochs() {}

// NewSink checks the configuration. It does not contact the URL: a receiver
// that is down is retried at delivery.
func NewSink(ctx context.Context, cfg connectors.SinkConfig) (*Sink, error) {
	o := cfg.Options
	s := &Sink{name: cfg.Name, headers: nethttp.Header{}}
	switch cfg.Type {
	case "", typeAppendOnly:
	case typeUpsert:
		s.upsert = true
		if cfg.Schema.Index("op") >= 0 {
			return nil, pgerror.New(pgerror.DuplicateColumn,
				"an upsert http sink adds the key \"op\" to each row object, and the sink has a column named op").
				WithHint("Rename the column in the sink's query (AS ...).")
		}
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"connector http supports sink types %s and %s, not %q", typeAppendOnly, typeUpsert, cfg.Type)
	}
	switch f := strings.ToUpper(cfg.Format.Format); {
	case f == "" || f == "PLAIN":
	case f == "UPSERT" && s.upsert:
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "an http sink supports FORMAT PLAIN only, not FORMAT %s", cfg.Format.Format)
	}
	if e := strings.ToUpper(cfg.Format.Encode); e != "" && e != "JSON" {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "an http sink supports ENCODE JSON only, not ENCODE %s", cfg.Format.Encode)
	}
	var err error
	if s.enc, err = format.NewEncoder("JSON", cfg.Format.Options, cfg.Schema, nil); err != nil {
		return nil, err
	}
	if s.url, err = checkURL(optURL, o.String(optURL)); err != nil {
		return nil, err
	}
	if d := o.String(optDeadLetter); d != "" {
		if s.deadURL, err = checkURL(optDeadLetter, d); err != nil {
			return nil, err
		}
	}
	if err := s.parseHeaders(o); err != nil {
		return nil, err
	}
	if v := o.String(optSecret); v != "" {
		s.secret = []byte(v)
	}
	n, err := o.Int(optBatchRows)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1_000_000 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 1000000", optBatchRows)
	}
	s.batchRows = int(n)
	if n, err = o.Int(optRetryMax); err != nil {
		return nil, err
	}
	if n < 0 || n > 1000 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 0 and 1000", optRetryMax)
	}
	s.retryMax = int(n)
	if s.backoff, err = o.Duration(optBackoff); err != nil {
		return nil, err
	}
	timeout, err := o.Duration(optTimeout)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be positive", optTimeout)
	}
	s.client = &nethttp.Client{Timeout: timeout}
	return s, nil
}

func checkURL(key, v string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for option %q: %q is not an http:// or https:// URL", key, v)
	}
	return u.String(), nil
}

// parseHeaders reads headers ('A: x, B: y') and the header.* family.
func (s *Sink) parseHeaders(o connectors.Options) error {
	add := func(name, value string) error {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t\r\n:()<>@,;\\\"/[]?={}") {
			return pgerror.New(pgerror.InvalidParameterValue, "invalid HTTP header name %q", name)
		}
		if strings.HasPrefix(strings.ToLower(name), "x-sluice-") {
			return pgerror.New(pgerror.InvalidParameterValue, "header %q is set by the sink and cannot be given", name)
		}
		if strings.ContainsAny(value, "\r\n") {
			return pgerror.New(pgerror.InvalidParameterValue, "the value of header %q holds a line break", name)
		}
		s.headers.Add(name, strings.TrimSpace(value))
		return nil
	}
	for _, pair := range strings.Split(o.String(optHeaders), ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, ":")
		if !ok {
			return pgerror.New(pgerror.InvalidParameterValue,
				"invalid value for option %q: %q is not 'Name: value'", optHeaders, strings.TrimSpace(pair))
		}
		if err := add(name, value); err != nil {
			return err
		}
	}
	prefix := strings.TrimSuffix(optHeader, "*")
	for k, v := range o {
		if len(k) > len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
			if err := add(k[len(prefix):], v); err != nil {
				return err
			}
		}
	}
	if s.headers.Get("Content-Type") == "" {
		s.headers.Set("Content-Type", "application/json")
	}
	if s.headers.Get("User-Agent") == "" {
		s.headers.Set("User-Agent", "sluice")
	}
	return nil
}

// DeadLettered is the number of rows sent to dead_letter.url.
func (s *Sink) DeadLettered() int64 { return s.deadLettered.Load() }

// Write encodes the batch's rows into the open epoch's bodies; they are
// sent at Commit.
func (s *Sink) Write(ctx context.Context, b connectors.SinkBatch) error {
	rec := b.Record
	if rec == nil || rec.NumRows() == 0 {
		return nil
	}
	n := int(rec.NumRows())
	if b.Kinds != nil && len(b.Kinds) != n {
		return fmt.Errorf("http sink: %d kinds for %d rows", len(b.Kinds), n)
	}
	s.enc.Bind(rec)
	for i := 0; i < n; i++ {
		del := b.Kinds != nil && b.Kinds[i] == connectors.RowDelete
		if del && !s.upsert {
			return fmt.Errorf("http sink: an append-only sink received a delete (row %d)", i)
		}
		last := len(s.batches) - 1
		if last < 0 || s.rows[last] == s.batchRows {
			s.batches = append(s.batches, []byte{'['})
			s.rows = append(s.rows, 0)
			last++
		} else {
			s.batches[last] = append(s.batches[last], ',')
		}
		buf := s.batches[last]
		if s.upsert {
			if del {
				buf = append(buf, `{"op":"delete"`...)
			} else {
				buf = append(buf, `{"op":"insert"`...)
			}
			s.row = s.enc.AppendRow(s.row[:0], i)
			if len(s.row) > 2 { // not {}
				buf = append(buf, ',')
				buf = append(buf, s.row[1:]...)
			} else {
				buf = append(buf, '}')
			}
		} else {
			buf = s.enc.AppendRow(buf, i)
		}
		s.batches[last] = buf
		s.rows[last]++
	}
	return nil
}

// Commit POSTs the epoch's batches in order and returns once every one is
// accepted (or dead-lettered).
func (s *Sink) Commit(ctx context.Context, epoch uint64) error {
	batches, rows := s.batches, s.rows
	s.batches, s.rows = nil, nil
	for i, body := range batches {
		body = append(body, ']')
		if err := s.deliver(ctx, epoch, i, body, rows[i]); err != nil {
			return fmt.Errorf("http sink: epoch %d batch %d: %w", epoch, i, err)
		}
	}
	return nil
}

// deliver sends one batch, to the dead-letter URL when the sink's URL
// refuses it for good.
func (s *Sink) deliver(ctx context.Context, epoch uint64, batch int, body []byte, rows int) error {
	h := s.headers.Clone()
	h.Set(HeaderSink, s.name)
	h.Set(HeaderEpoch, strconv.FormatUint(epoch, 10))
	h.Set(HeaderBatch, strconv.Itoa(batch))
	if s.secret != nil {
		mac := hmac.New(sha256.New, s.secret)
		mac.Write(body)
		h.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	err := s.send(ctx, s.url, h, body)
	var refused *refusedError
	if !errors.As(err, &refused) || s.deadURL == "" {
		return err
	}
	h.Set(HeaderStatus, strconv.Itoa(refused.status))
	h.Set(HeaderURL, s.url)
	if err := s.send(ctx, s.deadURL, h, body); err != nil {
		return fmt.Errorf("%v; and the dead-letter URL: %w", refused, err)
	}
	s.deadLettered.Add(int64(rows))
	return nil
}

// refusedError is a response that retrying cannot change.
type refusedError struct {
	url     string
	status  int
	snippet string
}

func (e *refusedError) Error() string {
	msg := fmt.Sprintf("POST %s: HTTP %d %s", e.url, e.status, nethttp.StatusText(e.status))
	if e.snippet != "" {
		msg += ": " + e.snippet
	}
	return msg
}

// send POSTs body to u, retrying what may pass on a later attempt.
func (s *Sink) send(ctx context.Context, u string, h nethttp.Header, body []byte) error {
	for attempt := 0; ; attempt++ {
		status, snippet, retryAfter, err := s.post(ctx, u, h, body)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err == nil && status >= 200 && status < 300:
			return nil
		case err == nil && !retryable(status):
			return &refusedError{url: u, status: status, snippet: snippet}
		}
		if err == nil {
			err = &refusedError{url: u, status: status, snippet: snippet}
		}
		if attempt >= s.retryMax {
			return fmt.Errorf("giving up after %d attempts: %w", attempt+1, err)
		}
		wait := s.backoff << min(attempt, 20)
		if wait <= 0 || wait > maxBackoff {
			wait = maxBackoff
		}
		wait = wait/2 + rand.N(wait/2+1) // jitter
		wait = max(wait, min(retryAfter, maxRetryAfter))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// retryable reports whether a status may be answered differently later.
func retryable(status int) bool {
	return status >= 500 || status == nethttp.StatusTooManyRequests || status == nethttp.StatusRequestTimeout
}

// post makes one request and returns the status, the start of the
// response body and its Retry-After.
func (s *Sink) post(ctx context.Context, u string, h nethttp.Header, body []byte) (int, string, time.Duration, error) {
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header = h.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, snippetBytes))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	var retryAfter time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		retryAfter = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, printable(head), retryAfter, nil
}

// printable makes the start of a response fit for an error message.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(b) == snippetBytes {
		s += "..."
	}
	return strings.Join(strings.Fields(s), " ")
}

// Close drops the open epoch and the idle connections.
func (s *Sink) Close() error {
	s.batches, s.rows = nil, nil
	s.client.CloseIdleConnections()
	return nil
}
