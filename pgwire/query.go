package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// prepared is a prepared statement: what a Parse message made.
type prepared struct {
	// stmt is nil for an empty (or all-comment) query string, which
	// PostgreSQL accepts and executes as EmptyQueryResponse.
	stmt Statement
	desc Description
}

// portal is a bound statement, run by one or more Execute messages. Its
// Result starts with the first Execute and lives, with the batch being sent,
// across Executes cut short by a row limit.
type portal struct {
	name    string
	stmt    *prepared
	params  []types.Datum
	formats []int16 // one per column; nil means all text

	ctx    context.Context // the Result's context, cancelled when the portal closes
	cancel context.CancelCauseFunc
	res    Result
	cols   []types.Column
	batch  arrow.RecordBatch // being sent; valid until the next call of res.Next
	next   int               // the first row of batch not yet sent

	suspended bool // an Execute stopped at its row limit at least once
	done      bool // the Result is exhausted and closed
	rows      bool // the statement returns rows
	tag       string
}

// columns are the portal's result columns: the Result's once it runs, the
// statement's description before.
func (p *portal) columns() []types.Column {
	if p.res != nil {
		return p.cols
	}
	return p.stmt.desc.Columns
}

func (p *portal) close() {
	p.batch = nil
	if p.res != nil {
		p.res.Close()
		p.res = nil
	}
	if p.cancel != nil {
		p.cancel(context.Canceled)
	}
}

// simpleQuery runs a Query message: every statement in the string, each to
// completion, stopping at the first error.
func (c *conn) simpleQuery(sql string) {
	// A Query destroys the unnamed statement and portal.
	delete(c.stmts, "")
	c.closePortal("")
	ctx, end := c.begin(c.ctx)
	err := c.runQuery(ctx, sql)
	end()
	if c.ctx.Err() != nil {
		return // the connection is ending; serve says goodbye
	}
	if err != nil {
		c.sendError(interrupted(ctx, err))
	}
	c.endOfTransactionPortals()
	c.readyForQuery()
	c.w.flush()
}

func (c *conn) runQuery(ctx context.Context, sql string) error {
	// Parsing the whole string first means a syntax error anywhere fails the
	// message before any statement runs, as in PostgreSQL.
	stmts, err := c.sess.Parse(ctx, sql)
	if err != nil {
		return err
	}
	if len(stmts) == 0 {
		c.w.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	for _, st := range stmts {
		desc, err := st.Describe(ctx, nil)
		if err != nil {
			return err
		}
		if len(desc.Params) > 0 {
			return pgerror.New(pgerror.UndefinedParameter, "there is no parameter $1")
		}
		res, err := st.Execute(ctx, nil)
		if err != nil {
			return err
		}
		if err := c.runResult(ctx, res); err != nil {
			return err
		}
		if c.w.err != nil {
			return c.w.err
		}
	}
	return nil
}

// runResult sends a simple query's result from RowDescription to
// CommandComplete, and closes it.
func (c *conn) runResult(ctx context.Context, res Result) error {
	defer res.Close()
	c.sendNotices(res)
	if co, ok := res.(CopyOutResult); ok && co.CopyOut() {
		return c.copyOut(ctx, res)
	}
	p := &portal{res: res, cols: res.Columns()}
	if p.cols != nil {
		c.w.send(rowDescription(p.cols, nil))
	}
	if _, _, err := c.sendRows(ctx, p, 0); err != nil {
		return err
	}
	c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(res.Tag())})
	return nil
}

// sendRows sends p's rows as DataRows until the Result is exhausted or, when
// limit > 0, limit rows have been sent; suspended reports the latter.
func (c *conn) sendRows(ctx context.Context, p *portal, limit int) (suspended bool, sent int, err error) {
	for {
		if p.batch != nil {
			if rows := int(p.batch.NumRows()); p.next < rows {
				to := rows
				if limit > 0 {
					to = min(rows, p.next+limit-sent)
				}
				c.w.dataRows(p.batch, p.next, to, p.cols, p.formats)
				sent += to - p.next
				p.next = to
				if limit > 0 && sent == limit {
					return true, sent, c.w.err
				}
			}
			p.batch = nil
		}
		// Next may block for as long as the statement takes to produce rows
		// (forever for SUBSCRIBE): what is ready goes out first.
		if err := c.w.flush(); err != nil {
			return false, sent, err
		}
		rec, err := p.res.Next(ctx)
		if err != nil {
			return false, sent, err
		}
		if rec == nil {
			return false, sent, nil
		}
		if err := checkBatch(rec, p.cols); err != nil {
			return false, sent, err
		}
		p.batch, p.next = rec, 0
	}
}

// checkBatch verifies that a batch holds the result's columns in their Arrow
// types, so that a handler bug surfaces as an error rather than as a failed
// type assertion in the encoders.
func checkBatch(rec arrow.RecordBatch, cols []types.Column) error {
	if int(rec.NumCols()) != len(cols) {
		return fmt.Errorf("result batch has %d columns, the result %d", rec.NumCols(), len(cols))
	}
	for j, c := range cols {
		if got := rec.Column(j).DataType(); !arrow.TypeEqual(got, c.Type.Arrow()) {
			return fmt.Errorf("result column %q of type %s holds Arrow %s, want %s", c.Name, c.Type, got, c.Type.Arrow())
		}
	}
	return nil
}

// interrupted turns the error of an operation cancelled by a CancelRequest
// into PostgreSQL's query_canceled.
func interrupted(op context.Context, err error) error {
	if errors.Is(context.Cause(op), errCanceledByUser) &&
		(errors.Is(err, context.Canceled) || errors.Is(err, errCanceledByUser)) {
		return pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
	}
	return err
}

// parse serves Parse: it parses and describes (plans) the statement, so that
// errors surface here as in PostgreSQL.
func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name == "" {
		delete(c.stmts, "")
	} else if _, ok := c.stmts[m.Name]; ok {
		return pgerror.New(duplicatePreparedStatement, "prepared statement %q already exists", m.Name)
	}
	paramTypes := make([]types.T, len(m.ParameterOIDs))
	for i, oid := range m.ParameterOIDs {
		if oid == 0 || oid == types.OIDUnknown {
			paramTypes[i] = types.Unknown
			continue
		}
		t, ok := types.FromOID(oid)
		if !ok {
			return pgerror.New(pgerror.FeatureNotSupported, "parameter $%d has type OID %d, which is not supported", i+1, oid)
		}
		paramTypes[i] = t
	}
	ctx, end := c.begin(c.ctx)
	defer end()
	stmts, err := c.sess.Parse(ctx, m.Query)
	if err != nil {
		return interrupted(ctx, err)
	}
	ps := &prepared{desc: Description{Params: paramTypes}}
	switch len(stmts) {
	case 0:
	case 1:
		desc, err := stmts[0].Describe(ctx, paramTypes)
		if err != nil {
			return interrupted(ctx, err)
		}
		ps.stmt, ps.desc = stmts[0], desc
	default:
		return pgerror.New(pgerror.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	c.stmts[m.Name] = ps
	c.w.send(&pgproto3.ParseComplete{})
	return nil
}

// SQLSTATEs pgerror does not list.
const (
	duplicatePreparedStatement = "42P05"
	duplicateCursor            = "42P03"
)

func (c *conn) statement(name string) (*prepared, error) {
	ps, ok := c.stmts[name]
	if !ok {
		if name == "" {
			return nil, pgerror.New(pgerror.InvalidSQLStatementName, "unnamed prepared statement does not exist")
		}
		return nil, pgerror.New(pgerror.InvalidSQLStatementName, "prepared statement %q does not exist", name)
	}
	return ps, nil
}

func (c *conn) portal(name string) (*portal, error) {
	p, ok := c.portals[name]
	if !ok {
		return nil, pgerror.New(pgerror.InvalidCursorName, "portal %q does not exist", name)
	}
	return p, nil
}

// bind serves Bind: it decodes the parameters and fixes the result formats.
// The statement starts running at the first Execute.
func (c *conn) bind(m *pgproto3.Bind) error {
	ps, err := c.statement(m.PreparedStatement)
	if err != nil {
		return err
	}
	if m.DestinationPortal == "" {
		c.closePortal("")
	} else if _, ok := c.portals[m.DestinationPortal]; ok {
		return pgerror.New(duplicateCursor, "cursor %q already exists", m.DestinationPortal)
	}
	n := len(m.Parameters)
	if nf := len(m.ParameterFormatCodes); nf > 1 && nf != n {
		return pgerror.New(pgerror.ProtocolViolation, "bind message has %d parameter formats but %d parameters", nf, n)
	}
	if n != len(ps.desc.Params) {
		return pgerror.New(pgerror.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			n, m.PreparedStatement, len(ps.desc.Params))
	}
	params := make([]types.Datum, n)
	for i, raw := range m.Parameters {
		if raw == nil {
			continue // NULL
		}
		t := ps.desc.Params[i]
		var err error
		switch f := formatCode(m.ParameterFormatCodes, i); f {
		case formatText:
			params[i], err = types.ParseText(string(raw), t)
		case formatBinary:
			params[i], err = types.ParseBinary(raw, t)
		default:
			err = pgerror.New(pgerror.InvalidParameterValue, "unsupported format code: %d", f)
		}
		if err != nil {
			return &whereError{err: err, where: fmt.Sprintf("%s parameter $%d", portalLabel(m.DestinationPortal), i+1)}
		}
	}
	formats, err := resultFormats(m.ResultFormatCodes, len(ps.desc.Columns))
	if err != nil {
		return err
	}
	c.portals[m.DestinationPortal] = &portal{name: m.DestinationPortal, stmt: ps, params: params, formats: formats}
	c.w.send(&pgproto3.BindComplete{})
	return nil
}

func portalLabel(name string) string {
	if name == "" {
		return "unnamed portal"
	}
	return fmt.Sprintf("portal %q", name)
}

// formatCode applies the protocol's rule for format code lists: none means
// text for all, one applies to all, otherwise one per value.
func formatCode(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return formatText
	case 1:
		return codes[0]
	default:
		return codes[i]
	}
}

// resultFormats expands a Bind's result format codes to one per column; nil
// means all text.
func resultFormats(codes []int16, ncols int) ([]int16, error) {
	if len(codes) > 1 && len(codes) != ncols {
		return nil, pgerror.New(pgerror.ProtocolViolation, "bind message has %d result formats but query has %d columns", len(codes), ncols)
	}
	allText := true
	for _, f := range codes {
		if f != formatText && f != formatBinary {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unsupported format code: %d", f)
		}
		allText = allText && f == formatText
	}
	if allText {
		return nil, nil
	}
	formats := make([]int16, ncols)
	for i := range formats {
		formats[i] = formatCode(codes, i)
	}
	return formats, nil
}

// describe serves Describe of a statement (parameter types, then columns in
// text format since results formats are not chosen yet) or of a portal.
func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		ps, err := c.statement(m.Name)
		if err != nil {
			return err
		}
		oids := make([]uint32, len(ps.desc.Params))
		for i, t := range ps.desc.Params {
			oids[i] = t.OID()
		}
		c.w.send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		c.describeColumns(ps.desc.Columns, nil)
	case 'P':
		p, err := c.portal(m.Name)
		if err != nil {
			return err
		}
		c.describeColumns(p.columns(), p.formats)
	default:
		return pgerror.New(pgerror.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) describeColumns(cols []types.Column, formats []int16) {
	if cols == nil {
		c.w.send(&pgproto3.NoData{})
		return
	}
	c.w.send(rowDescription(cols, formats))
}

// execute serves Execute: it starts the portal's statement on its first
// Execute, then sends rows up to the row limit (PortalSuspended) or to the
// end (CommandComplete).
func (c *conn) execute(m *pgproto3.Execute) error {
	p, err := c.portal(m.Portal)
	if err != nil {
		return err
	}
	if p.stmt.stmt == nil {
		c.w.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if p.done {
		// PostgreSQL answers a finished query with an empty completion and
		// refuses to rerun anything else.
		if p.rows {
			c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(withRowCount(p.tag, 0))})
			return nil
		}
		return pgerror.New(pgerror.ObjectNotInPrerequisiteState, "portal %q cannot be run", p.name)
	}
	if p.res == nil {
		p.ctx, p.cancel = context.WithCancelCause(c.ctx)
	}
	c.setRunning(p.cancel)
	defer c.setRunning(nil)
	if p.res == nil {
		res, err := p.stmt.stmt.Execute(p.ctx, p.params)
		if err != nil {
			err = interrupted(p.ctx, err)
			c.closePortal(p.name)
			return err
		}
		p.res, p.cols, p.rows = res, res.Columns(), res.Columns() != nil
		if p.formats != nil && len(p.formats) != len(p.cols) {
			c.closePortal(p.name)
			return fmt.Errorf("statement returned %d columns but was described with %d", len(p.cols), len(p.formats))
		}
		c.sendNotices(res)
	}
	limit := int(int32(m.MaxRows)) // PostgreSQL reads it signed; <= 0 means all
	suspended, sent, err := c.sendRows(p.ctx, p, max(limit, 0))
	if err != nil {
		err = interrupted(p.ctx, err)
		c.closePortal(p.name)
		return err
	}
	if suspended {
		p.suspended = true
		c.w.send(&pgproto3.PortalSuspended{})
		return nil
	}
	tag := p.res.Tag()
	if p.suspended {
		// After a suspension PostgreSQL counts the rows of the last Execute.
		tag = withRowCount(tag, sent)
	}
	c.w.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	p.close()
	p.done, p.tag = true, tag
	return nil
}

// withRowCount replaces the row count that ends a command tag ("SELECT 5",
// "FETCH 5") with n; a tag without a count is returned as is.
func withRowCount(tag string, n int) string {
	i := strings.LastIndexByte(tag, ' ')
	if i < 0 {
		return tag
	}
	if _, err := strconv.ParseUint(tag[i+1:], 10, 64); err != nil {
		return tag
	}
	return tag[:i+1] + strconv.Itoa(n)
}

// close serves Close. Closing what does not exist is not an error.
func (c *conn) close(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		c.closePortal(m.Name)
	default:
		return pgerror.New(pgerror.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.w.send(&pgproto3.CloseComplete{})
	return nil
}

// sync serves Sync: the end of an extended-query cycle.
func (c *conn) sync() {
	c.endOfTransactionPortals()
	c.readyForQuery()
	c.w.flush()
}

// endOfTransactionPortals drops every portal unless a transaction block is
// still open: portals live within a transaction, and outside a block each
// Sync or Query ends one.
func (c *conn) endOfTransactionPortals() {
	if c.sess.TxStatus() != 'T' {
		c.closePortals()
	}
}

func (c *conn) closePortal(name string) {
	if p, ok := c.portals[name]; ok {
		p.close()
		delete(c.portals, name)
	}
}

func (c *conn) closePortals() {
	for name, p := range c.portals {
		p.close()
		delete(c.portals, name)
	}
}

// copyOut sends a result as COPY ... TO STDOUT in the text format: a
// CopyOutResponse, a CopyData message per row, CopyDone and "COPY n". Rows
// go out as they come, so psql prints a subscription live.
func (c *conn) copyOut(ctx context.Context, res Result) error {
	cols := res.Columns()
	c.w.send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: make([]uint16, len(cols))})
	var line []byte
	rows := 0
	for {
		if err := c.w.flush(); err != nil {
			return err
		}
		rec, err := res.Next(ctx)
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		if err := checkBatch(rec, cols); err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			line = line[:0]
			for j, col := range cols {
				if j > 0 {
					line = append(line, '\t')
				}
				arr := rec.Column(j)
				if arr.IsNull(i) {
					line = append(line, '\\', 'N')
					continue
				}
				line = appendCopyEscaped(line, types.AppendText(nil, arr, i, col.Type))
			}
			line = append(line, '\n')
			c.w.send(&pgproto3.CopyData{Data: line})
			rows++
		}
	}
	c.w.send(&pgproto3.CopyDone{})
	c.w.send(&pgproto3.CommandComplete{CommandTag: []byte("COPY " + strconv.Itoa(rows))})
	return nil
}

// appendCopyEscaped escapes a value for COPY's text format.
func appendCopyEscaped(dst, v []byte) []byte {
	for _, b := range v {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, b)
		}
	}
	return dst
}
