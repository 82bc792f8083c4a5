package nexmark

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Option keys.
const (
	optTable     = "nexmark.table.type"
	optRate      = "nexmark.event.rate"
	optMaxEvents = "nexmark.max.events"
	optSplits    = "nexmark.split.num"
	optMinGap    = "nexmark.min.event.gap.in.ns"
	optSeed      = "nexmark.seed"
	optOutOfOrd  = "nexmark.out.of.order.group.size"
	optBaseTime  = "nexmark.base.time"
)

// maxBatchRows bounds the rows of one batch.
const maxBatchRows = 1024

// Connector describes the nexmark source.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "nexmark",
		Doc:  "The Nexmark benchmark's Person, Auction and Bid events, generated deterministically.",
		Options: []connectors.Option{
			{Key: optTable, Type: connectors.OptEnum, Required: true, Values: []string{"Bid", "Auction", "Person"},
				Doc: "Which events the source produces (in any case)."},
			{Key: optRate, Type: connectors.OptInt, Default: "10000",
				Doc: "Events per second, of all three types together and across splits (a Bid source produces 46 of every 50); it also spaces the events' date_time. 0 or less: as fast as they are read, spaced as at 10000 per second."},
			{Key: optMaxEvents, Type: connectors.OptInt, Default: "0",
				Doc: "Total events (of all types) after which the source ends; 0 never ends."},
			{Key: optSplits, Type: connectors.OptInt, Default: "1",
				Doc: "Number of splits; split i of n produces every n-th event of the type, starting with the i-th."},
			{Key: optMinGap, Type: connectors.OptInt,
				Doc: "RisingWave's pacing option: the wall-clock gap between two events, in nanoseconds, across splits (100000 is 10000 events per second; 0 is unpaced). It replaces the pacing of nexmark.event.rate but not its spacing of date_time."},
			{Key: optSeed, Type: connectors.OptInt, Default: "0",
				Doc: "Mixed into every event's random draws; 0 gives the reference generator's events."},
			{Key: optOutOfOrd, Type: connectors.OptInt, Default: "1",
				Doc: "Events of a split are emitted in a pseudo-random order within groups of this many (1: in order), so that date_time goes back within a group."},
			{Key: optBaseTime, Type: connectors.OptInt, Default: strconv.Itoa(defaultBaseTime),
				Doc: "The date_time of event 0, in milliseconds since 1970 (default 2015-07-15 00:00:00)."},
		},
		NewSource: NewSource,
	}
}

// fieldKind is how a field is stored.
type fieldKind uint8

const (
	kindInt fieldKind = iota
	kindString
	kindTime
)

type fieldSpec struct {
	name string
	kind fieldKind
}

// fields lists each table's columns, in RisingWave's names, at their
// positions in event.
var fields = [...][]fieldSpec{
	tablePerson: {
		personID: {"id", kindInt}, personName: {"name", kindString}, personEmail: {"email_address", kindString},
		personCard: {"credit_card", kindString}, personCity: {"city", kindString}, personState: {"state", kindString},
		personTime: {"date_time", kindTime}, personExtra: {"extra", kindString},
	},
	tableAuction: {
		auctionID: {"id", kindInt}, auctionItem: {"item_name", kindString}, auctionDesc: {"description", kindString},
		auctionInitial: {"initial_bid", kindInt}, auctionReserve: {"reserve", kindInt}, auctionTime: {"date_time", kindTime},
		auctionExpires: {"expires", kindTime}, auctionSeller: {"seller", kindInt}, auctionCategory: {"category", kindInt},
		auctionExtra: {"extra", kindString},
	},
	tableBid: {
		bidAuction: {"auction", kindInt}, bidBidder: {"bidder", kindInt}, bidPrice: {"price", kindInt},
		bidChannel: {"channel", kindString}, bidURL: {"url", kindString}, bidTime: {"date_time", kindTime},
		bidExtra: {"extra", kindString},
	},
}

// Source is a nexmark source.
type Source struct {
	table      tableType
	schema     types.Schema
	cols       []int // the event field of each column
	alloc      memory.Allocator
	eventRate  int64 // events per second of event time
	gapNs      int64 // wall-clock nanoseconds per event; 0 is unpaced
	maxEvents  int64 // 0: unbounded
	splits     int64
	seed       int64
	groupSize  int64
	baseTimeMs int64
}

var _ connectors.Source = (*Source)(nil)

// NewSource binds the declared columns to the table's fields and checks the
// options.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
	s := &Source{schema: cfg.Schema, alloc: cfg.Alloc}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	switch strings.ToLower(cfg.Options.String(optTable)) {
	case "person":
		s.table = tablePerson
	case "auction":
		s.table = tableAuction
	case "bid":
		s.table = tableBid
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be Bid, Auction or Person", optTable)
	}
	for _, o := range []struct {
		key string
		dst *int64
	}{
		{optMaxEvents, &s.maxEvents}, {optSplits, &s.splits}, {optSeed, &s.seed},
		{optOutOfOrd, &s.groupSize}, {optBaseTime, &s.baseTimeMs},
	} {
		v, err := cfg.Options.Int(o.key)
		if err != nil {
			return nil, err
		}
		*o.dst = v
	}
	rate, err := cfg.Options.Int(optRate)
	if err != nil {
		return nil, err
	}
	s.eventRate = rate
	if rate <= 0 {
		s.eventRate = defaultEventRate
	} else {
		s.gapNs = max(int64(time.Second)/rate, 1)
	}
	if _, set := cfg.Options.Lookup(optMinGap); set {
		gap, err := cfg.Options.Int(optMinGap)
		if err != nil {
			return nil, err
		}
		if gap < 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be negative", optMinGap)
		}
		s.gapNs = gap
	}
	switch {
	case s.maxEvents < 0:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be negative", optMaxEvents)
	case s.splits < 1 || s.splits > 1024:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 1024", optSplits)
	case s.groupSize < 1 || s.groupSize%953 == 0:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be positive and not a multiple of 953", optOutOfOrd)
	case s.baseTimeMs < 0 || s.baseTimeMs > 1<<50:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q is out of range", optBaseTime)
	}
	if len(cfg.Schema) == 0 {
		return nil, pgerror.New(pgerror.InvalidObjectDefinition, "a nexmark source needs columns; %s has %s", cfg.Options.String(optTable), fieldNames(s.table))
	}
	for _, c := range cfg.Schema {
		f, err := bindColumn(s.table, c, cfg.Options.String(optTable))
		if err != nil {
			return nil, err
		}
		s.cols = append(s.cols, f)
	}
	return s, nil
}

func fieldNames(t tableType) string {
	var names []string
	for _, f := range fields[t] {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

// bindColumn finds the field a column names and checks its type.
func bindColumn(t tableType, c types.Column, table string) (int, error) {
	f := -1
	for i, spec := range fields[t] {
		if spec.name == c.Name {
			f = i
		}
	}
	if f < 0 {
		for i, spec := range fields[t] {
			if strings.EqualFold(spec.name, c.Name) {
				f = i
			}
		}
	}
	if f < 0 {
		return 0, pgerror.New(pgerror.UndefinedColumn, "nexmark %s has no column %q (its columns are %s)", table, c.Name, fieldNames(t))
	}
	var ok bool
	want := ""
	switch fields[t][f].kind {
	case kindInt:
		ok, want = c.Type == types.Int8, "bigint"
	case kindString:
		ok, want = c.Type == types.Varchar || c.Type == types.Text, "character varying or text"
	case kindTime:
		ok, want = c.Type == types.Timestamp || c.Type == types.TimestampTZ, "timestamp"
	}
	if !ok {
		return 0, pgerror.New(pgerror.DatatypeMismatch, "nexmark %s column %q must be of type %s, not %s", table, c.Name, want, c.Type)
	}
	return f, nil
}

// Splits lists nexmark.split.num splits named "0", "1", ...
func (s *Source) Splits(ctx context.Context) ([]connectors.Split, error) {
	splits := make([]connectors.Split, s.splits)
	for i := range splits {
		splits[i] = connectors.Split{ID: strconv.Itoa(i)}
	}
	return splits, nil
}

// Open starts generating split at pos, the number of events the split has
// produced so far ("" is 0).
func (s *Source) Open(ctx context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	index, err := strconv.ParseInt(split.ID, 10, 64)
	if err != nil || index < 0 || index >= s.splits {
		return nil, fmt.Errorf("nexmark: no split %q", split.ID)
	}
	var row int64
	if pos != "" {
		if row, err = strconv.ParseInt(string(pos), 10, 64); err != nil || row < 0 {
			return nil, fmt.Errorf("nexmark: invalid position %q", pos)
		}
	}
	r := &reader{
		src:   s,
		index: index,
		row:   row,
		gen:   newGenerator(s.baseTimeMs, s.eventRate, s.seed),
		rb:    array.NewRecordBuilder(s.alloc, s.schema.Arrow()),
		start: time.Now(),
		sleep: sleepCtx,
		now:   time.Now,
	}
	r.startID = r.scheduleID(row)
	for i := range s.schema {
		b := r.rb.Field(i)
		switch fields[s.table][s.cols[i]].kind {
		case kindInt:
			r.appenders = append(r.appenders, appender{field: s.cols[i], i64: b.(*array.Int64Builder)})
		case kindString:
			r.appenders = append(r.appenders, appender{field: s.cols[i], str: b.(*array.StringBuilder)})
		case kindTime:
			r.appenders = append(r.appenders, appender{field: s.cols[i], ts: b.(*array.TimestampBuilder)})
		}
	}
	return r, nil
}

// appender writes one event field into one column's builder.
type appender struct {
	field int
	skip  bool // no view reads the column: NULLs (SkipColumns)
	i64   *array.Int64Builder
	str   *array.StringBuilder
	ts    *array.TimestampBuilder
	// bytesPerRow is the string bytes per row of the last batch, to
	// reserve the next batch's data at once rather than grow it.
	bytesPerRow int
}

// reader generates one split: its m-th row is the event of type-local
// index index + m'*splits, where m' is m permuted within its group of
// nexmark.out.of.order.group.size rows.
type reader struct {
	src       *Source
	index     int64
	row       int64 // rows produced (or skipped past max.events): the position
	gen       *generator
	ev        event
	rb        *array.RecordBuilder
	appenders []appender
	done      bool

	// Pacing: row m is due (id(m) - startID) * gapNs after start, where
	// id(m) is its event id before out-of-order permutation.
	start   time.Time
	startID int64
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
}

// scheduleID is the event id of row m before permutation; it orders rows in
// time.
func (r *reader) scheduleID(m int64) int64 {
	return r.src.table.eventID(r.index + m*r.src.splits)
}

// permute is the row emitted in place of row m: the reference's
// out-of-order adjustment, base + (m * 953) % groupSize.
func (r *reader) permute(m int64) int64 {
	n := r.src.groupSize
	if n == 1 {
		return m
	}
	return m/n*n + (m*953)%n
}

// Next generates the events that are due, waiting for at least a few.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	for {
		if r.done {
			return connectors.Batch{}, io.EOF
		}
		n, err := r.due(ctx)
		if err != nil {
			return connectors.Batch{}, err
		}
		rows := r.generate(n)
		if rows > 0 {
			for i := range r.appenders {
				if a := &r.appenders[i]; a.str != nil {
					a.bytesPerRow = a.str.DataLen()/rows + 1
				}
			}
			return connectors.Batch{
				Record:   r.rb.NewRecordBatch(),
				Position: connectors.Position(strconv.FormatInt(r.row, 10)),
			}, nil
		}
	}
}

// due waits until rows are due and returns how many may be generated now:
// about 10 ms worth, at least one and at most maxBatchRows. A reader that
// falls behind its schedule catches up as fast as it is read.
func (r *reader) due(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	gap := r.src.gapNs
	if gap == 0 {
		return maxBatchRows, nil
	}
	// Rows per second of this split: the type's share of the events,
	// divided among the splits.
	perSecond := float64(time.Second) / float64(gap) * float64(r.src.table.proportion()) /
		proportionTotal / float64(r.src.splits)
	want := min(max(int64(perSecond/100), 1), maxBatchRows)
	for {
		elapsed := r.now().Sub(r.start)
		n := int64(0)
		for n < maxBatchRows && r.dueAt(r.row+n) <= elapsed {
			n++
		}
		if n >= want {
			return int(n), nil
		}
		if err := r.sleep(ctx, r.dueAt(r.row+want-1)-elapsed); err != nil {
			return 0, err
		}
	}
}

func (r *reader) dueAt(m int64) time.Duration {
	return time.Duration((r.scheduleID(m) - r.startID) * r.src.gapNs)
}

// generate appends up to n events and returns how many rows it appended;
// rows past nexmark.max.events are skipped, and the split is done once a
// whole group is past it.
func (r *reader) generate(n int) int {
	s := r.src
	for i := range r.appenders {
		a := &r.appenders[i]
		switch {
		case a.i64 != nil:
			a.i64.Reserve(n)
		case a.str != nil:
			a.str.Reserve(n)
			a.str.ReserveData(n * a.bytesPerRow)
		default:
			a.ts.Reserve(n)
		}
	}
	rows := 0
	for ; n > 0; n-- {
		m := r.row
		if s.maxEvents > 0 && r.scheduleID(m/s.groupSize*s.groupSize) >= s.maxEvents {
			r.done = true
			break
		}
		r.row++
		id := s.table.eventID(r.index + r.permute(m)*s.splits)
		if s.maxEvents > 0 && id >= s.maxEvents {
			continue
		}
		switch s.table {
		case tablePerson:
			r.gen.person(id, &r.ev)
		case tableAuction:
			r.gen.auction(id, &r.ev)
		case tableBid:
			r.gen.bid(id, &r.ev)
		}
		for i := range r.appenders {
			a := &r.appenders[i]
			switch {
			case a.skip:
				a.appendNull()
			case a.i64 != nil:
				a.i64.Append(r.ev.ints[a.field])
			case a.str != nil:
				a.str.BinaryBuilder.Append(r.ev.strs[a.field])
			default:
				a.ts.Append(arrow.Timestamp(r.ev.ints[a.field] * 1000))
			}
		}
		rows++
	}
	return rows
}

func (a *appender) appendNull() {
	switch {
	case a.i64 != nil:
		a.i64.AppendNull()
	case a.str != nil:
		a.str.AppendNull()
	default:
		a.ts.AppendNull()
	}
}

// SkipColumns leaves out the columns no view reads: they come as NULLs,
// and an unread extra column is not generated at all (it is the last
// random draw of every event, so the other columns stay as they are).
func (r *reader) SkipColumns(unread []bool) {
	for i := range r.appenders {
		if i < len(unread) && unread[i] {
			r.appenders[i].skip = true
			if r.appenders[i].field == r.src.table.extraField() {
				r.gen.skipExtra = true
			}
		}
	}
}

// Close releases the builders.
func (r *reader) Close() error {
	r.rb.Release()
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
