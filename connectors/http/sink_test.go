package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var schema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
	{Name: "ts", Type: types.Timestamp},
}

// t0 is 2026-01-02 03:04:05 in microseconds.
const t0 = int64(1767323045000000)

func record(t testing.TB, ids ...int64) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema.Arrow())
	defer b.Release()
	for _, id := range ids {
		types.Put(b.Field(0), id, types.Int8)
		types.Put(b.Field(1), "n"+strconv.FormatInt(id, 10), types.Text)
		types.Put(b.Field(2), t0+id*1_000_000, types.Timestamp)
	}
	return b.NewRecordBatch()
}

func openSink(t *testing.T, typ string, with map[string]string) (*Sink, error) {
	t.Helper()
	opts, err := Connector(nil).SinkOptions().Validate(with)
	if err != nil {
		return nil, err
	}
	s, err := NewSink(context.Background(), connectors.SinkConfig{
		Name: "out", Schema: schema, Type: typ, Options: opts,
		Format: connectors.Format{Format: "PLAIN", Encode: "JSON"},
	})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func mustSink(t *testing.T, typ string, with map[string]string) *Sink {
	t.Helper()
	s, err := openSink(t, typ, with)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeIDs(t *testing.T, s *Sink, kinds []connectors.RowKind, ids ...int64) {
	t.Helper()
	rec := record(t, ids...)
	defer rec.Release()
	if err := s.Write(context.Background(), connectors.SinkBatch{Record: rec, Kinds: kinds}); err != nil {
		t.Fatal(err)
	}
}

// request is what a receiver got.
type request struct {
	epoch, batch string
	header       nethttp.Header
	body         []byte
}

// receiver records every request and answers by respond (nil: 200).
type receiver struct {
	mu       sync.Mutex
	requests []request
	respond  func(n int, r request, w nethttp.ResponseWriter, req *nethttp.Request) bool
}

func (rc *receiver) ServeHTTP(w nethttp.ResponseWriter, req *nethttp.Request) {
	body, _ := io.ReadAll(req.Body)
	r := request{epoch: req.Header.Get(HeaderEpoch), batch: req.Header.Get(HeaderBatch), header: req.Header.Clone(), body: body}
	rc.mu.Lock()
	n := len(rc.requests)
	rc.requests = append(rc.requests, r)
	rc.mu.Unlock()
	if rc.respond != nil && rc.respond(n, r, w, req) {
		return
	}
	w.WriteHeader(nethttp.StatusOK)
}

func (rc *receiver) all() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

func serve(t *testing.T, rc *receiver) *httptest.Server {
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv
}

type row struct {
	Op   string `json:"op,omitempty"`
	ID   int64  `json:"id"`
	Name string `json:"name"`
	TS   string `json:"ts"`
}

func decode(t *testing.T, body []byte) []row {
	t.Helper()
	var rows []row
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return rows
}

// Against a receiver that fails on purpose — a 500 on every third request,
// one request that times out, one batch refused with a 400 — every row
// arrives exactly once when the receiver deduplicates by (epoch, batch),
// every signature verifies, and the refused batch goes to the dead-letter
// receiver.
func TestSinkRetriesDeduplicatesAndDeadLetters(t *testing.T) {
	const secret = "s3cret"
	var (
		timeout  sync.Once
		timedOut bool // guarded by rc.mu, as failed
		failed   int
	)
	rc := &receiver{}
	rc.respond = func(n int, r request, w nethttp.ResponseWriter, req *nethttp.Request) bool {
		switch {
		case r.epoch == "2" && r.batch == "1": // refused, permanently
			w.WriteHeader(nethttp.StatusBadRequest)
			io.WriteString(w, `{"error":"row 3 is invalid"}`)
			return true
		case n%3 == 2:
			rc.mu.Lock()
			failed++
			rc.mu.Unlock()
			w.WriteHeader(nethttp.StatusInternalServerError)
			return true
		case r.epoch == "3" && r.batch == "0":
			hit := false
			timeout.Do(func() { hit = true })
			if hit {
				rc.mu.Lock()
				timedOut = true
				rc.mu.Unlock()
				<-req.Context().Done() // until the client gives up
				return true
			}
		}
		return false
	}
	srv := serve(t, rc)
	dead := &receiver{}
	deadSrv := serve(t, dead)

	s := mustSink(t, typeAppendOnly, map[string]string{
		"url": srv.URL, "secret": secret, "batch.rows": "2", "timeout": "300ms",
		"retry.max": "10", "retry.backoff": "1ms", "dead_letter.url": deadSrv.URL,
	})
	ctx := context.Background()
	want := map[int64]bool{}
	next := int64(1)
	for epoch := uint64(1); epoch <= 4; epoch++ {
		for b := 0; b < 2; b++ {
			ids := []int64{next, next + 1, next + 2}
			next += 3
			writeIDs(t, s, nil, ids...)
		}
		if err := s.Commit(ctx, epoch); err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
	}

	verify := func(r request) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(r.body)
		if got, want := r.header.Get(HeaderSignature), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
			t.Errorf("epoch %s batch %s: signature %q, want %q", r.epoch, r.batch, got, want)
		}
		if r.header.Get(HeaderSink) != "out" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.header)
		}
	}
	seen := map[string]bool{}
	got := map[int64]int{}
	retried := 0
	for _, r := range rc.all() {
		verify(r)
		key := r.epoch + "/" + r.batch
		if seen[key] {
			retried++
			continue
		}
		if r.epoch == "2" && r.batch == "1" {
			continue // refused
		}
		seen[key] = true
		for _, row := range decode(t, r.body) {
			got[row.ID]++
		}
	}
	// The first request answered 200 could be a retry of one that failed;
	// a batch counts once whatever the number of copies.
	deadRows := map[int64]bool{}
	for _, r := range dead.all() {
		verify(r)
		if r.epoch != "2" || r.batch != "1" || r.header.Get(HeaderStatus) != "400" || r.header.Get(HeaderURL) != srv.URL {
			t.Errorf("dead letter epoch %s batch %s status %s url %s", r.epoch, r.batch, r.header.Get(HeaderStatus), r.header.Get(HeaderURL))
		}
		for _, row := range decode(t, r.body) {
			deadRows[row.ID] = true
		}
	}
	for id := int64(1); id < next; id++ {
		want[id] = true
	}
	for id := range want {
		n := got[id]
		if deadRows[id] {
			n++
		}
		if n != 1 {
			t.Errorf("row %d arrived %d times (dead letter: %v)", id, n, deadRows[id])
		}
	}
	if len(deadRows) != 2 || s.DeadLettered() != 2 {
		t.Errorf("dead-lettered rows %v, counter %d; want the 2 rows of epoch 2 batch 1", deadRows, s.DeadLettered())
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if retried == 0 || failed == 0 || !timedOut {
		t.Errorf("the receiver's failures did not all happen: %d retries, %d 500s, timed out %v", retried, failed, timedOut)
	}
}

func TestSinkBody(t *testing.T) {
	rc := &receiver{}
	srv := serve(t, rc)
	s := mustSink(t, typeUpsert, map[string]string{"url": srv.URL, "batch.rows": "3",
		"headers": "Authorization: Bearer xyz, X-Team: ads", "header.X-Trace": "a,b"})
	writeIDs(t, s, []connectors.RowKind{connectors.RowInsert, connectors.RowDelete}, 1, 2)
	writeIDs(t, s, nil, 3, 4)
	if err := s.Commit(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	reqs := rc.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	want := []string{
		`[{"op":"insert","id":1,"name":"n1","ts":"2026-01-02 03:04:06.000000"},{"op":"delete","id":2,"name":"n2","ts":"2026-01-02 03:04:07.000000"},{"op":"insert","id":3,"name":"n3","ts":"2026-01-02 03:04:08.000000"}]`,
		`[{"op":"insert","id":4,"name":"n4","ts":"2026-01-02 03:04:09.000000"}]`,
	}
	for i, r := range reqs {
		if string(r.body) != want[i] {
			t.Errorf("batch %d:\n%s\nwant\n%s", i, r.body, want[i])
		}
		if r.epoch != "7" || r.batch != strconv.Itoa(i) {
			t.Errorf("request %d: epoch %s batch %s", i, r.epoch, r.batch)
		}
		if r.header.Get("Authorization") != "Bearer xyz" || r.header.Get("X-Team") != "ads" || r.header.Get("X-Trace") != "a,b" {
			t.Errorf("headers %v", r.header)
		}
		if r.header.Get(HeaderSignature) != "" {
			t.Error("a signature without a secret")
		}
	}
	// An append-only sink writes plain row objects and refuses deletes.
	a := mustSink(t, typeAppendOnly, map[string]string{"url": srv.URL})
	rec := record(t, 9)
	defer rec.Release()
	if err := a.Write(context.Background(), connectors.SinkBatch{Record: rec, Kinds: []connectors.RowKind{connectors.RowDelete}}); err == nil {
		t.Error("an append-only sink took a delete")
	}
	// An epoch without rows is not sent.
	if err := a.Commit(context.Background(), 8); err != nil || len(rc.all()) != 2 {
		t.Errorf("empty epoch: %v, %d requests", err, len(rc.all()))
	}
}

func TestSinkRefusedWithoutDeadLetterFailsTheEpoch(t *testing.T) {
	rc := &receiver{respond: func(_ int, _ request, w nethttp.ResponseWriter, _ *nethttp.Request) bool {
		w.WriteHeader(nethttp.StatusUnprocessableEntity)
		io.WriteString(w, "field id:\n must be a string "+strings.Repeat("x", 400))
		return true
	}}
	srv := serve(t, rc)
	s := mustSink(t, typeAppendOnly, map[string]string{"url": srv.URL, "retry.backoff": "1ms"})
	writeIDs(t, s, nil, 1)
	err := s.Commit(context.Background(), 3)
	if err == nil {
		t.Fatal("a refused batch was taken as delivered")
	}
	for _, want := range []string{"epoch 3 batch 0", "HTTP 422 Unprocessable Entity", "field id: must be a string xxx", "..."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(rc.all()) != 1 {
		t.Errorf("a permanent refusal was retried: %d requests", len(rc.all()))
	}
}

func TestSinkGivesUpAfterRetryMax(t *testing.T) {
	rc := &receiver{respond: func(_ int, _ request, w nethttp.ResponseWriter, _ *nethttp.Request) bool {
		w.WriteHeader(nethttp.StatusTooManyRequests)
		return true
	}}
	srv := serve(t, rc)
	s := mustSink(t, typeAppendOnly, map[string]string{"url": srv.URL, "retry.max": "3", "retry.backoff": "1ms"})
	writeIDs(t, s, nil, 1)
	err := s.Commit(context.Background(), 3)
	if err == nil || !strings.Contains(err.Error(), "after 4 attempts") || !strings.Contains(err.Error(), "429") {
		t.Fatalf("error %v", err)
	}
	if n := len(rc.all()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	// An unreachable URL is retried as well, then fails the epoch.
	srv.Close()
	writeIDs(t, s, nil, 2)
	if err := s.Commit(context.Background(), 4); err == nil || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestSinkOptionErrors(t *testing.T) {
	tests := []map[string]string{
		{"url": "ftp://x/"},
		{"url": "localhost:8080"},
		{"url": "http://x/", "headers": "NoColon"},
		{"url": "http://x/", "headers": "X-Sluice-Epoch: 1"},
		{"url": "http://x/", "header.Bad Name": "1"},
		{"url": "http://x/", "batch.rows": "0"},
		{"url": "http://x/", "dead_letter.url": "nope"},
	}
	for _, with := range tests {
		_, err := openSink(t, typeAppendOnly, with)
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != pgerror.InvalidParameterValue {
			t.Errorf("%v: error %v, want SQLSTATE 22023", with, err)
		}
	}
	opts, _ := Connector(nil).SinkOptions().Validate(map[string]string{"url": "http://x/"})
	_, err := NewSink(context.Background(), connectors.SinkConfig{Name: "o", Type: typeUpsert, Options: opts,
		Schema: types.Schema{{Name: "op", Type: types.Text}}, Format: connectors.Format{Format: "PLAIN", Encode: "JSON"}})
	if err == nil {
		t.Error("an upsert sink took a column named op")
	}
}
