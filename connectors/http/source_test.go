package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var clickSchema = types.Schema{
	{Name: "user_id", Type: types.Int4},
	{Name: "url", Type: types.Text},
	{Name: "ts", Type: types.Timestamp},
}

// ingestFixture is a hub served by a test server, with one source.
type ingestFixture struct {
	hub *Ingest
	src *Source
	url string // of the source: .../ingest/clicks
}

func newIngest(t *testing.T, with map[string]string) *ingestFixture {
	t.Helper()
	hub := NewIngest(IngestOptions{})
	opts, err := Connector(hub).Validate(with)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(context.Background(), hub, connectors.SourceConfig{
		Name: "clicks", Schema: clickSchema, Options: opts,
		Format: connectors.Format{Format: "PLAIN", Encode: "JSON"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	srv := httptest.NewServer(hub)
	t.Cleanup(srv.Close)
	return &ingestFixture{hub: hub, src: src, url: srv.URL + "/ingest/clicks"}
}

func (f *ingestFixture) open(t *testing.T) connectors.Reader {
	t.Helper()
	r, err := f.src.Open(context.Background(), connectors.Split{ID: splitID}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// answer is what a POST got back.
type reply struct {
	status int
	header nethttp.Header
	body   Response
}

func post(t testing.TB, url, contentType, body string, header ...string) reply {
	t.Helper()
	req, err := nethttp.NewRequest(nethttp.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t testing.TB, req *nethttp.Request) reply {
	t.Helper()
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Error(err) // Error, not Fatal: posts run in goroutines too
		return reply{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rep := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &rep.body); err != nil {
		t.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return rep
}

// postUntilAccepted posts until the answer is not 429 or 503, as a client
// does, and returns that answer.
func postUntilAccepted(t testing.TB, url, contentType, body string) reply {
	t.Helper()
	for {
		rep := post(t, url, contentType, body)
		if rep.status != nethttp.StatusTooManyRequests && rep.status != nethttp.StatusServiceUnavailable {
			return rep
		}
	}
}

// batchText is a batch's rows as text lines, then its errors as "! where: err".
func batchText(b connectors.Batch) []string {
	var out []string
	if b.Record != nil {
		out = rowsText(b.Record)
	}
	for _, e := range b.Errors {
		out = append(out, fmt.Sprintf("! %s: %v", e.Where, e.Err))
	}
	return out
}

func rowsText(rec arrow.Record) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		vals := make([]string, rec.NumCols())
		for j := range vals {
			vals[j] = rec.Column(j).ValueStr(i)
		}
		out = append(out, strings.Join(vals, " "))
	}
	return out
}

// drain calls Next in a loop until the test ends and passes on every batch.
func drain(t *testing.T, r connectors.Reader) <-chan connectors.Batch {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan connectors.Batch, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			b, err := r.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("Next: %v", err)
				}
				return
			}
			out <- b
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

func next(t *testing.T, batches <-chan connectors.Batch) connectors.Batch {
	t.Helper()
	select {
	case b := <-batches:
		if b.Record != nil {
			t.Cleanup(b.Record.Release)
		}
		return b
	case <-time.After(10 * time.Second): // a hang, not a timing assertion
		t.Fatal("Next returned nothing")
		return connectors.Batch{}
	}
}

// waitFor polls cond until it holds; a hang fails the test by its timeout.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

const (
	click1 = `{"user_id": 1, "url": "/a", "ts": "2026-03-01 12:00:00"}`
	click2 = `{"user_id": 2, "url": "/b", "ts": "2026-03-01 12:00:01.5"}`
	click3 = `{"ts": 1772366402000, "url": "/c", "user_id": 3}`
	row1   = "1 /a 2026-03-01T12:00:00"
	row2   = "2 /b 2026-03-01T12:00:01.5"
	row3   = "3 /c 2026-03-01T12:00:02"
)

func TestIngestTakesObjectsArraysAndLines(t *testing.T) {
	f := newIngest(t, nil)
	batches := drain(t, f.open(t))
	for _, c := range []struct {
		name, contentType, body string
		want                    []string
	}{
		{"object", "application/json", click1, []string{row1}},
		{"array", "application/json", "[" + click1 + ",\n " + click2 + "]", []string{row1, row2}},
		{"empty array", "application/json", " [ ] ", nil},
		{"ndjson", "application/x-ndjson", click1 + "\n\n" + click2 + "\r\n" + click3 + "\n", []string{row1, row2, row3}},
		{"ndjson by its first byte", "application/json", click1 + "\n" + click2, []string{row1, row2}},
		{"ndjson without a type", "", click3 + "\n" + click1, []string{row3, row1}},
		{"an object over lines", "application/json", "{\n  \"user_id\": 2,\n  \"url\": \"/b\",\n  \"ts\": \"2026-03-01 12:00:01.5\"\n}\n", []string{row2}},
		{"curl's default type", "application/x-www-form-urlencoded", click1, []string{row1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := post(t, f.url, c.contentType, c.body)
			if rep.status != 200 || rep.body.Accepted != len(c.want) || rep.body.Rejected != 0 {
				t.Fatalf("answer %d %+v, want 200 with %d accepted", rep.status, rep.body, len(c.want))
			}
			if len(c.want) == 0 {
				return // nothing to hand over
			}
			b := next(t, batches)
			if got := batchText(b); !slices.Equal(got, c.want) {
				t.Errorf("Next returned %q, want %q", got, c.want)
			}
			if b.Bytes != int64(len(c.body)) {
				t.Errorf("Bytes = %d, want %d", b.Bytes, len(c.body))
			}
		})
	}
}

func TestIngestPositionCountsRequests(t *testing.T) {
	f := newIngest(t, nil)
	r, err := f.src.Open(context.Background(), connectors.Split{ID: splitID}, "41")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	batches := drain(t, r)
	for want := 42; want <= 43; want++ {
		if rep := post(t, f.url, "", click1); rep.status != 200 {
			t.Fatalf("answer %d %+v", rep.status, rep.body)
		}
		if b := next(t, batches); b.Position != connectors.Position(strconv.Itoa(want)) {
			t.Errorf("Position = %q, want %d", b.Position, want)
		}
	}
}

func TestIngestReportsBadRecordsByIndex(t *testing.T) {
	f := newIngest(t, nil)
	batches := drain(t, f.open(t))

	// The good records are accepted, the bad ones listed.
	rep := post(t, f.url, "application/json", `[`+click1+`, {"user_id": "x"}, 17, {"user_id": 1, "url": "/a", }, `+click2+`]`)
	if rep.status != 200 || rep.body.Accepted != 2 || rep.body.Rejected != 3 {
		t.Fatalf("answer %d %+v, want 200 with 2 accepted and 3 rejected", rep.status, rep.body)
	}
	var idx []int
	for _, e := range rep.body.Errors {
		idx = append(idx, e.Index)
		if e.Error == "" || e.Line != 0 {
			t.Errorf("error %+v", e)
		}
	}
	if !slices.Equal(idx, []int{1, 2, 3}) {
		t.Errorf("errors at %v, want 1, 2, 3: %+v", idx, rep.body.Errors)
	}
	b := next(t, batches)
	got := batchText(b)
	if len(got) != 5 || got[0] != row1 || got[1] != row2 || !strings.HasPrefix(got[2], "! record 1 of a request from 127.0.0.1:") {
		t.Errorf("Next returned %q", got)
	}

	// Newline-delimited JSON also says the line.
	rep = post(t, f.url, "application/x-ndjson", click1+"\n\n{\"user_id\": \n"+click2)
	if rep.status != 200 || rep.body.Accepted != 2 || len(rep.body.Errors) != 1 ||
		rep.body.Errors[0].Index != 1 || rep.body.Errors[0].Line != 3 {
		t.Fatalf("answer %d %+v", rep.status, rep.body)
	}
	if got := batchText(next(t, batches)); len(got) != 3 || !strings.HasPrefix(got[2], "! line 3 (record 1) of a request from ") {
		t.Errorf("Next returned %q", got)
	}

	// Every record bad: 400, and the errors are still counted.
	rep = post(t, f.url, "application/json", `[{"user_id": 1.5}, {"ts": "yesterday"}]`)
	if rep.status != 400 || rep.body.Accepted != 0 || rep.body.Rejected != 2 || len(rep.body.Errors) != 2 || rep.body.Error == "" {
		t.Fatalf("answer %d %+v, want 400 with 2 rejected", rep.status, rep.body)
	}
	b = next(t, batches)
	if b.Record != nil || len(b.Errors) != 2 {
		t.Errorf("Next returned %q", batchText(b))
	}

	// A body that cannot be framed is refused whole and counts nothing.
	for _, body := range []string{`[` + click1 + `, {"url": "/a}]`, `[` + click1, `[1 2]`, `"text"`, `  `, `[` + click1 + `] x`} {
		if rep := post(t, f.url, "application/json", body); rep.status != 400 || rep.body.Error == "" {
			t.Errorf("%s: answer %d %+v, want 400", body, rep.status, rep.body)
		}
	}
	if rep := post(t, f.url, "", click3); rep.status != 200 {
		t.Fatalf("answer %d %+v", rep.status, rep.body)
	}
	if got := batchText(next(t, batches)); !slices.Equal(got, []string{row3}) {
		t.Errorf("after refused bodies Next returned %q, want only the next request's row", got)
	}
}

func TestIngestListsAtMostAHundredErrors(t *testing.T) {
	f := newIngest(t, nil)
	batches := drain(t, f.open(t))
	body := strings.Repeat("{\"user_id\": \"x\"}\n", 150) + click1
	rep := post(t, f.url, "application/x-ndjson", body)
	if rep.status != 200 || rep.body.Accepted != 1 || rep.body.Rejected != 150 || len(rep.body.Errors) != maxReportedErrors {
		t.Fatalf("answer %d: accepted %d, rejected %d, %d errors", rep.status, rep.body.Accepted, rep.body.Rejected, len(rep.body.Errors))
	}
	if b := next(t, batches); len(b.Errors) != 150 {
		t.Errorf("the batch has %d errors, want 150", len(b.Errors))
	}
}

func TestIngestRefusals(t *testing.T) {
	f := newIngest(t, map[string]string{"auth.token": "s3cret", "max.body.bytes": "100"})
	batches := drain(t, f.open(t))
	base := strings.TrimSuffix(f.url, "clicks")
	bearer := []string{"Authorization", "Bearer s3cret"}

	check := func(name string, rep reply, status int) {
		t.Helper()
		if rep.status != status || rep.body.Error == "" || rep.body.Accepted != 0 {
			t.Errorf("%s: answer %d %+v, want %d with an error", name, rep.status, rep.body, status)
		}
	}
	check("unknown source", post(t, base+"views", "", click1, bearer...), 404)
	check("no source", post(t, base, "", click1, bearer...), 404)
	check("nested path", post(t, f.url+"/x", "", click1, bearer...), 404)
	check("no token", post(t, f.url, "", click1), 401)
	check("wrong token", post(t, f.url, "", click1, "Authorization", "Bearer s3cre"), 401)
	check("not bearer", post(t, f.url, "", click1, "Authorization", "Basic czNjcmV0"), 401)
	check("compressed", post(t, f.url, "", click1, "Authorization", "Bearer s3cret", "Content-Encoding", "gzip"), 415)
	check("too long", post(t, f.url, "", "["+click1+","+click2+"]", bearer...), 413)

	// Without a Content-Length the limit is found while reading.
	req, _ := nethttp.NewRequest(nethttp.MethodPost, f.url, io.MultiReader(strings.NewReader("["+click1), strings.NewReader(","+click2+"]")))
	req.Header.Set("Authorization", "Bearer s3cret")
	if req.ContentLength != 0 {
		t.Fatal("the request has a Content-Length")
	}
	check("too long, chunked", do(t, req), 413)

	req, _ = nethttp.NewRequest(nethttp.MethodGet, f.url, nil)
	rep := do(t, req)
	check("GET", rep, 405)
	if rep.header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST: %v", rep.header)
	}

	// The same token in any case of "Bearer", and nothing refused reached the reader.
	if rep := post(t, f.url, "", click1, "Authorization", "bearer s3cret"); rep.status != 200 {
		t.Fatalf("answer %d %+v", rep.status, rep.body)
	}
	if got := batchText(next(t, batches)); !slices.Equal(got, []string{row1}) {
		t.Errorf("Next returned %q", got)
	}
}

func TestIngestWithoutReaderIsRetried(t *testing.T) {
	f := newIngest(t, nil)
	rep := post(t, f.url, "", click1)
	if rep.status != 503 || rep.header.Get("Retry-After") == "" || !strings.Contains(rep.body.Error, "no materialized view") {
		t.Errorf("answer %d %v %+v, want 503 with Retry-After", rep.status, rep.header, rep.body)
	}
}

// A request waits for the reader, but only max.pending.requests of them;
// the next ones are answered 429 at once.
func TestIngestQueueFullIsAnswered429(t *testing.T) {
	f := newIngest(t, map[string]string{"max.pending.requests": "1", "accept.timeout": "1h"})
	r := f.open(t)
	first := make(chan reply)
	go func() { first <- post(t, f.url, "", click1) }()
	waitFor(func() bool { return len(f.src.slots) == 1 })
	for range 3 {
		rep := post(t, f.url, "", click2)
		if rep.status != 429 || rep.header.Get("Retry-After") == "" || rep.body.Error == "" {
			t.Errorf("answer %d %v %+v, want 429 with Retry-After", rep.status, rep.header, rep.body)
		}
	}
	batches := drain(t, r)
	if rep := <-first; rep.status != 200 || rep.body.Accepted != 1 {
		t.Errorf("the waiting request: answer %d %+v, want 200", rep.status, rep.body)
	}
	if got := batchText(next(t, batches)); !slices.Equal(got, []string{row1}) {
		t.Errorf("Next returned %q, want only the waiting request's row", got)
	}
	// The slot is free again.
	if rep := post(t, f.url, "", click3); rep.status != 200 {
		t.Errorf("answer %d %+v", rep.status, rep.body)
	}
	if got := batchText(next(t, batches)); !slices.Equal(got, []string{row3}) {
		t.Errorf("Next returned %q", got)
	}
}

// A request the reader did not take within accept.timeout is answered 503
// and none of its rows is returned later, even by a reader that had taken
// it while another had not.
func TestIngestGivesUpAtomically(t *testing.T) {
	f := newIngest(t, map[string]string{"accept.timeout": "1ms"})
	eager, lazy := f.open(t), f.open(t)
	eagerBatches := drain(t, eager)
	rep := post(t, f.url, "", click1)
	if rep.status != 503 || rep.header.Get("Retry-After") == "" || !strings.Contains(rep.body.Error, "accept.timeout") {
		t.Fatalf("answer %d %v %+v, want 503 with Retry-After", rep.status, rep.header, rep.body)
	}
	lazyBatches := drain(t, lazy)
	if rep := postUntilAccepted(t, f.url, "", click2); rep.status != 200 {
		t.Fatalf("answer %d %+v", rep.status, rep.body)
	}
	for name, batches := range map[string]<-chan connectors.Batch{"eager": eagerBatches, "lazy": lazyBatches} {
		if got := batchText(next(t, batches)); !slices.Equal(got, []string{row2}) {
			t.Errorf("the %s reader returned %q first, want the accepted row only", name, got)
		}
	}
}

// Many clients against two readers with a tiny accept.timeout: some
// requests are taken, some give up, and each reader returns exactly the
// rows of the requests answered 200.
func TestIngestHandoffUnderContention(t *testing.T) {
	f := newIngest(t, map[string]string{"accept.timeout": "1ms", "max.pending.requests": "4"})
	readers := []<-chan connectors.Batch{drain(t, f.open(t)), drain(t, f.open(t))}
	var (
		mu       sync.Mutex
		accepted []string
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				id := g*1000 + i
				rep := post(t, f.url, "", fmt.Sprintf(`{"user_id": %d, "url": "/", "ts": 0}`, id))
				mu.Lock()
				statuses[rep.status]++
				if rep.status == 200 {
					accepted = append(accepted, strconv.Itoa(id))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("answers: %v", statuses)
	if statuses[200]+statuses[429]+statuses[503] != 800 {
		t.Fatalf("answers %v: only 200, 429 and 503 expected", statuses)
	}
	// A last request, accepted after every other answer: each reader
	// returns it after everything committed before.
	if rep := postUntilAccepted(t, f.url, "", `{"user_id": -1}`); rep.status != 200 {
		t.Fatalf("answer %d %+v", rep.status, rep.body)
	}
	slices.Sort(accepted)
	for i, batches := range readers {
		var got []string
		for done := false; !done; {
			for _, line := range batchText(next(t, batches)) {
				id, _, _ := strings.Cut(line, " ")
				if id == "-1" {
					done = true
					continue
				}
				got = append(got, id)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, accepted) {
			t.Errorf("reader %d returned %d rows, %d were answered 200", i, len(got), len(accepted))
		}
	}
}

// Closing a reader answers the requests waiting for it 503; dropping the
// source answers 404.
func TestIngestClosedReaderAndDroppedSource(t *testing.T) {
	f := newIngest(t, map[string]string{"accept.timeout": "1h"})
	r := f.open(t)
	waiting := make(chan reply)
	go func() { waiting <- post(t, f.url, "", click1) }()
	waitFor(func() bool {
		f.src.mu.Lock()
		defer f.src.mu.Unlock()
		return len(r.(*reader).queue) == 1
	})
	r.Close()
	if rep := <-waiting; rep.status != 503 || rep.header.Get("Retry-After") == "" || !strings.Contains(rep.body.Error, "stopped") {
		t.Errorf("answer %d %+v, want 503", rep.status, rep.body)
	}

	r = f.open(t)
	go func() { waiting <- post(t, f.url, "", click1) }()
	waitFor(func() bool {
		f.src.mu.Lock()
		defer f.src.mu.Unlock()
		return len(r.(*reader).queue) == 1
	})
	f.src.Close()
	if rep := <-waiting; rep.status != 404 {
		t.Errorf("answer %d %+v, want 404", rep.status, rep.body)
	}
	if rep := post(t, f.url, "", click1); rep.status != 404 || !strings.Contains(rep.body.Error, `no source "clicks"`) {
		t.Errorf("answer %d %+v, want 404", rep.status, rep.body)
	}
	if _, err := f.src.Open(context.Background(), connectors.Split{ID: splitID}, ""); err == nil {
		t.Error("a dropped source opened a reader")
	}
}

func TestIngestAsksWhetherTheSourceExists(t *testing.T) {
	var (
		mu   sync.Mutex
		live = true
	)
	hub := NewIngest(IngestOptions{Exists: func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		return name == "clicks" && live
	}})
	opts, _ := Connector(hub).Validate(nil)
	cfg := connectors.SourceConfig{Name: "clicks", Schema: clickSchema, Options: opts, Format: connectors.Format{Encode: "JSON"}}
	src, err := NewSource(context.Background(), hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := src.Open(context.Background(), connectors.Split{ID: splitID}, "")
	defer r.Close()
	drain(t, r)
	srv := httptest.NewServer(hub)
	defer srv.Close()
	if rep := post(t, srv.URL+"/ingest/Clicks", "", click1); rep.status != 200 {
		t.Errorf("answer %d %+v, want 200 (an unquoted name is lower case)", rep.status, rep.body)
	}
	mu.Lock()
	live = false
	mu.Unlock()
	if rep := post(t, srv.URL+"/ingest/clicks", "", click1); rep.status != 404 {
		t.Errorf("answer %d %+v for a dropped source, want 404", rep.status, rep.body)
	}

	// A source created again under the name replaces the dropped one.
	mu.Lock()
	live = true
	mu.Unlock()
	again, err := NewSource(context.Background(), hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := src.Open(context.Background(), connectors.Split{ID: splitID}, ""); err == nil {
		t.Error("the replaced source opened a reader")
	}
	if rep := post(t, srv.URL+"/ingest/clicks", "", click1); rep.status != 503 || !strings.Contains(rep.body.Error, "no materialized view") {
		t.Errorf("answer %d %+v, want 503 from the new source, which has no reader", rep.status, rep.body)
	}
}

func TestIngestSourceConfigErrors(t *testing.T) {
	hub := NewIngest(IngestOptions{})
	opts, err := Connector(hub).Validate(nil)
	if err != nil {
		t.Fatal(err)
	}
	json := connectors.Format{Format: "PLAIN", Encode: "JSON"}
	for _, c := range []struct {
		name string
		hub  *Ingest
		with map[string]string
		fmt  connectors.Format
		code string
		msg  string
	}{
		{"no hub", nil, nil, json, pgerror.FeatureNotSupported, "HTTP ingest needs sluice serve's HTTP listener"},
		{"no format", hub, nil, connectors.Format{}, pgerror.FeatureNotSupported, "FORMAT PLAIN ENCODE JSON"},
		{"csv", hub, nil, connectors.Format{Format: "PLAIN", Encode: "CSV"}, pgerror.FeatureNotSupported, "ENCODE JSON only"},
		{"upsert", hub, nil, connectors.Format{Format: "UPSERT", Encode: "JSON"}, pgerror.FeatureNotSupported, "FORMAT PLAIN"},
		{"queue", hub, map[string]string{"max.pending.requests": "0"}, json, pgerror.InvalidParameterValue, "max.pending.requests"},
		{"body", hub, map[string]string{"max.body.bytes": "-1"}, json, pgerror.InvalidParameterValue, "max.body.bytes"},
		{"timeout", hub, map[string]string{"accept.timeout": "0s"}, json, pgerror.InvalidParameterValue, "accept.timeout"},
	} {
		o := opts
		if c.with != nil {
			if o, err = Connector(hub).Validate(c.with); err != nil {
				t.Fatal(err)
			}
		}
		_, err := NewSource(context.Background(), c.hub, connectors.SourceConfig{Name: "s", Schema: clickSchema, Options: o, Format: c.fmt})
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(pe.Message, c.msg) {
			t.Errorf("%s: error %v, want %s mentioning %q", c.name, err, c.code, c.msg)
		}
	}
	if _, err := Connector(hub).Validate(map[string]string{"auth.tokn": "x"}); err == nil {
		t.Error("a misspelt option was accepted")
	}
}
