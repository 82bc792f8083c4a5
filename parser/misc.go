package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// show parses SHOW SOURCES | TABLES | VIEWS | SINKS | MATERIALIZED VIEWS and
// SHOW SOURCE ERRORS [name]; classify has already checked the words.
func (p *stmtParser) show() (*Show, error) {
	p.i++ // SHOW
	st := &Show{text: p.text()}
	switch p.word() {
	case "materialized", "source":
		st.Object = strings.ToUpper(p.word() + " " + p.wordAt(p.i+1))
		p.i += 2
		if st.Object == "SOURCE ERRORS" && !p.atEnd() {
			name, err := p.objectName()
			if err != nil {
				return nil, err
			}
			st.Name = &name
		}
	default:
		st.Object = strings.ToUpper(p.word())
		p.i++
	}
	return st, p.expectEnd()
}

// describe parses DESCRIBE name and DESC name.
func (p *stmtParser) describe() (*Describe, error) {
	p.i++
	name, err := p.objectName()
	if err != nil {
		return nil, err
	}
	return &Describe{Name: name, text: p.text()}, p.expectEnd()
}

// drop parses DROP kind [IF EXISTS] name [, ...] [CASCADE | RESTRICT].
func (p *stmtParser) drop() (*Drop, error) {
	p.i++ // DROP
	st := &Drop{text: p.text()}
	if p.acceptWords("materialized", "view") {
		st.Kind = "MATERIALIZED VIEW"
	} else {
		st.Kind = strings.ToUpper(p.word())
		p.i++
	}
	st.IfExists = p.acceptWords("if", "exists")
	for {
		name, err := p.objectName()
		if err != nil {
			return nil, err
		}
		st.Names = append(st.Names, name)
		if !p.accept(pg_query.Token_ASCII_44) {
			break
		}
	}
	if p.acceptWords("cascade") {
		st.Cascade = true
	} else {
		p.acceptWords("restrict")
	}
	return st, p.expectEnd()
}

// flush parses FLUSH.
func (p *stmtParser) flush() (*Flush, error) {
	p.i++
	return &Flush{text: p.text()}, p.expectEnd()
}

// subscribe parses SUBSCRIBE [TO] name and SUBSCRIBE [TO] ( query ).
func (p *stmtParser) subscribe() (*Subscribe, error) {
	p.i++ // SUBSCRIBE
	p.acceptWords("to")
	st := &Subscribe{text: p.text()}
	if p.is(pg_query.Token_ASCII_40) {
		closeParen, err := p.closing(p.i)
		if err != nil {
			return nil, err
		}
		if st.Query, st.Temporal, err = p.query(p.i+1, closeParen); err != nil {
			return nil, err
		}
		st.QueryText = p.src.text(p.i+1, closeParen)
		p.i = closeParen + 1
	} else {
		name, err := p.objectName()
		if err != nil {
			return nil, err
		}
		st.Name = &name
	}
	return st, p.expectEnd()
}

// declareSubscribeAt returns the index of SUBSCRIBE in DECLARE ... CURSOR
// ... FOR SUBSCRIBE ..., or -1 when tokens [lo, hi) are another DECLARE.
func (s *source) declareSubscribeAt(lo, hi int) int {
	p := &stmtParser{src: s, lo: lo, hi: hi, i: lo}
	at := -1
	p.topLevel(func(i int) bool {
		if p.wordAt(i) == "for" {
			if p.wordAt(i+1) == "subscribe" {
				at = i + 1
			}
			return false
		}
		return true
	})
	return at
}

// declareSubscribe parses DECLARE name [options] CURSOR [WITH[OUT] HOLD] FOR
// SUBSCRIBE .... PostgreSQL's grammar parses the declaration with a
// placeholder query; the subscription is parsed on its own.
func (p *stmtParser) declareSubscribe() (*DeclareSubscribe, error) {
	at := p.src.declareSubscribeAt(p.lo, p.hi)
	node, err := p.src.newStandardText().tokens(p.lo, at).lit(" SELECT").parse()
	if err != nil {
		return nil, err
	}
	decl := node.GetDeclareCursorStmt()
	if decl == nil {
		return nil, p.src.syntaxErrorAt(p.lo)
	}
	decl.Query = nil
	sub, err := (&stmtParser{src: p.src, lo: at, hi: p.hi, i: at}).subscribe()
	if err != nil {
		return nil, err
	}
	return &DeclareSubscribe{Cursor: decl, Subscribe: sub, text: p.text()}, nil
}

// copySubscribe parses COPY ( SUBSCRIBE ... ) TO ..., in the same way.
func (p *stmtParser) copySubscribe() (*CopySubscribe, error) {
	open := p.lo + 1
	closeParen, err := p.closing(open)
	if err != nil {
		return nil, err
	}
	node, err := p.src.newStandardText().tokens(p.lo, open+1).lit(" SELECT ").tokens(closeParen, p.hi).parse()
	if err != nil {
		return nil, err
	}
	cp := node.GetCopyStmt()
	if cp == nil {
		return nil, p.src.syntaxErrorAt(p.lo)
	}
	cp.Query = nil
	sub, err := (&stmtParser{src: p.src, lo: open + 1, hi: closeParen, i: open + 1}).subscribe()
	if err != nil {
		return nil, err
	}
	return &CopySubscribe{Copy: cp, Subscribe: sub, text: p.text()}, nil
}

// explainOption is one option of EXPLAIN, from either syntax.
type explainOption struct {
	name, value string
	hasValue    bool
	pos         int
}

// explain parses EXPLAIN [ANALYZE] [VERBOSE] statement and EXPLAIN ( option
// [value] [, ...] ) statement. A query is explained by PostgreSQL's grammar
// as a whole, so that what it refuses it refuses with its own error; a
// CREATE MATERIALIZED VIEW or CREATE SINK is parsed by this package.
func (p *stmtParser) explain() (*Explain, error) {
	p.i++ // EXPLAIN
	optsFrom := p.i
	if p.is(pg_query.Token_ASCII_40) {
		if err := p.skipGroup(); err != nil {
			return nil, err
		}
	} else {
		if !p.acceptWords("analyze") {
			p.acceptWords("analyse")
		}
		p.acceptWords("verbose")
	}
	inner := p.i
	st := &Explain{text: p.text()}
	var opts []explainOption
	switch p.src.classify(inner, p.hi) {
	case kindCreateMaterializedView, kindCreateSink:
		var err error
		if opts, err = p.explainOptions(optsFrom, inner); err != nil {
			return nil, err
		}
		if st.Statement, err = p.src.parseStatement(inner, p.hi); err != nil {
			return nil, err
		}
	default:
		node, err := p.src.newStandardText().tokens(p.lo, p.hi).parse()
		if err != nil {
			return nil, err
		}
		ex := node.GetExplainStmt()
		if ex == nil {
			return nil, pgerror.New(pgerror.InternalError, "EXPLAIN parsed as %s", describeNode(node))
		}
		for _, o := range ex.Options {
			d := o.GetDefElem()
			if d == nil {
				continue
			}
			v, has := defElemValue(d.Arg)
			opts = append(opts, explainOption{name: d.Defname, value: v, hasValue: has, pos: Position(d.Location)})
		}
		st.Statement = &PGStatement{Node: ex.Query, text: p.src.text(inner, p.hi)}
	}
	for _, o := range opts {
		switch o.name {
		case "verbose":
			v, err := explainBool(o)
			if err != nil {
				return nil, err
			}
			st.Verbose = v
		case "costs":
			// Sluice's plans have no costs; accepted so that EXPLAIN (COSTS
			// OFF), common in tests, works.
			if _, err := explainBool(o); err != nil {
				return nil, err
			}
		case "analyze", "analyse":
			return nil, &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: o.pos, Message: "EXPLAIN ANALYZE is not supported"}
		case "buffers", "settings", "wal", "timing", "summary", "format", "generic_plan", "memory", "serialize":
			return nil, &pgerror.Error{Code: pgerror.FeatureNotSupported, Position: o.pos,
				Message: "EXPLAIN option " + quoted(o.name) + " is not supported"}
		default:
			return nil, &pgerror.Error{Code: pgerror.SyntaxError, Position: o.pos,
				Message: "unrecognized EXPLAIN option " + quoted(o.name)}
		}
	}
	return st, nil
}

// explainOptions reads the options of tokens [from, to): either ANALYZE and
// VERBOSE words or one parenthesised list.
func (p *stmtParser) explainOptions(from, to int) ([]explainOption, error) {
	sub := &stmtParser{src: p.src, lo: from, hi: to, i: from}
	var opts []explainOption
	if !sub.accept(pg_query.Token_ASCII_40) {
		for ; sub.i < to; sub.i++ {
			opts = append(opts, explainOption{name: sub.word(), pos: p.position(sub.i)})
		}
		return opts, nil
	}
	sub.hi = to - 1 // without the closing parenthesis
	for {
		o := explainOption{pos: p.position(sub.i)}
		name, err := sub.identifier(true)
		if err != nil {
			return nil, err
		}
		o.name = name
		if !sub.atEnd() && !sub.is(pg_query.Token_ASCII_44) {
			if o.value, err = sub.optionValue(); err != nil {
				return nil, err
			}
			o.hasValue = true
		}
		opts = append(opts, o)
		if sub.atEnd() {
			return opts, nil
		}
		if err := sub.expect(pg_query.Token_ASCII_44); err != nil {
			return nil, err
		}
	}
}

// explainBool interprets an option value as PostgreSQL's defGetBoolean does.
func explainBool(o explainOption) (bool, error) {
	if !o.hasValue {
		return true, nil
	}
	switch strings.ToLower(o.value) {
	case "true", "on", "1":
		return true, nil
	case "false", "off", "0":
		return false, nil
	}
	return false, &pgerror.Error{Code: pgerror.SyntaxError, Position: o.pos, Message: o.name + " requires a Boolean value"}
}

// fetch parses FETCH ... [WITH ( options )]: the part before WITH is
// PostgreSQL's.
func (p *stmtParser) fetch() (*Fetch, error) {
	with := p.hi
	for i := p.lo; i < p.hi; i++ {
		if p.wordAt(i) == "with" && p.isAt(i+1, pg_query.Token_ASCII_40) {
			with = i
			break
		}
	}
	node, err := p.src.newStandardText().tokens(p.lo, with).parse()
	if err != nil {
		return nil, err
	}
	st := &Fetch{Stmt: node.GetFetchStmt(), text: p.text()}
	if st.Stmt == nil {
		return nil, pgerror.New(pgerror.SyntaxError, "expected a FETCH statement")
	}
	if with < p.hi {
		p.i = with + 1
		if st.Options, err = p.optionList(); err != nil {
			return nil, err
		}
		return st, p.expectEnd()
	}
	return st, nil
}
