package parser

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// identifier parses one identifier at the cursor. With anyKeyword false it
// follows PostgreSQL's ColId (reserved and type/function-name keywords are
// refused, as in a table or column name); with true it follows ColLabel (any
// keyword, as after a dot).
func (p *stmtParser) identifier(anyKeyword bool) (string, error) {
	if p.atEnd() {
		return "", p.errHere()
	}
	t := p.src.toks[p.i]
	switch {
	case t.tok == pg_query.Token_IDENT && t.word == "":
		p.i++
		return unquoteIdentifier(p.src.tokText(p.i - 1)), nil
	case t.tok == pg_query.Token_UIDENT:
		from := p.i
		p.i++
		if p.word() == "uescape" && p.tokAt(p.i+1) == pg_query.Token_SCONST {
			p.i += 2
		}
		return p.src.parseUnicodeIdentifier(from, p.i)
	case t.word == "":
		return "", p.errHere()
	case t.kw == pg_query.KeywordKind_NO_KEYWORD,
		t.kw == pg_query.KeywordKind_UNRESERVED_KEYWORD,
		t.kw == pg_query.KeywordKind_COL_NAME_KEYWORD,
		anyKeyword:
		p.i++
		return t.word, nil
	}
	return "", p.errHere()
}

// objectName parses name or schema.name.
func (p *stmtParser) objectName() (ObjectName, error) {
	first := p.i
	part, err := p.identifier(false)
	if err != nil {
		return ObjectName{}, err
	}
	parts := []string{part}
	for p.is(pg_query.Token_ASCII_46) {
		p.i++
		part, err := p.identifier(true)
		if err != nil {
			return ObjectName{}, err
		}
		parts = append(parts, part)
	}
	switch len(parts) {
	case 1:
		return ObjectName{Name: parts[0]}, nil
	case 2:
		return ObjectName{Schema: parts[0], Name: parts[1]}, nil
	case 3:
		return ObjectName{}, p.errorAt(first, pgerror.FeatureNotSupported,
			"cross-database references are not implemented: %s", strings.Join(parts, "."))
	}
	return ObjectName{}, p.errorAt(first, pgerror.SyntaxError,
		"improper qualified name (too many dotted names): %s", strings.Join(parts, "."))
}

// stringLiteral decodes the string constant in tokens [i, end): one token,
// or a Unicode string followed by its UESCAPE clause.
func (p *stmtParser) stringLiteral(i, end int) (string, error) {
	if v, ok := simpleStringLiteral(p.src.tokText(i)); ok && end == i+1 {
		return v, nil
	}
	return p.src.parseStringLiteral(i, end)
}

// stringConstant parses a string constant at the cursor, including the
// U&'...' [UESCAPE '...'] form.
func (p *stmtParser) stringConstant() (string, error) {
	from := p.i
	switch p.tokAt(p.i) {
	case pg_query.Token_SCONST:
		p.i++
	case pg_query.Token_USCONST:
		p.i++
		if p.word() == "uescape" && p.tokAt(p.i+1) == pg_query.Token_SCONST {
			p.i += 2
		}
	default:
		return "", p.errHere()
	}
	return p.stringLiteral(from, p.i)
}

func (p *stmtParser) isString() bool {
	t := p.tokAt(p.i)
	return t == pg_query.Token_SCONST || t == pg_query.Token_USCONST
}

// optionList parses ( key = value [, ...] ) at the cursor.
func (p *stmtParser) optionList() ([]Option, error) {
	if err := p.expect(pg_query.Token_ASCII_40); err != nil {
		return nil, err
	}
	var opts []Option
	for {
		keyTok := p.i
		key, err := p.optionKey()
		if err != nil {
			return nil, err
		}
		for _, o := range opts {
			if o.Key == key {
				return nil, p.errorAt(keyTok, pgerror.InvalidParameterValue, "option \"%s\" specified more than once", key)
			}
		}
		if err := p.expect(pg_query.Token_ASCII_61); err != nil {
			return nil, err
		}
		value, err := p.optionValue()
		if err != nil {
			return nil, err
		}
		opts = append(opts, Option{Key: key, Value: value, Pos: p.position(keyTok)})
		if p.accept(pg_query.Token_ASCII_41) {
			return opts, nil
		}
		if err := p.expect(pg_query.Token_ASCII_44); err != nil {
			return nil, err
		}
	}
}

// optionKey is a quoted string or dotted bare names.
func (p *stmtParser) optionKey() (string, error) {
	if p.isString() {
		return p.stringConstant()
	}
	part, err := p.identifier(true)
	if err != nil {
		return "", err
	}
	key := part
	for p.is(pg_query.Token_ASCII_46) {
		p.i++
		part, err := p.identifier(true)
		if err != nil {
			return "", err
		}
		key += "." + part
	}
	return key, nil
}

// optionValue is a string, a signed number, or a bare word.
func (p *stmtParser) optionValue() (string, error) {
	if p.isString() {
		return p.stringConstant()
	}
	sign := ""
	if p.is(pg_query.Token_ASCII_45) || p.is(pg_query.Token_ASCII_43) {
		sign = p.src.tokText(p.i)
		p.i++
	}
	if p.is(pg_query.Token_ICONST) || p.is(pg_query.Token_FCONST) {
		p.i++
		return sign + p.src.tokText(p.i-1), nil
	}
	if sign != "" {
		return "", p.errHere()
	}
	if p.is(pg_query.Token_IDENT) || p.word() != "" {
		return p.identifier(true)
	}
	return "", p.errHere()
}

// The FORMAT and ENCODE words the grammar knows; which combinations a
// connector accepts is the connector's business.
var (
	formatWords = []string{"PLAIN", "UPSERT", "DEBEZIUM"}
	encodeWords = []string{"JSON", "CSV", "PARQUET", "AVRO", "PROTOBUF", "BYTES"}
)

// format parses FORMAT f ENCODE e [( options )] when the cursor is on
// FORMAT, and returns nil otherwise.
func (p *stmtParser) format() (*Format, error) {
	if p.word() != "format" {
		return nil, nil
	}
	p.i++
	f, err := p.formatWord("FORMAT", formatWords)
	if err != nil {
		return nil, err
	}
	if err := p.expectWords("encode"); err != nil {
		return nil, err
	}
	e, err := p.formatWord("ENCODE", encodeWords)
	if err != nil {
		return nil, err
	}
	format := &Format{Format: f, Encode: e}
	if p.is(pg_query.Token_ASCII_40) {
		if format.Options, err = p.optionList(); err != nil {
			return nil, err
		}
	}
	return format, nil
}

func (p *stmtParser) formatWord(clause string, known []string) (string, error) {
	w := strings.ToUpper(p.word())
	if w == "" {
		return "", p.errHere()
	}
	for _, k := range known {
		if w == k {
			p.i++
			return w, nil
		}
	}
	return "", p.errorAt(p.i, pgerror.InvalidParameterValue, "unrecognized %s \"%s\"", clause, p.src.tokText(p.i)).
		WithHint("%s is one of %s.", clause, strings.Join(known, ", "))
}

// includeWords are the pieces of connector metadata INCLUDE can add.
var includeWords = []string{"key", "partition", "offset", "timestamp", "topic"}

// includes parses any number of INCLUDE what [AS alias].
func (p *stmtParser) includes() ([]Include, error) {
	var incs []Include
	for p.word() == "include" {
		p.i++
		what := p.word()
		known := false
		for _, k := range includeWords {
			known = known || what == k
		}
		if !known {
			if what == "" {
				return nil, p.errHere()
			}
			return nil, p.errorAt(p.i, pgerror.InvalidParameterValue, "unrecognized INCLUDE \"%s\"", p.src.tokText(p.i)).
				WithHint("INCLUDE is one of %s.", strings.Join(includeWords, ", "))
		}
		for _, inc := range incs {
			if inc.What == what {
				return nil, p.errorAt(p.i, pgerror.InvalidParameterValue, "INCLUDE %s specified more than once", what)
			}
		}
		p.i++
		inc := Include{What: what}
		if p.acceptWords("as") {
			alias, err := p.identifier(false)
			if err != nil {
				return nil, err
			}
			inc.Alias = alias
		}
		incs = append(incs, inc)
	}
	return incs, nil
}

// ifNotExists consumes IF NOT EXISTS.
func (p *stmtParser) ifNotExists() bool { return p.acceptWords("if", "not", "exists") }

// defElemValue renders the argument of a pg_query DefElem as text.
func defElemValue(n *pg_query.Node) (string, bool) {
	switch v := n.GetNode().(type) {
	case nil:
		return "", false
	case *pg_query.Node_String_:
		return v.String_.Sval, true
	case *pg_query.Node_Integer:
		return fmt.Sprint(v.Integer.Ival), true
	case *pg_query.Node_Float:
		return v.Float.Fval, true
	case *pg_query.Node_Boolean:
		return fmt.Sprint(v.Boolean.Boolval), true
	}
	return "", true
}
