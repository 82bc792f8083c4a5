package http

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/connectors"
)

// IngestPath is where the hub expects requests: POST IngestPath + <source>.
const IngestPath = "/ingest/"

// Limits of one response and of one bad record's copy.
const (
	maxReportedErrors = 100
	maxRawBytes       = 1 << 10
)

// retryAfter is the Retry-After of 429 and 503 answers, in seconds.
const retryAfter = "1"

// Ingest receives the requests POSTed to /ingest/<source> and hands their
// rows to the source of that name. It is an http.Handler (sluice serve
// mounts it on its HTTP listener) and the registry of the live http
// sources, which NewSource fills; it has no other state, so tests and
// servers build their own.
type Ingest struct {
	exists func(string) bool

	mu      sync.Mutex
	sources map[string]*Source
}

// IngestOptions configure an Ingest.
type IngestOptions struct {
	// Exists reports whether name is still a source (or table) of connector
	// http in the catalog. The engine drops a source without telling its
	// connector, so without Exists a dropped source keeps its registration
	// (requests for it are answered 503, no view reading it) until a source
	// of the same name replaces it; with it they are answered 404.
	Exists func(name string) bool
}

// NewIngest returns a hub with no sources.
func NewIngest(opts IngestOptions) *Ingest {
	return &Ingest{exists: opts.Exists, sources: map[string]*Source{}}
}

// register makes s the source of its name. The catalog allows one object
// of a name, so a source it replaces was dropped (or its CREATE failed
// after NewSource): it is closed.
func (h *Ingest) register(s *Source) {
	h.mu.Lock()
	old := h.sources[s.name]
	h.sources[s.name] = s
	h.mu.Unlock()
	if old != nil && old != s {
		_ = old.Close()
	}
}

func (h *Ingest) unregister(s *Source) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sources[s.name] == s {
		delete(h.sources, s.name)
	}
}

// lookup finds the source named name, or failing that named like it in
// lower case (an unquoted SQL name is stored in lower case).
func (h *Ingest) lookup(name string) *Source {
	h.mu.Lock()
	s := h.sources[name]
	if s == nil {
		s = h.sources[strings.ToLower(name)]
	}
	h.mu.Unlock()
	if s != nil && h.exists != nil && !h.exists(s.name) {
		return nil
	}
	return s
}

// Response is the JSON body of every answer.
type Response struct {
	// Accepted is how many rows of the request went into the pipeline:
	// all of its good records with a 200, none otherwise.
	Accepted int `json:"accepted"`
	// Rejected is how many records were bad; Errors lists the first
	// 100 of them.
	Rejected int           `json:"rejected,omitempty"`
	Errors   []RecordIssue `json:"errors,omitempty"`
	// Error says why a request was refused as a whole.
	Error string `json:"error,omitempty"`
}

// RecordIssue says why one record of a request was bad.
type RecordIssue struct {
	// Index is the record's place in the request, from 0: in a JSON array,
	// the element; in newline-delimited JSON, the non-blank line.
	Index int `json:"index"`
	// Line is the record's line, from 1, in newline-delimited JSON.
	Line  int    `json:"line,omitempty"`
	Error string `json:"error"`
}

// ServeHTTP handles POST /ingest/<source>. See the package documentation
// for the answers.
func (h *Ingest) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	if r.Method != nethttp.MethodPost {
		w.Header().Set("Allow", nethttp.MethodPost)
		refuse(w, nethttp.StatusMethodNotAllowed, "use POST to send rows to /ingest/<source>, not %s", r.Method)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, IngestPath)
	if !ok || name == "" || strings.Contains(name, "/") {
		refuse(w, nethttp.StatusNotFound, "POST rows to %s<source>, where <source> is a source created WITH (connector = 'http')", IngestPath)
		return
	}
	s := h.lookup(name)
	if s == nil {
		refuse(w, nethttp.StatusNotFound, "there is no source %q WITH (connector = 'http') to ingest into", name)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
		refuse(w, nethttp.StatusUnauthorized, "source %q needs the header Authorization: Bearer <its auth.token>", s.name)
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		refuse(w, nethttp.StatusUnsupportedMediaType, "Content-Encoding %s is not supported: send the body uncompressed", enc)
		return
	}
	if r.ContentLength > s.maxBody {
		refuse(w, nethttp.StatusRequestEntityTooLarge, "the body has %d bytes, more than source %q takes (max.body.bytes = %d)", r.ContentLength, s.name, s.maxBody)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		w.Header().Set("Retry-After", retryAfter)
		refuse(w, nethttp.StatusTooManyRequests, "source %q has %d requests in progress (max.pending.requests): Sluice is behind, retry later", s.name, cap(s.slots))
		return
	}

	var body bytes.Buffer
	if r.ContentLength > 0 {
		body.Grow(int(r.ContentLength) + 1)
	}
	if _, err := body.ReadFrom(nethttp.MaxBytesReader(w, r.Body, s.maxBody)); err != nil {
		if mbe := (*nethttp.MaxBytesError)(nil); errors.As(err, &mbe) {
			refuse(w, nethttp.StatusRequestEntityTooLarge, "the body is longer than source %q takes (max.body.bytes = %d)", s.name, s.maxBody)
			return
		}
		refuse(w, nethttp.StatusBadRequest, "reading the body: %v", err)
		return
	}
	records, err := splitRecords(body.Bytes(), isNDJSON(r.Header.Get("Content-Type")))
	if err != nil {
		refuse(w, nethttp.StatusBadRequest, "%v", err)
		return
	}
	if len(records) == 0 {
		answer(w, nethttp.StatusOK, Response{})
		return
	}
	o, resp, err := s.decode(records, r.RemoteAddr)
	if err != nil {
		refuse(w, nethttp.StatusInternalServerError, "%v", err)
		return
	}
	o.bytes = int64(body.Len())
	err = s.deliver(r.Context(), o)
	if o.rec != nil {
		o.rec.Release()
	}
	switch {
	case errors.Is(err, errDropped):
		refuse(w, nethttp.StatusNotFound, "source %q was dropped", s.name)
	case err != nil:
		w.Header().Set("Retry-After", retryAfter)
		refuse(w, nethttp.StatusServiceUnavailable, "source %q took none of the rows: %v", s.name, err)
	case resp.Accepted == 0:
		resp.Error = "every record of the request is bad"
		answer(w, nethttp.StatusBadRequest, resp)
	default:
		answer(w, nethttp.StatusOK, resp)
	}
}

// authorized checks the bearer token in constant time: both sides are
// hashed first, so that not even the token's length shows.
func (s *Source) authorized(r *nethttp.Request) bool {
	if s.token == nil {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1
}

// decode turns records into an offer of their good rows and errors, and
// the answer to give if it is accepted.
func (s *Source) decode(records []rawRecord, remote string) (*offer, Response, error) {
	dec, err := s.decoder()
	if err != nil {
		return nil, Response{}, err
	}
	defer s.putDecoder(dec)
	o := &offer{}
	var resp Response
	for i, rec := range records {
		err := dec.Append(rec.data)
		if err == nil {
			continue
		}
		where := fmt.Sprintf("record %d of a request from %s", i, remote)
		if rec.line > 0 {
			where = fmt.Sprintf("line %d (record %d) of a request from %s", rec.line, i, remote)
		}
		raw := rec.data
		if len(raw) > maxRawBytes {
			raw = raw[:maxRawBytes]
		}
		o.errs = append(o.errs, connectors.RecordError{Where: where, Err: err, Raw: bytes.Clone(raw)})
		resp.Rejected++
		if len(resp.Errors) < maxReportedErrors {
			resp.Errors = append(resp.Errors, RecordIssue{Index: i, Line: rec.line, Error: err.Error()})
		}
	}
	if resp.Accepted = dec.Len(); resp.Accepted > 0 {
		o.rec = dec.Finish()
	}
	return o, resp, nil
}

func refuse(w nethttp.ResponseWriter, status int, format string, args ...any) {
	answer(w, status, Response{Error: fmt.Sprintf(format, args...)})
}

func answer(w nethttp.ResponseWriter, status int, resp Response) {
	body, err := json.Marshal(resp)
	if err != nil { // cannot happen: strings and ints only
		body = []byte(`{"accepted":0,"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// isNDJSON reports whether a Content-Type says newline-delimited JSON.
func isNDJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl",
		"application/x-jsonlines", "application/jsonlines", "application/x-json-stream":
		return true
	}
	return false
}

// rawRecord is one record of a request body.
type rawRecord struct {
	data []byte
	line int // from 1, in newline-delimited JSON; 0 otherwise
}

// splitRecords frames a body by its first non-space byte: '[' is a JSON
// array whose elements are the records; '{' is one JSON object if that is
// the whole body, and newline-delimited JSON otherwise, one record per
// non-blank line. With ndjson (the Content-Type says so) a body not starting
// with '[' is always read as lines. Only a body that cannot be framed at all
// is an error; a record that is not a good object is the decoder's to
// report.
func splitRecords(body []byte, ndjson bool) ([]rawRecord, error) {
	p := skipSpace(body, 0)
	if p == len(body) {
		return nil, errors.New("the body is empty: send a JSON object, a JSON array of objects, or newline-delimited JSON objects")
	}
	switch {
	case body[p] == '[':
		return splitArray(body, p)
	case ndjson:
		return splitLines(body), nil
	case body[p] == '{':
		if end, err := valueEnd(body, p); err == nil && skipSpace(body, end) == len(body) {
			return []rawRecord{{data: body[p:end]}}, nil
		}
		return splitLines(body), nil
	}
	return nil, fmt.Errorf("the body starts with %q: send a JSON object, a JSON array of objects, or newline-delimited JSON objects", body[p])
}

func splitLines(body []byte) []rawRecord {
	var recs []rawRecord
	for line := 1; len(body) > 0; line++ {
		l := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if skipSpace(l, 0) < len(l) {
			recs = append(recs, rawRecord{data: l, line: line})
		}
	}
	return recs
}

// splitArray returns the elements of the JSON array at body[p].
func splitArray(body []byte, p int) ([]rawRecord, error) {
	var recs []rawRecord
	p = skipSpace(body, p+1)
	if p < len(body) && body[p] == ']' {
		p++
	} else {
		for {
			end, err := valueEnd(body, p)
			if err != nil {
				return nil, fmt.Errorf("element %d of the array: %v", len(recs), err)
			}
			recs = append(recs, rawRecord{data: body[p:end]})
			p = skipSpace(body, end)
			if p == len(body) {
				return nil, errors.New("the JSON array has no closing ']'")
			}
			if body[p] == ']' {
				p++
				break
			}
			if body[p] != ',' {
				return nil, fmt.Errorf("expected ',' or ']' after element %d of the array, found %q at byte %d", len(recs)-1, body[p], p)
			}
			p = skipSpace(body, p+1)
		}
	}
	if p = skipSpace(body, p); p != len(body) {
		return nil, fmt.Errorf("unexpected data after the JSON array at byte %d", p)
	}
	return recs, nil
}

// valueEnd returns the end of the JSON value at body[p], found by matching
// brackets outside strings; the value itself is checked by the decoder.
// A value ends at a space, ',' or closing bracket outside any nesting.
func valueEnd(body []byte, p int) (int, error) {
	depth := 0
	for i := p; i < len(body); i++ {
		switch body[i] {
		case '"':
			end, ok := stringEnd(body, i)
			if !ok {
				return 0, fmt.Errorf("unterminated string at byte %d", i)
			}
			i = end - 1
			if depth == 0 {
				return end, nil
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, nil
			}
			if depth--; depth == 0 {
				return i + 1, nil
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i, nil
			}
		}
	}
	if depth > 0 {
		return 0, errors.New("unbalanced brackets: the body ends inside an object or array")
	}
	return len(body), nil
}

// stringEnd returns the offset after the string starting at body[p] == '"'.
func stringEnd(body []byte, p int) (int, bool) {
	for i := p + 1; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

func skipSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
		p++
	}
	return p
}
