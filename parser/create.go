package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// invalidTableDefinition is PostgreSQL's SQLSTATE 42P16 (not yet in
// pgerror): two primary keys, two watermarks on one column.
const invalidTableDefinition = pgerror.InvalidTableDefinition

// createSource parses
//
//	CREATE SOURCE [IF NOT EXISTS] name [( element [, ...] )]
//	    [INCLUDE what [AS alias] ...] WITH ( options ) [FORMAT f ENCODE e [( options )]]
func (p *stmtParser) createSource() (*CreateSource, error) {
	p.i += 2 // CREATE SOURCE
	st := &CreateSource{text: p.text(), IfNotExists: p.ifNotExists()}
	var err error
	if st.Name, err = p.objectName(); err != nil {
		return nil, err
	}
	if p.is(pg_query.Token_ASCII_40) {
		els, err := p.tableElements(st.Name, false)
		if err != nil {
			return nil, err
		}
		st.Columns, st.Watermarks = els.columns, els.watermarks
	}
	if st.Includes, err = p.includes(); err != nil {
		return nil, err
	}
	if st.Options, err = p.withOptions("CREATE SOURCE"); err != nil {
		return nil, err
	}
	if st.Format, err = p.format(); err != nil {
		return nil, err
	}
	return st, p.expectEnd()
}

// withOptions parses the WITH ( options ) a statement requires.
func (p *stmtParser) withOptions(stmt string) ([]Option, error) {
	if p.word() != "with" {
		return nil, p.errHere().WithHint("%s needs WITH (connector = '...', ...).", stmt)
	}
	p.i++
	return p.optionList()
}

// createTable parses
//
//	CREATE TABLE [IF NOT EXISTS] name ( element [, ...] ) [APPEND ONLY]
//	    [WITH ( options )] [FORMAT f ENCODE e [( options )]]
func (p *stmtParser) createTable() (*CreateTable, error) {
	p.i++ // CREATE
	if tableModifiers[p.word()] {
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "%s tables are not supported", strings.ToUpper(p.word()))
	}
	p.i++ // TABLE
	ctas := -1
	p.topLevel(func(i int) bool {
		if p.wordAt(i) == "as" {
			ctas = i
			return false
		}
		return true
	})
	if ctas >= 0 {
		return nil, p.errorAt(ctas, pgerror.FeatureNotSupported, "CREATE TABLE AS is not supported").
			WithHint("Use CREATE MATERIALIZED VIEW ... AS SELECT for a result kept up to date, or CREATE TABLE and INSERT ... SELECT.")
	}
	st := &CreateTable{text: p.text(), IfNotExists: p.ifNotExists()}
	var err error
	if st.Name, err = p.objectName(); err != nil {
		return nil, err
	}
	switch p.word() {
	case "of":
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "CREATE TABLE ... OF type is not supported")
	case "partition":
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "CREATE TABLE ... PARTITION OF is not supported")
	}
	if !p.is(pg_query.Token_ASCII_40) {
		return nil, p.errHere()
	}
	els, err := p.tableElements(st.Name, true)
	if err != nil {
		return nil, err
	}
	st.Columns, st.PrimaryKey, st.Watermarks = els.columns, els.primaryKey, els.watermarks
	st.AppendOnly = p.acceptWords("append", "only")
	if p.word() == "include" {
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "INCLUDE is only supported in CREATE SOURCE")
	}
	if p.acceptWords("with") {
		if st.Options, err = p.optionList(); err != nil {
			return nil, err
		}
	}
	if st.Format, err = p.format(); err != nil {
		return nil, err
	}
	switch w := p.word(); w {
	case "inherits", "partition", "using", "tablespace", "on", "without":
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "CREATE TABLE ... %s is not supported", strings.ToUpper(w))
	}
	return st, p.expectEnd()
}

// tableElements is what the parenthesised list of CREATE SOURCE or CREATE
// TABLE declares.
type tableElements struct {
	columns    []ColumnDef
	primaryKey []string
	watermarks []Watermark
}

// tableElements parses ( element [, ...] ) at the cursor, where an element is
// a column definition, a table constraint (PRIMARY KEY only, when keyed), or
// WATERMARK FOR column AS expression. Column definitions and constraints are
// PostgreSQL's: they are handed to its grammar as a CREATE TABLE.
func (p *stmtParser) tableElements(table ObjectName, keyed bool) (tableElements, error) {
	var els tableElements
	open := p.i
	closeParen, err := p.closing(open)
	if err != nil {
		return els, err
	}
	p.i = closeParen + 1

	std := p.src.newStandardText().lit("CREATE TABLE t (")
	standardElements := 0
	type pendingWatermark struct {
		col                      string
		colTok, exprFrom, exprTo int
	}
	var watermarks []pendingWatermark
	var procTimes []int // the first tokens of the AS PROCTIME() columns
	// "()" declares nothing, as in PostgreSQL.
	for start := open + 1; closeParen > open+1; {
		end, depth := start, 0
		for ; end < closeParen; end++ {
			t := p.src.toks[end].tok
			switch t {
			case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
				depth++
			case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
				depth--
			}
			if depth == 0 && t == pg_query.Token_ASCII_44 {
				break
			}
		}
		if end == start {
			return els, p.src.syntaxErrorAt(start) // an empty element: "(,", ",,", ",)"
		}
		if p.wordAt(start) == "watermark" && p.wordAt(start+1) == "for" {
			sub := &stmtParser{src: p.src, lo: start, hi: end, i: start + 2}
			colTok := sub.i
			col, err := sub.identifier(false)
			if err != nil {
				return els, err
			}
			if err := sub.expectWords("as"); err != nil {
				return els, err
			}
			if sub.atEnd() {
				return els, sub.errHere()
			}
			watermarks = append(watermarks, pendingWatermark{col: col, colTok: colTok, exprFrom: sub.i, exprTo: end})
		} else {
			if standardElements > 0 {
				std.lit(", ")
			}
			if p.isProcTime(start, end) {
				// name [type] AS PROCTIME(): PostgreSQL's grammar gets
				// the column without the generation, typed timestamptz
				// when no type is written.
				std.tokens(start, end-4)
				if end-4-start == 1 {
					std.lit(" timestamptz")
				}
				procTimes = append(procTimes, start)
			} else {
				std.tokens(start, end)
			}
			standardElements++
		}
		if end == closeParen {
			break
		}
		start = end + 1
		if start == closeParen {
			return els, p.src.syntaxErrorAt(start) // a trailing comma
		}
	}

	if standardElements > 0 {
		node, err := std.lit(")").parse()
		if err != nil {
			return els, err
		}
		create := node.GetCreateStmt()
		if create == nil {
			return els, pgerror.New(pgerror.InternalError, "column list parsed as %s", describeNode(node))
		}
		if err := p.convertElements(&els, create.TableElts, table, keyed); err != nil {
			return els, err
		}
	}
	for _, tok := range procTimes {
		sub := &stmtParser{src: p.src, lo: tok, hi: tok + 1, i: tok}
		name, err := sub.identifier(false)
		if err != nil {
			return els, err
		}
		for i := range els.columns {
			if els.columns[i].Name == name {
				els.columns[i].ProcTime = true
			}
		}
	}

	for _, w := range watermarks {
		col := w.col
		found := false
		for _, c := range els.columns {
			found = found || c.Name == col
		}
		if !found {
			return els, p.errorAt(w.colTok, pgerror.UndefinedColumn, "column \"%s\" does not exist", col).
				WithHint("WATERMARK FOR names a column declared in the same list.")
		}
		for _, prev := range els.watermarks {
			if prev.Column == col {
				return els, p.errorAt(w.colTok, invalidTableDefinition, "multiple watermarks for column \"%s\" are not allowed", col)
			}
		}
		expr, err := p.expression(w.exprFrom, w.exprTo)
		if err != nil {
			return els, err
		}
		els.watermarks = append(els.watermarks, Watermark{Column: col, Expr: expr, Pos: p.position(w.colTok)})
	}
	return els, nil
}

// isProcTime reports whether the element [start, end) ends with AS
// PROCTIME ( ) after a name and an optional type.
func (p *stmtParser) isProcTime(start, end int) bool {
	return end-start >= 5 && p.wordAt(end-4) == "as" && p.wordAt(end-3) == "proctime" &&
		p.src.toks[end-2].tok == pg_query.Token_ASCII_40 && p.src.toks[end-1].tok == pg_query.Token_ASCII_41
}

// expression parses tokens [from, to) as one scalar expression.
func (p *stmtParser) expression(from, to int) (*pg_query.Node, error) {
	// The parentheses make the grammar stop at anything that is not part of
	// an expression (a FROM, a comma), and add no node to the tree.
	node, err := p.src.newStandardText().lit("SELECT (").tokens(from, to).lit(")").parse()
	if err != nil {
		return nil, err
	}
	expr := singleTarget(node)
	if expr == nil {
		return nil, p.src.syntaxErrorAt(from)
	}
	return expr, nil
}

// convertElements turns PostgreSQL's column definitions and table
// constraints into ColumnDefs and a primary key, refusing what Sluice does
// not implement.
func (p *stmtParser) convertElements(els *tableElements, elts []*pg_query.Node, table ObjectName, keyed bool) error {
	pkPos := 0 // position of the primary key declaration, 0 if none yet
	setKey := func(cols []string, loc int32) error {
		if !keyed {
			return &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: Position(loc),
				Message: "a source has no primary key",
				Hint:    "A source is an append-only stream; declare keyed data with CREATE TABLE."}
		}
		if pkPos != 0 {
			return &pgerror.Error{Code: invalidTableDefinition, Position: Position(loc),
				Message: "multiple primary keys for table " + quoted(table.Name) + " are not allowed"}
		}
		pkPos = Position(loc)
		els.primaryKey = cols
		return nil
	}
	for _, n := range elts {
		switch e := n.GetNode().(type) {
		case *pg_query.Node_ColumnDef:
			cd := e.ColumnDef
			for _, c := range els.columns {
				if c.Name == cd.Colname {
					return &pgerror.Error{Code: pgerror.DuplicateColumn, Position: Position(cd.Location),
						Message: "column " + quoted(cd.Colname) + " specified more than once"}
				}
			}
			col := ColumnDef{Name: cd.Colname, Type: cd.TypeName, Pos: Position(cd.Location)}
			if cd.CollClause != nil {
				return &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: Position(cd.CollClause.Location),
					Message: "COLLATE is not supported"}
			}
			if cd.Compression != "" || cd.StorageName != "" {
				return &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: Position(cd.Location),
					Message: "column STORAGE and COMPRESSION are not supported"}
			}
			// PostgreSQL points a NULL/NOT NULL conflict at the second of the two.
			sawNull, sawNotNull, conflict := false, false, int32(-1)
			for _, cn := range cd.Constraints {
				c := cn.GetConstraint()
				if c == nil {
					continue
				}
				switch c.Contype {
				case pg_query.ConstrType_CONSTR_NOTNULL:
					if sawNull && conflict < 0 {
						conflict = c.Location
					}
					sawNotNull, col.NotNull = true, true
				case pg_query.ConstrType_CONSTR_NULL:
					if sawNotNull && conflict < 0 {
						conflict = c.Location
					}
					sawNull = true
				case pg_query.ConstrType_CONSTR_PRIMARY:
					if err := setKey([]string{cd.Colname}, c.Location); err != nil {
						return err
					}
					col.PrimaryKey = true
				default:
					return unsupportedConstraint(c)
				}
			}
			if conflict >= 0 {
				return &pgerror.Error{Code: pgerror.SyntaxError, Position: Position(conflict),
					Message: "conflicting NULL/NOT NULL declarations for column " + quoted(cd.Colname) +
						" of table " + quoted(table.Name)}
			}
			els.columns = append(els.columns, col)
		case *pg_query.Node_Constraint:
			c := e.Constraint
			if c.Contype != pg_query.ConstrType_CONSTR_PRIMARY || len(c.Including) > 0 {
				return unsupportedConstraint(c)
			}
			var cols []string
			for _, k := range c.Keys {
				name := k.GetString_().GetSval()
				for _, prev := range cols {
					if prev == name {
						return &pgerror.Error{Code: pgerror.DuplicateColumn, Position: Position(c.Location),
							Message: "column " + quoted(name) + " appears twice in primary key constraint"}
					}
				}
				cols = append(cols, name)
			}
			if err := setKey(cols, c.Location); err != nil {
				return err
			}
		case *pg_query.Node_TableLikeClause:
			return &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: Position(e.TableLikeClause.Relation.GetLocation()),
				Message: "CREATE TABLE ... LIKE is not supported"}
		default:
			return pgerror.New(pgerror.InternalError, "unexpected table element %s", describeNode(n))
		}
	}
	// A key column is NOT NULL, and every key column must exist.
	for _, k := range els.primaryKey {
		found := false
		for i := range els.columns {
			if els.columns[i].Name == k {
				els.columns[i].PrimaryKey, els.columns[i].NotNull, found = true, true, true
			}
		}
		if !found {
			return &pgerror.Error{Code: pgerror.UndefinedColumn, Position: pkPos,
				Message: "column " + quoted(k) + " named in key does not exist"}
		}
	}
	return nil
}

// quoted puts a name in double quotes for a message, without escaping, as
// PostgreSQL's messages do.
func quoted(s string) string { return `"` + s + `"` }

var constraintNames = map[pg_query.ConstrType]string{
	pg_query.ConstrType_CONSTR_DEFAULT:             "DEFAULT",
	pg_query.ConstrType_CONSTR_IDENTITY:            "GENERATED ... AS IDENTITY",
	pg_query.ConstrType_CONSTR_GENERATED:           "GENERATED ... STORED",
	pg_query.ConstrType_CONSTR_CHECK:               "CHECK",
	pg_query.ConstrType_CONSTR_UNIQUE:              "UNIQUE",
	pg_query.ConstrType_CONSTR_EXCLUSION:           "EXCLUDE",
	pg_query.ConstrType_CONSTR_FOREIGN:             "REFERENCES",
	pg_query.ConstrType_CONSTR_ATTR_DEFERRABLE:     "DEFERRABLE",
	pg_query.ConstrType_CONSTR_ATTR_NOT_DEFERRABLE: "NOT DEFERRABLE",
	pg_query.ConstrType_CONSTR_ATTR_DEFERRED:       "INITIALLY DEFERRED",
	pg_query.ConstrType_CONSTR_ATTR_IMMEDIATE:      "INITIALLY IMMEDIATE",
	pg_query.ConstrType_CONSTR_PRIMARY:             "PRIMARY KEY ... INCLUDE",
	pg_query.ConstrType_CONSTR_NOTNULL:             "NOT NULL",
	pg_query.ConstrType_CONSTR_NULL:                "NULL",
	pg_query.ConstrType_CONSTR_TYPE_UNDEFINED:      "unknown",
}

func unsupportedConstraint(c *pg_query.Constraint) error {
	return &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: Position(c.Location),
		Message: constraintNames[c.Contype] + " constraints are not supported"}
}

// query parses tokens [from, to) as a query and returns its SelectStmt.
// A FROM item followed by FOR SYSTEM_TIME AS OF PROCTIME() (a temporal join,
// which PostgreSQL's grammar does not have) is handed to the grammar without
// that clause; its name (or alias) is listed in temporal.
func (p *stmtParser) query(from, to int) (node *pg_query.Node, temporal []string, err error) {
	if from >= to {
		return nil, nil, p.src.syntaxErrorAt(from)
	}
	text := p.src.newStandardText()
	start := from
	for i := from; i+6 < to; i++ {
		if p.wordAt(i) == "for" && p.wordAt(i+1) == "system_time" && p.wordAt(i+2) == "as" && p.wordAt(i+3) == "of" &&
			p.wordAt(i+4) == "proctime" && p.isAt(i+5, pg_query.Token_ASCII_40) && p.isAt(i+6, pg_query.Token_ASCII_41) {
			if i == from || p.wordAt(i-1) == "" {
				return nil, nil, p.errorAt(i, pgerror.SyntaxError, "FOR SYSTEM_TIME AS OF PROCTIME() must follow a table name or alias")
			}
			temporal = append(temporal, p.wordAt(i-1))
			text.tokens(start, i).lit(" ")
			start, i = i+7, i+6
		}
	}
	node, err = text.tokens(start, to).parse()
	if err != nil {
		return nil, nil, err
	}
	sel := node.GetSelectStmt()
	if sel == nil {
		return nil, nil, p.src.syntaxErrorAt(from)
	}
	if sel.IntoClause != nil {
		return nil, nil, &pgerror.Error{Code: pgerror.SyntaxError, Position: Position(sel.IntoClause.GetRel().GetLocation()),
			Message: "SELECT ... INTO is not allowed here"}
	}
	return node, temporal, nil
}

// trailingEmit reports whether tokens [lo, *hi) end with EMIT ON WINDOW
// CLOSE, and if so removes them from the range.
func (p *stmtParser) trailingEmit(lo int, hi *int) bool {
	n := *hi
	if n-4 < lo || p.wordAt(n-4) != "emit" || p.wordAt(n-3) != "on" || p.wordAt(n-2) != "window" || p.wordAt(n-1) != "close" {
		return false
	}
	*hi = n - 4
	return true
}

// createMaterializedView parses
//
//	CREATE MATERIALIZED VIEW [IF NOT EXISTS] name AS query [WITH DATA] [EMIT ON WINDOW CLOSE]
func (p *stmtParser) createMaterializedView() (*CreateMaterializedView, error) {
	p.i += 3 // CREATE MATERIALIZED VIEW
	st := &CreateMaterializedView{text: p.text(), IfNotExists: p.ifNotExists()}
	var err error
	if st.Name, err = p.objectName(); err != nil {
		return nil, err
	}
	switch {
	case p.is(pg_query.Token_ASCII_40):
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "a column name list in CREATE MATERIALIZED VIEW is not supported").
			WithHint("Name the columns with AS in the SELECT list.")
	case p.word() == "using", p.word() == "with", p.word() == "tablespace":
		return nil, p.errorAt(p.i, pgerror.FeatureNotSupported, "CREATE MATERIALIZED VIEW ... %s is not supported", strings.ToUpper(p.word()))
	}
	if err := p.expectWords("as"); err != nil {
		return nil, err
	}
	end := p.hi
	st.EmitOnWindowClose = p.trailingEmit(p.i, &end)
	switch {
	case end-3 >= p.i && p.wordAt(end-3) == "with" && p.wordAt(end-2) == "no" && p.wordAt(end-1) == "data":
		return nil, p.errorAt(end-3, pgerror.FeatureNotSupported, "CREATE MATERIALIZED VIEW ... WITH NO DATA is not supported")
	case end-2 >= p.i && p.wordAt(end-2) == "with" && p.wordAt(end-1) == "data":
		end -= 2
	}
	if st.Query, st.Temporal, err = p.query(p.i, end); err != nil {
		return nil, err
	}
	st.QueryText = p.src.text(p.i, end)
	return st, nil
}

// createSink parses
//
//	CREATE SINK [IF NOT EXISTS] name FROM relation WITH ( options ) [FORMAT ...]
//	CREATE SINK [IF NOT EXISTS] name AS query [EMIT ON WINDOW CLOSE] WITH ( options ) [FORMAT ...]
func (p *stmtParser) createSink() (*CreateSink, error) {
	p.i += 2 // CREATE SINK
	st := &CreateSink{text: p.text(), IfNotExists: p.ifNotExists()}
	var err error
	if st.Name, err = p.objectName(); err != nil {
		return nil, err
	}
	switch p.word() {
	case "from":
		p.i++
		from, err := p.objectName()
		if err != nil {
			return nil, err
		}
		st.From = &from
	case "as":
		p.i++
		// The query runs up to the first of WITH (, EMIT ON WINDOW CLOSE or
		// FORMAT x ENCODE outside parentheses: none of them can continue a
		// SELECT (a leading WITH is a CTE, never followed by a parenthesis).
		end := p.hi
		p.topLevel(func(i int) bool {
			switch p.wordAt(i) {
			case "with":
				if p.isAt(i+1, pg_query.Token_ASCII_40) {
					end = i
				}
			case "emit":
				if p.wordAt(i+1) == "on" && p.wordAt(i+2) == "window" && p.wordAt(i+3) == "close" {
					end = i
				}
			case "format":
				if p.wordAt(i+2) == "encode" {
					end = i
				}
			}
			return end == p.hi
		})
		if st.Query, st.Temporal, err = p.query(p.i, end); err != nil {
			return nil, err
		}
		st.QueryText = p.src.text(p.i, end)
		p.i = end
		st.EmitOnWindowClose = p.acceptWords("emit", "on", "window", "close")
	default:
		return nil, p.errHere()
	}
	if st.Options, err = p.withOptions("CREATE SINK"); err != nil {
		return nil, err
	}
	if st.Format, err = p.format(); err != nil {
		return nil, err
	}
	return st, p.expectEnd()
}
