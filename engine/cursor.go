package engine

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/pgwire"
	"github.com/sluicedb/sluice/types"
)

// cursor is a cursor declared in a transaction block: over a subscription
// (DECLARE c CURSOR FOR SUBSCRIBE ...), read with FETCH as changes come.
type cursor struct {
	res   *subscription
	batch arrow.Record // rows not fetched yet start at next
	next  int
}

func (s *Session) declareSubscribe(ctx context.Context, d *parser.DeclareSubscribe) (pgwire.Result, error) {
	if !s.inTx {
		return nil, pgerror.New("25P01", "DECLARE CURSOR can only be used in transaction blocks").
			WithHint("Run BEGIN first; the cursor lives until COMMIT or ROLLBACK.")
	}
	name := d.Cursor.Portalname
	if _, dup := s.cursors[name]; dup {
		return nil, pgerror.New("42P03", "cursor %q already exists", name)
	}
	// The subscription lives as long as the session's transaction, not as
	// long as this statement.
	sub, err := s.e.subscribe(s.e.ctx, d.Subscribe)
	if err != nil {
		return nil, err
	}
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	s.cursors[name] = &cursor{res: sub}
	return tagOnly("DECLARE CURSOR"), nil
}

// fetch returns up to n rows of a cursor. It waits for the first row until
// the timeout of WITH (timeout = '...') has passed (forever without one),
// then takes whatever else is ready without waiting.
func (s *Session) fetch(ctx context.Context, f *parser.Fetch) (pgwire.Result, error) {
	c, ok := s.cursors[f.Stmt.Portalname]
	if !ok {
		return nil, pgerror.New(pgerror.InvalidCursorName, "cursor %q does not exist", f.Stmt.Portalname)
	}
	if f.Stmt.Direction != pg.FetchDirection_FETCH_FORWARD {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "a cursor over a subscription only moves forward")
	}
	want := f.Stmt.HowMany
	var timeout time.Duration = -1
	for _, o := range f.Options {
		if !strings.EqualFold(o.Key, "timeout") {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unknown FETCH option %q; FETCH takes timeout", o.Key)
		}
		iv, err := types.ParseInterval(o.Value)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "FETCH timeout must be an interval such as '1s', not %q", o.Value)
		}
		timeout = time.Duration(iv.Duration()) * time.Microsecond
	}
	out := &result{cols: c.res.Columns()}
	got := int64(0)
	take := func() {
		for c.batch != nil && got < want {
			rows := int(c.batch.NumRows())
			end := min(rows, c.next+int(want-got))
			out.recs = append(out.recs, c.batch.NewSlice(int64(c.next), int64(end)))
			got += int64(end - c.next)
			c.next = end
			if c.next == rows {
				c.batch.Release()
				c.batch = nil
			}
		}
	}
	take()
	for got < want {
		var rec arrow.Record
		var err error
		switch {
		case got > 0 || timeout == 0:
			rec = c.res.tryNext()
		case timeout < 0:
			rec, err = c.res.Next(ctx)
		default:
			wait, cancel := context.WithTimeout(ctx, timeout)
			rec, err = c.res.Next(wait)
			cancel()
			if err != nil && ctx.Err() == nil {
				err, rec = nil, nil // the timeout passed: return what there is
			}
		}
		if err != nil {
			out.Close()
			return nil, err
		}
		if rec == nil {
			break
		}
		c.batch, c.next = rec, 0
		take()
	}
	out.tag = "FETCH " + strconv.FormatInt(got, 10)
	return out, nil
}

// closeCursors ends the cursors at the end of a transaction block.
func (s *Session) closeCursors() {
	for name, c := range s.cursors {
		if c.batch != nil {
			c.batch.Release()
		}
		c.res.Close()
		delete(s.cursors, name)
	}
}
