package cqltest

import (
	"fmt"
	"regexp"
	"strings"
)

// The CQL the server understands: enough to create keyspaces and tables,
// write and delete rows by key, and read them back.
//
//	CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication = {...} [AND durable_writes = b]
//	CREATE TABLE [IF NOT EXISTS] [ks.]t (c type [STATIC] [PRIMARY KEY], ..., [PRIMARY KEY ((a, b), c)]) [WITH ...]
//	DROP KEYSPACE|TABLE [IF EXISTS] name; TRUNCATE [TABLE] [ks.]t; USE ks
//	INSERT INTO [ks.]t (c, ...) VALUES (v, ...) [USING TTL n | TIMESTAMP n]
//	DELETE FROM [ks.]t [USING TIMESTAMP n] WHERE k = v [AND ...]
//	SELECT * | c, ... FROM [ks.]t [WHERE c = v [AND ...]] [LIMIT n] [ALLOW FILTERING]
//
// A value is a literal or a bind marker (?).

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuotedIdent
	tString
	tInt
	tFloat
	tBlob
	tUUID
	tPunct
	tMarker
)

type token struct {
	kind tokKind
	text string
	pos  int
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

func isIdentChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case uuidRE.MatchString(s[i:]):
			toks = append(toks, token{tUUID, strings.ToLower(s[i : i+36]), i})
			i += 36
		case c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
			j := i + 2
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tBlob, strings.ToLower(s[i:j]), i})
			i = j
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i + 1
			kind := tInt
			for j < len(s) {
				d := s[j]
				if d >= '0' && d <= '9' {
					j++
				} else if d == '.' || d == 'e' || d == 'E' {
					kind = tFloat
					j++
					if (d == 'e' || d == 'E') && j < len(s) && (s[j] == '-' || s[j] == '+') {
						j++
					}
				} else {
					break
				}
			}
			toks = append(toks, token{kind, s[i:j], i})
			i = j
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, strings.ToLower(s[i:j]), i})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quote at %d", i)
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			kind := tString
			if c == '"' {
				kind = tQuotedIdent
			}
			toks = append(toks, token{kind, b.String(), i})
			i = j + 1
		case c == '?':
			toks = append(toks, token{tMarker, "?", i})
			i++
		case strings.IndexByte("(),;.=*<>{}[]:", c) >= 0:
			toks = append(toks, token{tPunct, string(c), i})
			i++
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

type litKind int

const (
	litNull litKind = iota
	litString
	litInt
	litFloat
	litBool
	litBlob
	litUUID
	litList
	litSet
	litMap
)

// literal is a constant in the query text.
type literal struct {
	kind  litKind
	text  string
	elems []*literal // list and set elements; map keys and values alternating
}

func (l *literal) String() string {
	switch l.kind {
	case litNull:
		return "null"
	case litString:
		return "'" + l.text + "'"
	case litList, litSet, litMap:
		return fmt.Sprintf("collection of %d", len(l.elems))
	}
	return l.text
}

// term is a value in a statement: a literal or the marker-th bind marker.
type term struct {
	marker int // -1 for a literal
	lit    *literal
}

type stmtKind int

const (
	stSelect stmtKind = iota
	stInsert
	stDelete
	stCreateKeyspace
	stCreateTable
	stDropKeyspace
	stDropTable
	stTruncate
	stUse
)

type cond struct {
	col string
	val term
}

type colDef struct {
	name   string
	typ    *Type
	static bool
}

// stmt is a parsed statement.
type stmt struct {
	kind      stmtKind
	ks, table string
	cols      []string // SELECT's columns (nil for *), INSERT's columns
	vals      []term   // INSERT's values
	where     []cond
	limit     int
	ifExists  bool // IF NOT EXISTS for CREATE, IF EXISTS for DROP
	markers   int
	defs      []colDef
	partition []string
	cluster   []string
	repl      map[string]string
	durable   bool
}

type parser struct {
	toks    []token
	i       int
	markers int
}

type syntaxError struct{ msg string }

func (e syntaxError) Error() string { return e.msg }

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(format string, args ...any) {
	t := p.peek()
	panic(syntaxError{fmt.Sprintf("line 1:%d %s (at %q)", t.pos, fmt.Sprintf(format, args...), t.text)})
}

func (p *parser) isKeyword(w string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == w
}

func (p *parser) keyword(w ...string) {
	for _, k := range w {
		if !p.isKeyword(k) {
			p.fail("expected %s", strings.ToUpper(k))
		}
		p.next()
	}
}

func (p *parser) acceptKeyword(w ...string) bool {
	if !p.isKeyword(w[0]) {
		return false
	}
	p.keyword(w...)
	return true
}

func (p *parser) isPunct(c string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == c
}

func (p *parser) punct(c string) {
	if !p.isPunct(c) {
		p.fail("expected %q", c)
	}
	p.next()
}

func (p *parser) ident() string {
	t := p.peek()
	if t.kind != tIdent && t.kind != tQuotedIdent {
		p.fail("expected a name")
	}
	p.next()
	return t.text
}

func (p *parser) name() (ks, table string) {
	a := p.ident()
	if p.isPunct(".") {
		p.next()
		return a, p.ident()
	}
	return "", a
}

func (p *parser) literal() *literal {
	t := p.next()
	switch t.kind {
	case tString:
		return &literal{kind: litString, text: t.text}
	case tInt:
		return &literal{kind: litInt, text: t.text}
	case tFloat:
		return &literal{kind: litFloat, text: t.text}
	case tBlob:
		return &literal{kind: litBlob, text: t.text}
	case tUUID:
		return &literal{kind: litUUID, text: t.text}
	case tIdent:
		switch t.text {
		case "true", "false":
			return &literal{kind: litBool, text: t.text}
		case "null":
			return &literal{kind: litNull}
		}
	case tPunct:
		switch t.text {
		case "[":
			l := &literal{kind: litList}
			for !p.isPunct("]") {
				if len(l.elems) > 0 {
					p.punct(",")
				}
				l.elems = append(l.elems, p.literal())
			}
			p.next()
			return l
		case "{":
			l := &literal{kind: litSet}
			for !p.isPunct("}") {
				if len(l.elems) > 0 {
					p.punct(",")
				}
				l.elems = append(l.elems, p.literal())
				if p.isPunct(":") {
					p.next()
					l.kind = litMap
					l.elems = append(l.elems, p.literal())
				}
			}
			p.next()
			return l
		}
	}
	p.i--
	p.fail("expected a value")
	return nil
}

func (p *parser) term() term {
	if p.peek().kind == tMarker {
		p.next()
		p.markers++
		return term{marker: p.markers - 1}
	}
	return term{marker: -1, lit: p.literal()}
}

func (p *parser) where() []cond {
	var conds []cond
	for {
		c := cond{col: p.ident()}
		p.punct("=")
		c.val = p.term()
		conds = append(conds, c)
		if !p.acceptKeyword("and") {
			return conds
		}
	}
}

// typeText collects the tokens of a type (int, frozen<list<text>>).
func (p *parser) typeText() *Type {
	var b strings.Builder
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF || (depth == 0 && t.kind == tPunct && (t.text == "," || t.text == ")")) ||
			(depth == 0 && t.kind == tIdent && (t.text == "primary" || t.text == "static")) {
			break
		}
		if t.kind == tPunct && t.text == "<" {
			depth++
		} else if t.kind == tPunct && t.text == ">" {
			depth--
		}
		b.WriteString(t.text)
		p.next()
	}
	typ, err := ParseType(b.String())
	if err != nil {
		p.fail("%v", err)
	}
	return typ
}

func (p *parser) identList() []string {
	p.punct("(")
	var names []string
	for !p.isPunct(")") {
		if len(names) > 0 {
			p.punct(",")
		}
		names = append(names, p.ident())
	}
	p.next()
	return names
}

// parse parses one statement.
func parse(query string) (s *stmt, err error) {
	toks, err := lex(query)
	if err != nil {
		return nil, syntaxError{err.Error()}
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			s, err = nil, se
		}
	}()
	s = p.statement()
	if p.isPunct(";") {
		p.next()
	}
	if p.peek().kind != tEOF {
		p.fail("unexpected input")
	}
	s.markers = p.markers
	return s, nil
}

func (p *parser) statement() *stmt {
	s := &stmt{limit: -1}
	switch {
	case p.acceptKeyword("select"):
		s.kind = stSelect
		if p.isPunct("*") {
			p.next()
		} else {
			for {
				s.cols = append(s.cols, p.ident())
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
		}
		p.keyword("from")
		s.ks, s.table = p.name()
		if p.acceptKeyword("where") {
			s.where = p.where()
		}
		if p.acceptKeyword("limit") {
			t := p.next()
			if t.kind != tInt {
				p.fail("expected a number")
			}
			fmt.Sscan(t.text, &s.limit)
		}
		p.acceptKeyword("allow", "filtering")
	case p.acceptKeyword("insert"):
		s.kind = stInsert
		p.keyword("into")
		s.ks, s.table = p.name()
		s.cols = p.identList()
		p.keyword("values")
		p.punct("(")
		for !p.isPunct(")") {
			if len(s.vals) > 0 {
				p.punct(",")
			}
			s.vals = append(s.vals, p.term())
		}
		p.next()
		if len(s.vals) != len(s.cols) {
			p.fail("unmatched column names/values")
		}
		if p.acceptKeyword("if", "not", "exists") {
			p.fail("lightweight transactions are not supported by the test server")
		}
		p.using()
	case p.acceptKeyword("delete"):
		s.kind = stDelete
		if !p.isKeyword("from") {
			p.fail("deleting single columns is not supported by the test server")
		}
		p.keyword("from")
		s.ks, s.table = p.name()
		p.using()
		p.keyword("where")
		s.where = p.where()
	case p.acceptKeyword("create"):
		switch {
		case p.acceptKeyword("keyspace"):
			s.kind = stCreateKeyspace
			s.ifExists = p.acceptKeyword("if", "not", "exists")
			s.ks = p.ident()
			p.keyword("with")
			s.durable = true
			for {
				opt := p.ident()
				p.punct("=")
				l := p.literal()
				switch {
				case opt == "replication" && (l.kind == litMap || l.kind == litSet && len(l.elems) == 0):
					s.repl = map[string]string{}
					for i := 0; i+1 < len(l.elems); i += 2 {
						s.repl[l.elems[i].text] = l.elems[i+1].text
					}
				case opt == "durable_writes" && l.kind == litBool:
					s.durable = l.text == "true"
				default:
					p.fail("unknown keyspace option %s", opt)
				}
				if !p.acceptKeyword("and") {
					break
				}
			}
			if s.repl["class"] == "" {
				p.fail("missing replication class")
			}
		case p.acceptKeyword("table") || p.acceptKeyword("columnfamily"):
			s.kind = stCreateTable
			s.ifExists = p.acceptKeyword("if", "not", "exists")
			s.ks, s.table = p.name()
			p.punct("(")
			for !p.isPunct(")") {
				if len(s.defs) > 0 || s.partition != nil {
					p.punct(",")
				}
				if p.acceptKeyword("primary", "key") {
					p.punct("(")
					if p.isPunct("(") {
						s.partition = p.identList()
					} else {
						s.partition = []string{p.ident()}
					}
					for p.isPunct(",") {
						p.next()
						s.cluster = append(s.cluster, p.ident())
					}
					p.punct(")")
					continue
				}
				d := colDef{name: p.ident()}
				d.typ = p.typeText()
				d.static = p.acceptKeyword("static")
				if p.acceptKeyword("primary", "key") {
					if s.partition != nil {
						p.fail("multiple primary keys")
					}
					s.partition = []string{d.name}
				}
				s.defs = append(s.defs, d)
			}
			p.next()
			if p.acceptKeyword("with") {
				// Table options (compaction, clustering order...) are
				// accepted and ignored.
				for p.peek().kind != tEOF && !p.isPunct(";") {
					p.next()
				}
			}
			if s.partition == nil {
				p.fail("no PRIMARY KEY specified")
			}
		default:
			p.fail("only CREATE KEYSPACE and CREATE TABLE are supported by the test server")
		}
	case p.acceptKeyword("drop"):
		switch {
		case p.acceptKeyword("keyspace"):
			s.kind = stDropKeyspace
			s.ifExists = p.acceptKeyword("if", "exists")
			s.ks = p.ident()
		case p.acceptKeyword("table"):
			s.kind = stDropTable
			s.ifExists = p.acceptKeyword("if", "exists")
			s.ks, s.table = p.name()
		default:
			p.fail("only DROP KEYSPACE and DROP TABLE are supported by the test server")
		}
	case p.acceptKeyword("truncate"):
		s.kind = stTruncate
		p.acceptKeyword("table")
		s.ks, s.table = p.name()
	case p.acceptKeyword("use"):
		s.kind = stUse
		s.ks = p.ident()
	default:
		p.fail("statement not supported by the test server")
	}
	return s
}

// using skips USING TTL n / USING TIMESTAMP n: the server keeps no
// timestamps and expires nothing.
func (p *parser) using() {
	if !p.acceptKeyword("using") {
		return
	}
	for {
		if !p.acceptKeyword("ttl") {
			p.keyword("timestamp")
		}
		p.term()
		if !p.acceptKeyword("and") {
			return
		}
	}
}
