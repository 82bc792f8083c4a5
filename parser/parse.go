package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// Parse splits sql into statements and parses each. An empty or all-comment
// string yields an empty slice and no error. As in PostgreSQL, an error in
// any statement fails the whole string. Every error is a *pgerror.Error whose
// Position, when set, is a 1-based character position in sql.
func Parse(sql string) ([]Statement, error) {
	src, err := newSource(sql)
	if err != nil {
		return nil, err
	}
	stmts := []Statement{}
	start := 0
	for i := 0; i <= len(src.toks); i++ {
		if i < len(src.toks) && src.toks[i].tok != pg_query.Token_ASCII_59 {
			continue
		}
		if i > start {
			st, err := src.parseStatement(start, i)
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, st)
		}
		start = i + 1
	}
	return stmts, nil
}

// Position converts a location found in a node returned by Parse (a 0-based
// character offset into the text given to Parse, or -1 when unknown) to the
// 1-based position of a *pgerror.Error (0 when unknown).
func Position(location int32) int {
	if location < 0 {
		return 0
	}
	return int(location) + 1
}

// stmtKind is what a statement is, decided from its first words alone.
type stmtKind int

const (
	kindPG stmtKind = iota
	kindCreateSource
	kindCreateTable
	kindCreateMaterializedView
	kindCreateSink
	kindShow
	kindDescribe
	kindDrop
	kindExplain
	kindFlush
	kindSubscribe
	kindDeclareSubscribe
	kindCopySubscribe
	kindFetch
)

// classify looks at the head of the statement in tokens [lo, hi).
func (s *source) classify(lo, hi int) stmtKind {
	word := func(k int) string {
		if lo+k < hi {
			return s.toks[lo+k].word
		}
		return ""
	}
	switch word(0) {
	case "create":
		switch word(1) {
		case "source":
			return kindCreateSource
		case "sink":
			return kindCreateSink
		case "table":
			return kindCreateTable
		case "materialized":
			if word(2) == "view" {
				return kindCreateMaterializedView
			}
		case "temp", "temporary", "unlogged", "global", "local":
			k := 1
			for tableModifiers[word(k)] {
				k++
			}
			if word(k) == "table" {
				return kindCreateTable
			}
		}
	case "show":
		switch word(1) {
		case "sources", "tables", "views", "sinks":
			return kindShow
		case "materialized":
			if word(2) == "views" {
				return kindShow
			}
		case "source":
			if word(2) == "errors" {
				return kindShow
			}
		}
	case "describe", "desc":
		return kindDescribe
	case "drop":
		switch word(1) {
		case "source", "sink", "table", "view":
			return kindDrop
		case "materialized":
			if word(2) == "view" {
				return kindDrop
			}
		}
	case "explain":
		return kindExplain
	case "flush":
		return kindFlush
	case "subscribe":
		return kindSubscribe
	case "declare":
		if s.declareSubscribeAt(lo, hi) >= 0 {
			return kindDeclareSubscribe
		}
	case "fetch":
		return kindFetch
	case "copy":
		if lo+2 < hi && s.toks[lo+1].tok == pg_query.Token_ASCII_40 && word(2) == "subscribe" {
			return kindCopySubscribe
		}
	}
	return kindPG
}

// tableModifiers are the words that may stand between CREATE and TABLE.
var tableModifiers = map[string]bool{"temp": true, "temporary": true, "unlogged": true, "global": true, "local": true}

// parseStatement parses the statement in tokens [lo, hi).
func (s *source) parseStatement(lo, hi int) (Statement, error) {
	if err := s.tooDeep(lo, hi); err != nil {
		return nil, err
	}
	p := &stmtParser{src: s, lo: lo, hi: hi, i: lo}
	switch s.classify(lo, hi) {
	case kindCreateSource:
		return p.createSource()
	case kindCreateTable:
		return p.createTable()
	case kindCreateMaterializedView:
		return p.createMaterializedView()
	case kindCreateSink:
		return p.createSink()
	case kindShow:
		return p.show()
	case kindDescribe:
		return p.describe()
	case kindDrop:
		return p.drop()
	case kindExplain:
		return p.explain()
	case kindFlush:
		return p.flush()
	case kindSubscribe:
		return p.subscribe()
	case kindDeclareSubscribe:
		return p.declareSubscribe()
	case kindCopySubscribe:
		return p.copySubscribe()
	case kindFetch:
		return p.fetch()
	}
	return p.pgStatement()
}

func (p *stmtParser) pgStatement() (*PGStatement, error) {
	node, err := p.src.newStandardText().tokens(p.lo, p.hi).parse()
	if err != nil {
		return nil, err
	}
	return &PGStatement{Node: node, text: p.text()}, nil
}

// stmtParser walks the tokens [lo, hi) of one statement (or of a statement
// nested in another, such as the one EXPLAIN explains). i is the cursor.
type stmtParser struct {
	src    *source
	lo, hi int
	i      int
}

func (p *stmtParser) text() string { return p.src.text(p.lo, p.hi) }

func (p *stmtParser) atEnd() bool { return p.i >= p.hi }

// wordAt is the bare word at token i of the statement, "" past its end or
// for a token that is not a bare word.
func (p *stmtParser) wordAt(i int) string {
	if i < p.lo || i >= p.hi {
		return ""
	}
	return p.src.toks[i].word
}

func (p *stmtParser) word() string { return p.wordAt(p.i) }

func (p *stmtParser) tokAt(i int) pg_query.Token {
	if i < p.lo || i >= p.hi {
		return pg_query.Token_NUL
	}
	return p.src.toks[i].tok
}

func (p *stmtParser) is(t pg_query.Token) bool { return p.tokAt(p.i) == t }

func (p *stmtParser) isAt(i int, t pg_query.Token) bool { return p.tokAt(i) == t }

// acceptWords consumes the given sequence of bare words if the statement
// continues with all of them, and reports whether it did.
func (p *stmtParser) acceptWords(words ...string) bool {
	for k, w := range words {
		if p.wordAt(p.i+k) != w {
			return false
		}
	}
	p.i += len(words)
	return true
}

func (p *stmtParser) expectWords(words ...string) error {
	for _, w := range words {
		if p.word() != w {
			return p.errHere()
		}
		p.i++
	}
	return nil
}

func (p *stmtParser) accept(t pg_query.Token) bool {
	if p.is(t) {
		p.i++
		return true
	}
	return false
}

func (p *stmtParser) expect(t pg_query.Token) error {
	if !p.accept(t) {
		return p.errHere()
	}
	return nil
}

func (p *stmtParser) expectEnd() error {
	if !p.atEnd() {
		return p.errHere()
	}
	return nil
}

// errHere is a syntax error at the cursor. At the end of the statement it
// points at what follows (the ';', or the end of the input), as PostgreSQL's
// grammar does.
func (p *stmtParser) errHere() *pgerror.Error { return p.src.syntaxErrorAt(p.i) }

func (p *stmtParser) errorAt(i int, code, format string, args ...any) *pgerror.Error {
	return p.src.errorAt(i, code, format, args...)
}

func (p *stmtParser) position(i int) int { return p.src.tokenPosition(i) }

// closing returns the index of the parenthesis or bracket that closes the
// one at token open, or an error at the end of the statement.
func (p *stmtParser) closing(open int) (int, error) {
	depth := 0
	for i := open; i < p.hi; i++ {
		switch p.src.toks[i].tok {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, p.src.syntaxErrorAt(p.hi)
}

// skipGroup moves the cursor past the parenthesised group it is on.
func (p *stmtParser) skipGroup() error {
	end, err := p.closing(p.i)
	if err != nil {
		return err
	}
	p.i = end + 1
	return nil
}

// topLevel calls fn for each token index from the cursor to the end of the
// statement that is outside any parentheses, until fn returns false.
func (p *stmtParser) topLevel(fn func(i int) bool) {
	depth := 0
	for i := p.i; i < p.hi; i++ {
		switch p.src.toks[i].tok {
		case pg_query.Token_ASCII_40, pg_query.Token_ASCII_91:
			depth++
			continue
		case pg_query.Token_ASCII_41, pg_query.Token_ASCII_93:
			depth--
			continue
		}
		if depth == 0 && !fn(i) {
			return
		}
	}
}
