package nexmark

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var update = flag.Bool("update", false, "rewrite testdata/reference_events.golden")

// Java's java.util.Random for a few seeds, from OpenJDK 17: nextInt(),
// nextInt(100), nextInt(64), nextInt(1000000007), nextLong(), nextDouble(),
// nextInt(13), in that order.
func TestJavaRandom(t *testing.T) {
	want := map[int64]string{
		0:               "-1155484576 48 15 302116440 -6688467811848818630 0.5504370051176339 3",
		1:               "-1155869325 88 26 874970313 3831662765844904176 0.3327170559595112 9",
		42:              "-1170105035 63 43 102948884 5694868678511409995 0.27707849007413665 3",
		-7:              "1155869324 97 43 119890471 2701079913633722686 0.31556721159435286 11",
		123456789012345: "-1421006947 4 55 308132645 -2184844392376802456 0.08654980253943012 1",
	}
	for seed, w := range want {
		r := newJavaRandom(seed)
		got := fmt.Sprint(r.nextInt32(), r.nextInt(100), r.nextInt(64), r.nextInt(1000000007), r.nextLong(), r.nextDouble(), r.nextInt(13))
		if got != w {
			t.Errorf("seed %d: got %s, want %s", seed, got, w)
		}
	}
}

// renderEvent prints event id as the reference check prints it: type, then
// the fields in the reference model's order (bids without the URL).
func renderEvent(g *generator, id int64) string {
	var e event
	switch rem := id % proportionTotal; {
	case rem < personProportion:
		g.person(id, &e)
		return fmt.Sprintf("P|%d|%s|%s|%s|%s|%s|%d|%s", e.ints[personID], e.strs[personName], e.strs[personEmail],
			e.strs[personCard], e.strs[personCity], e.strs[personState], e.ints[personTime], e.strs[personExtra])
	case rem < personProportion+auctionProportion:
		g.auction(id, &e)
		return fmt.Sprintf("A|%d|%s|%s|%d|%d|%d|%d|%d|%d|%s", e.ints[auctionID], e.strs[auctionItem], e.strs[auctionDesc],
			e.ints[auctionInitial], e.ints[auctionReserve], e.ints[auctionTime], e.ints[auctionExpires],
			e.ints[auctionSeller], e.ints[auctionCategory], e.strs[auctionExtra])
	default:
		g.bid(id, &e)
		return fmt.Sprintf("B|%d|%d|%d|%s|%d|%s", e.ints[bidAuction], e.ints[bidBidder], e.ints[bidPrice],
			e.strs[bidChannel], e.ints[bidTime], e.strs[bidExtra])
	}
}

// The events are the reference generator's. The golden file and the digest
// were produced by running the reference's generator logic (Beam's
// Person/Auction/BidGenerator with Flink's channel draws) under OpenJDK 17,
// and cross-checked against this package for 20000 events when it was
// written; -update rewrites the golden file from this package.
func TestMatchesReferenceGenerator(t *testing.T) {
	g := newGenerator(defaultBaseTime, defaultEventRate, 0)
	var all strings.Builder
	for id := int64(0); id < 20000; id++ {
		all.WriteString(renderEvent(g, id))
		all.WriteByte('\n')
	}
	lines := strings.SplitAfter(all.String(), "\n")
	first := strings.Join(lines[:54], "")
	const golden = "testdata/reference_events.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(first), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if first != string(want) {
		t.Errorf("the first 54 events differ from %s:\n%s", golden, first)
	}
	sum := sha256.Sum256([]byte(all.String()))
	if got, want := hex.EncodeToString(sum[:]), "ab66d3327f6b8b4f47a7943801111613949a326add4579748537b099f8e6868f"; got != want {
		t.Errorf("digest of the first 20000 events: got %s, want %s", got, want)
	}
}

var bidColumns = types.Schema{
	{Name: "auction", Type: types.Int8}, {Name: "bidder", Type: types.Int8}, {Name: "price", Type: types.Int8},
	{Name: "channel", Type: types.Varchar}, {Name: "url", Type: types.Varchar},
	{Name: "date_time", Type: types.Timestamp}, {Name: "extra", Type: types.Varchar},
}

var personColumns = types.Schema{
	{Name: "id", Type: types.Int8}, {Name: "name", Type: types.Varchar}, {Name: "email_address", Type: types.Varchar},
	{Name: "credit_card", Type: types.Varchar}, {Name: "city", Type: types.Varchar}, {Name: "state", Type: types.Varchar},
	{Name: "date_time", Type: types.Timestamp}, {Name: "extra", Type: types.Varchar},
}

var auctionColumns = types.Schema{
	{Name: "id", Type: types.Int8}, {Name: "item_name", Type: types.Varchar}, {Name: "description", Type: types.Varchar},
	{Name: "initial_bid", Type: types.Int8}, {Name: "reserve", Type: types.Int8}, {Name: "date_time", Type: types.Timestamp},
	{Name: "expires", Type: types.Timestamp}, {Name: "seller", Type: types.Int8}, {Name: "category", Type: types.Int8},
	{Name: "extra", Type: types.Varchar},
}

func newSource(t testing.TB, schema types.Schema, with map[string]string) (*Source, error) {
	t.Helper()
	c := Connector()
	opts, err := c.Validate(with)
	if err != nil {
		return nil, err
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	src, err := c.NewSource(context.Background(), connectors.SourceConfig{Schema: schema, Options: opts, Alloc: alloc})
	if err != nil {
		return nil, err
	}
	return src.(*Source), nil
}

func mustSource(t testing.TB, schema types.Schema, with map[string]string) *Source {
	t.Helper()
	s, err := newSource(t, schema, with)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads split from pos until it ends or has n rows, rendering rows
// as "v1|v2|...".
func readAll(t *testing.T, src *Source, split string, pos connectors.Position, n int) (rows []string, end connectors.Position) {
	return readColumns(t, src, split, pos, n, nil)
}

// readColumns is readAll with the columns marked in unread skipped.
func readColumns(t *testing.T, src *Source, split string, pos connectors.Position, n int, unread []bool) (rows []string, end connectors.Position) {
	t.Helper()
	r, err := src.Open(context.Background(), connectors.Split{ID: split}, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if unread != nil {
		r.(connectors.ColumnSkipper).SkipColumns(unread)
	}
	end = pos
	for len(rows) < n {
		b, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, render(b.Record)...)
		b.Record.Release()
		end = b.Position
	}
	return rows, end
}

func render(rec arrow.Record) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		var cells []string
		for _, col := range rec.Columns() {
			cells = append(cells, col.ValueStr(i))
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema types.Schema
		with   map[string]string
		code   string
		msg    string
	}{
		{"table type is required", bidColumns, map[string]string{}, pgerror.InvalidParameterValue,
			`option "nexmark.table.type" is required for connector nexmark`},
		{"unknown table type", bidColumns, map[string]string{"nexmark.table.type": "Seller"}, pgerror.InvalidParameterValue,
			`invalid value for option "nexmark.table.type": "Seller" is not one of Bid, Auction, Person`},
		{"unknown option lists the known ones", bidColumns, map[string]string{"nexmark.table.type": "bid", "nexmark.event.num": "5"},
			pgerror.InvalidParameterValue,
			`unknown option "nexmark.event.num" for connector nexmark (known options: nexmark.base.time, nexmark.event.rate, ` +
				`nexmark.max.events, nexmark.min.event.gap.in.ns, nexmark.out.of.order.group.size, nexmark.seed, ` +
				`nexmark.split.num, nexmark.table.type)`},
		{"unknown column names the valid ones", types.Schema{{Name: "bid_id", Type: types.Int8}}, map[string]string{"nexmark.table.type": "Bid"},
			pgerror.UndefinedColumn, `nexmark Bid has no column "bid_id" (its columns are auction, bidder, price, channel, url, date_time, extra)`},
		{"wrong type", types.Schema{{Name: "price", Type: types.Float8}}, map[string]string{"nexmark.table.type": "Bid"},
			pgerror.DatatypeMismatch, `nexmark Bid column "price" must be of type bigint, not double precision`},
		{"person has no auction column", types.Schema{{Name: "auction", Type: types.Int8}}, map[string]string{"nexmark.table.type": "PERSON"},
			pgerror.UndefinedColumn, `nexmark Person has no column "auction" (its columns are id, name, email_address, credit_card, city, state, date_time, extra)`},
		{"group size multiple of 953", bidColumns, map[string]string{"nexmark.table.type": "Bid", "nexmark.out.of.order.group.size": "1906"},
			pgerror.InvalidParameterValue, `option "nexmark.out.of.order.group.size" must be positive and not a multiple of 953`},
		{"negative gap", bidColumns, map[string]string{"nexmark.table.type": "Bid", "nexmark.min.event.gap.in.ns": "-1"},
			pgerror.InvalidParameterValue, `option "nexmark.min.event.gap.in.ns" must not be negative`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSource(t, tc.schema, tc.with)
			if err == nil || pgerror.Code(err) != tc.code || err.Error() != tc.msg {
				t.Errorf("got %v (%s)\nwant %s: %s", err, pgerror.Code(err), tc.code, tc.msg)
			}
		})
	}
}

func TestProportionsAndIDs(t *testing.T) {
	const events = 5000 // 100 blocks of 50
	tests := []struct {
		table  string
		schema types.Schema
		count  int
	}{
		{"Person", personColumns, 100},
		{"Auction", auctionColumns, 300},
		{"Bid", bidColumns, 4600},
	}
	for _, tc := range tests {
		t.Run(tc.table, func(t *testing.T) {
			src := mustSource(t, tc.schema, map[string]string{
				"nexmark.table.type": tc.table, "nexmark.event.rate": "0", "nexmark.max.events": fmt.Sprint(events),
			})
			rows, _ := readAll(t, src, "0", "", 1_000_000)
			if len(rows) != tc.count {
				t.Fatalf("%d rows, want %d", len(rows), tc.count)
			}
			if tc.table == "Bid" {
				return
			}
			// Persons and auctions are numbered from 1000 without gaps.
			for i, row := range rows {
				if id := strings.SplitN(row, "|", 2)[0]; id != fmt.Sprint(1000+i) {
					t.Fatalf("row %d has id %s", i, id)
				}
			}
		})
	}
}

// Bids refer to auctions and people that exist or are about to, and every
// value is in its range.
func TestBidInvariants(t *testing.T) {
	g := newGenerator(defaultBaseTime, defaultEventRate, 0)
	var e event
	hotChannels := 0
	for id := int64(4); id < 50_000; id++ {
		if id%proportionTotal < personProportion+auctionProportion {
			continue
		}
		g.bid(id, &e)
		lastAuction := lastAuctionID(id) + firstAuctionID
		if a := e.ints[bidAuction]; a < firstAuctionID || a > lastAuction+auctionIDLead {
			t.Fatalf("bid %d: auction %d, last auction %d", id, a, lastAuction)
		}
		lastPerson := lastPersonID(id) + firstPersonID
		if p := e.ints[bidBidder]; p < firstPersonID || p > lastPerson+personIDLead {
			t.Fatalf("bid %d: bidder %d, last person %d", id, p, lastPerson)
		}
		if p := e.ints[bidPrice]; p < 100 || p > 100_000_000 {
			t.Fatalf("bid %d: price %d", id, p)
		}
		if ts := e.ints[bidTime]; ts != defaultBaseTime+id/10 {
			t.Fatalf("bid %d: date_time %d, want %d", id, ts, defaultBaseTime+id/10)
		}
		if !strings.HasPrefix(string(e.strs[bidURL]), "https://www.nexmark.com/") {
			t.Fatalf("bid %d: url %s", id, e.strs[bidURL])
		}
		if c := string(e.strs[bidChannel]); c == "Google" || c == "Facebook" || c == "Baidu" || c == "Apple" {
			hotChannels++
		} else if n, ok := strings.CutPrefix(c, "channel-"); !ok {
			t.Fatalf("bid %d: channel %s", id, c)
		} else if ch, err := strconv.Atoi(n); err != nil {
			t.Fatalf("bid %d: channel %s", id, c)
		} else if want := appendChannelURL(nil, int32(ch)); string(e.strs[bidURL]) != string(want) {
			// A channel's URL depends on the channel alone.
			t.Fatalf("bid %d: %s has url %s, want %s", id, c, e.strs[bidURL], want)
		}
	}
	if bids := 50_000 / 50 * 46; hotChannels < bids*45/100 || hotChannels > bids*55/100 {
		t.Errorf("%d of %d bids on hot channels, want about half", hotChannels, bids)
	}
	for id := int64(1); id < 5000; id += 50 {
		for k := int64(0); k < auctionProportion; k++ {
			g.auction(id+k, &e)
			if c := e.ints[auctionCategory]; c < 10 || c > 14 {
				t.Fatalf("auction %d: category %d", id+k, c)
			}
			if e.ints[auctionExpires] <= e.ints[auctionTime] || e.ints[auctionReserve] < e.ints[auctionInitial] {
				t.Fatalf("auction %d: %v", id+k, e.ints)
			}
		}
	}
}

func TestColumnsAreSelectedByName(t *testing.T) {
	schema := types.Schema{{Name: "date_time", Type: types.TimestampTZ}, {Name: "Price", Type: types.Int8}, {Name: "auction", Type: types.Int8}}
	src := mustSource(t, schema, map[string]string{"nexmark.table.type": "bid", "nexmark.event.rate": "0", "nexmark.max.events": "50"})
	rows, _ := readAll(t, src, "0", "", 100)
	g := newGenerator(defaultBaseTime, defaultEventRate, 0)
	var e event
	g.bid(4, &e)
	want := fmt.Sprintf("2015-07-15T00:00:00Z|%d|%d", e.ints[bidPrice], e.ints[bidAuction])
	if len(rows) != 46 || rows[0] != want {
		t.Errorf("got %d rows, first %q; want 46, first %q", len(rows), rows[0], want)
	}
}

func TestDeterminismAndResume(t *testing.T) {
	with := map[string]string{"nexmark.table.type": "Bid", "nexmark.event.rate": "0", "nexmark.seed": "7"}
	a, _ := readAll(t, mustSource(t, bidColumns, with), "0", "", 3000)
	b, _ := readAll(t, mustSource(t, bidColumns, with), "0", "", 3000)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("two sources with the same seed differ")
	}
	with["nexmark.seed"] = "8"
	c, _ := readAll(t, mustSource(t, bidColumns, with), "0", "", 3000)
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("another seed gives the same bids")
	}
	with["nexmark.seed"] = "7"
	src := mustSource(t, bidColumns, with)
	first, pos := readAll(t, src, "0", "", 1)
	rest, _ := readAll(t, src, "0", pos, 3000-len(first))
	if got := append(first, rest...); fmt.Sprint(got[:3000]) != fmt.Sprint(a[:3000]) {
		t.Errorf("resuming at %s gives other bids", pos)
	}
}

// The splits of a source share its events: together they produce exactly
// the events of one split.
func TestSplitsPartitionTheEvents(t *testing.T) {
	with := map[string]string{"nexmark.table.type": "Auction", "nexmark.event.rate": "0", "nexmark.max.events": "1000"}
	whole, _ := readAll(t, mustSource(t, auctionColumns, with), "0", "", 1000)
	with["nexmark.split.num"] = "3"
	src := mustSource(t, auctionColumns, with)
	splits, _ := src.Splits(context.Background())
	var union []string
	for _, sp := range splits {
		rows, _ := readAll(t, src, sp.ID, "", 1000)
		if len(rows) != 20 {
			t.Errorf("split %s: %d auctions, want 20", sp.ID, len(rows))
		}
		union = append(union, rows...)
	}
	sort.Strings(union)
	sort.Strings(whole)
	if len(whole) != 60 || fmt.Sprint(union) != fmt.Sprint(whole) {
		t.Errorf("splits produce %d auctions, one split %d, or other ones", len(union), len(whole))
	}
}

func TestOutOfOrderGroups(t *testing.T) {
	schema := types.Schema{{Name: "date_time", Type: types.Timestamp}, {Name: "auction", Type: types.Int8}}
	with := map[string]string{"nexmark.table.type": "Bid", "nexmark.event.rate": "0", "nexmark.max.events": "2000"}
	inOrder, _ := readAll(t, mustSource(t, schema, with), "0", "", 5000)
	with["nexmark.out.of.order.group.size"] = "10"
	shuffled, _ := readAll(t, mustSource(t, schema, with), "0", "", 5000)
	if len(shuffled) != len(inOrder) || len(inOrder) != 1840 {
		t.Fatalf("%d rows out of order, %d in order, want 1840", len(shuffled), len(inOrder))
	}
	backwards := 0
	for i := 1; i < len(shuffled); i++ {
		if shuffled[i] < shuffled[i-1] {
			backwards++
		}
	}
	if backwards == 0 {
		t.Error("no event time goes backwards")
	}
	for g := 0; g+10 <= len(inOrder); g += 10 {
		a := append([]string(nil), inOrder[g:g+10]...)
		b := append([]string(nil), shuffled[g:g+10]...)
		sort.Strings(a)
		sort.Strings(b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("group at %d holds other events", g)
		}
	}
}

// fakeClock drives a reader's pacing: sleeping advances it.
type fakeClock struct {
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) install(r *reader) {
	r.start = c.t
	r.now = func() time.Time { return c.t }
	r.sleep = func(ctx context.Context, d time.Duration) error {
		c.slept = append(c.slept, d)
		c.t = c.t.Add(d)
		return ctx.Err()
	}
}

func TestPacing(t *testing.T) {
	// 100 events per second: one every 10 ms. Bids are ids 4..49 of each
	// block of 50, so after the first bid they come every 10 ms, with a
	// 50 ms gap over the person and auctions of the next block.
	src := mustSource(t, types.Schema{{Name: "auction", Type: types.Int8}}, map[string]string{
		"nexmark.table.type": "Bid", "nexmark.event.rate": "100",
	})
	r, err := src.Open(context.Background(), connectors.Split{ID: "0"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	clock := &fakeClock{t: time.Unix(0, 0)}
	clock.install(r.(*reader))
	var sizes []int64
	for i := 0; i < 47; i++ {
		b, err := r.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, b.Record.NumRows())
		b.Record.Release()
	}
	want := []time.Duration{}
	for i := 0; i < 45; i++ {
		want = append(want, 10*time.Millisecond)
	}
	want = append(want, 50*time.Millisecond)
	if fmt.Sprint(clock.slept) != fmt.Sprint(want) {
		t.Errorf("slept %v\nwant  %v", clock.slept, want)
	}
	for _, n := range sizes {
		if n != 1 {
			t.Fatalf("batch sizes %v, want one bid each", sizes)
		}
	}
	// Read too slowly, the reader catches up with everything that is due.
	clock.t = clock.t.Add(time.Second)
	b, err := r.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	if n := b.Record.NumRows(); n != 92 {
		t.Errorf("after a second: %d bids, want the 92 due", n)
	}
}

func TestMinEventGapReplacesRate(t *testing.T) {
	src := mustSource(t, bidColumns, map[string]string{"nexmark.table.type": "Bid", "nexmark.min.event.gap.in.ns": "0"})
	if src.gapNs != 0 || src.eventRate != 10000 {
		t.Errorf("gap %d, rate %d", src.gapNs, src.eventRate)
	}
	src = mustSource(t, bidColumns, map[string]string{"nexmark.table.type": "Bid", "nexmark.event.rate": "500", "nexmark.min.event.gap.in.ns": "1000"})
	if src.gapNs != 1000 || src.eventRate != 500 {
		t.Errorf("gap %d, rate %d", src.gapNs, src.eventRate)
	}
}

func BenchmarkBidGeneration(b *testing.B) {
	src := mustSource(b, bidColumns, map[string]string{"nexmark.table.type": "Bid", "nexmark.event.rate": "0"})
	r, err := src.Open(context.Background(), connectors.Split{ID: "0"}, "")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	rows := 0
	for rows < b.N {
		batch, err := r.Next(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		rows += int(batch.Record.NumRows())
		batch.Record.Release()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// A reader told which columns no view reads gives NULLs for them and the
// same values as ever for the others, also when the extra column, which it
// then does not generate, is among them.
func TestSkippedColumnsAreNullAndTheRestUnchanged(t *testing.T) {
	with := map[string]string{"nexmark.table.type": "Bid", "nexmark.event.rate": "0", "nexmark.max.events": "3000"}
	want, _ := readAll(t, mustSource(t, bidColumns, with), "0", "", 3000)
	skipped := []bool{false, true, false, true, true, false, true} // bidder, channel, url, extra
	got, _ := readColumns(t, mustSource(t, bidColumns, with), "0", "", 3000, skipped)
	if len(got) != len(want) {
		t.Fatalf("%d rows with columns skipped, %d without", len(got), len(want))
	}
	for i := range want {
		cells := strings.Split(want[i], "|")
		for j, skip := range skipped {
			if skip {
				cells[j] = array.NullValueStr
			}
		}
		if w := strings.Join(cells, "|"); got[i] != w {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], w)
		}
	}
}
