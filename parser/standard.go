package parser

import (
	"errors"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgqparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicedb/sluice/pgerror"
)

// standardText is SQL text assembled for PostgreSQL's grammar out of pieces
// of the original statement and a little scaffolding of our own (for example
// "SELECT (" + a watermark expression + ")"). It remembers where each piece
// came from, so that error positions and node locations can be translated
// back to the original text.
type standardText struct {
	src   *source
	buf   strings.Builder
	spans []span
}

// span says that bytes [out, out+n) of the built text are bytes [in, in+n)
// of the original.
type span struct{ out, in, n int }

func (s *source) newStandardText() *standardText { return &standardText{src: s} }

// lit appends scaffolding that does not come from the original text.
func (b *standardText) lit(s string) *standardText {
	b.buf.WriteString(s)
	return b
}

// tokens appends the original text of tokens [from, to).
func (b *standardText) tokens(from, to int) *standardText {
	if from >= to {
		return b
	}
	return b.orig(b.src.toks[from].start, b.src.toks[to-1].end)
}

// orig appends the original bytes [start, end).
func (b *standardText) orig(start, end int) *standardText {
	if start >= end {
		return b
	}
	b.spans = append(b.spans, span{out: b.buf.Len(), in: start, n: end - start})
	b.buf.WriteString(b.src.sql[start:end])
	return b
}

// isIdentity reports whether offsets in the built text are already character
// offsets in the original: the text is the original from its first byte, and
// the original is ASCII.
func (b *standardText) isIdentity() bool {
	return b.src.runesBefore == nil && len(b.spans) == 1 && b.spans[0].out == 0 && b.spans[0].in == 0 && b.spans[0].n == b.buf.Len()
}

// firstOffset is the original offset of the first piece (0 if none).
func (b *standardText) firstOffset() int {
	if len(b.spans) == 0 {
		return 0
	}
	return b.spans[0].in
}

// originalOffset maps a byte offset of the built text to a byte offset of
// the original. inSpan is false when the offset is scaffolding (or the end of
// the built text); the result is then where the original text continues after
// the last piece before it, which is where PostgreSQL's grammar would have
// been looking had it read the original.
func (b *standardText) originalOffset(off int) (orig int, inSpan bool) {
	prevEnd := -1
	for _, sp := range b.spans {
		if off < sp.out {
			break
		}
		if off < sp.out+sp.n {
			return sp.in + off - sp.out, true
		}
		prevEnd = sp.in + sp.n
	}
	if prevEnd >= 0 {
		return prevEnd, false
	}
	if len(b.spans) > 0 {
		return b.spans[0].in, false
	}
	return 0, false
}

// parse hands the built text to PostgreSQL's grammar and returns the one
// statement it holds, with every location rewritten to a character offset in
// the original text.
func (b *standardText) parse() (*pg_query.Node, error) {
	text := b.buf.String()
	tree, err := pg_query.Parse(text)
	if err != nil {
		return nil, b.convertError(err)
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt == nil {
		return nil, pgerror.New(pgerror.InternalError, "parse %q: got %d statements, want 1", text, len(tree.Stmts))
	}
	node := tree.Stmts[0].Stmt
	if !b.isIdentity() {
		b.remapLocations(node.ProtoReflect())
	}
	return node, nil
}

func (b *standardText) convertError(err error) error {
	var qe *pgqparser.Error
	if !errors.As(err, &qe) {
		// pg_query fails outside the grammar only when decoding a tree that
		// is nested too deeply for protobuf (see maxChainDepth).
		return &pgerror.Error{Code: statementTooComplex, Message: "stack depth limit exceeded",
			Detail: err.Error(), Position: b.src.tokenPosition(b.src.tokenAtOrAfter(b.firstOffset()))}
	}
	e := &pgerror.Error{Code: grammarErrorCode(qe.Message, qe.Funcname), Message: qe.Message}
	if qe.Cursorpos <= 0 {
		return e
	}
	text := b.buf.String()
	off := byteOffsetOfChar(text, qe.Cursorpos-1)
	orig, inSpan := b.originalOffset(off)
	if inSpan {
		e.Position = b.src.position(orig)
		return e
	}
	// The grammar stopped on our scaffolding or at the end of the built
	// text: report the original token found there instead, as PostgreSQL
	// reading the whole statement would have.
	i := b.src.tokenAtOrAfter(orig)
	if strings.HasPrefix(qe.Message, "syntax error at ") {
		return b.src.syntaxErrorAt(i)
	}
	e.Position = b.src.tokenPosition(i)
	return e
}

// byteOffsetOfChar returns the byte offset of the n-th (0-based) character
// of s, or len(s) when s is shorter.
func byteOffsetOfChar(s string, n int) int {
	for off := range s {
		if n == 0 {
			return off
		}
		n--
	}
	return len(s)
}

// remapLocations rewrites, in place, every location field of the tree from a
// byte offset in the built text to a 0-based character offset in the
// original text. Unknown locations (-1) stay -1.
func (b *standardText) remapLocations(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for _, name := range locationFields {
		fd := fields.ByName(name)
		if fd == nil || fd.Kind() != protoreflect.Int32Kind || fd.IsList() {
			continue
		}
		loc := int(m.Get(fd).Int())
		if loc < 0 {
			continue
		}
		orig, _ := b.originalOffset(loc)
		m.Set(fd, protoreflect.ValueOfInt32(int32(b.src.charOffset(orig))))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				b.remapLocations(l.Get(i).Message())
			}
		case fd.IsMap():
			// pg_query's tree has no map fields.
		default:
			b.remapLocations(v.Message())
		}
		return true
	})
}

// locationFields are the names of the fields of pg_query nodes that hold a
// byte offset into the parsed text.
var locationFields = []protoreflect.Name{
	"location", "arg_location", "conninfo_location", "name_location", "payload_location", "stmt_location",
}

// grammarErrorCode returns the SQLSTATE PostgreSQL attaches to an error
// raised while scanning or parsing. Almost all of them are syntax errors; the
// few others are recognised by their message, taken from gram.y and scan.l.
func grammarErrorCode(msg, funcname string) string {
	// The same message comes from the scanner for E'\u...' escapes
	// (invalid_escape_sequence) and from parser.c for U&'...' strings
	// (syntax_error).
	if strings.HasPrefix(msg, "invalid Unicode escape") && msg != "invalid Unicode escape value" {
		if funcname == "core_yylex" {
			return pgerror.InvalidEscapeSequence
		}
		return pgerror.SyntaxError
	}
	for _, c := range grammarErrorPrefixes {
		if strings.HasPrefix(msg, c.text) {
			return c.code
		}
	}
	for _, c := range grammarErrorPhrases {
		if strings.Contains(msg, c.text) {
			return c.code
		}
	}
	return pgerror.SyntaxError
}

type messageCode struct{ text, code string }

var grammarErrorPrefixes = []messageCode{
	{"precision for type float must be", pgerror.InvalidParameterValue},
	{"column number must be in range", pgerror.InvalidParameterValue},
	{"unrecognized JSON encoding", pgerror.InvalidParameterValue},
	{"unrecognized partitioning strategy", pgerror.InvalidParameterValue},
	{"unsafe use of string constant with Unicode escapes", pgerror.FeatureNotSupported},
	{"unsafe use of \\' in a string literal", "22P06"}, // nonstandard_use_of_escape_character
	{"nonstandard use of", "22P06"},
	{"frame ", "42P20"}, // windowing_error
	{"modulus for hash partition", pgerror.DuplicateObject},
	{"remainder for hash partition", pgerror.DuplicateObject},
	{"role name", "42939"}, // reserved_name
	{"WITH CHECK OPTION not supported", pgerror.FeatureNotSupported},
	{"RECHECK is no longer required", pgerror.FeatureNotSupported},
	{"CREATE SCHEMA IF NOT EXISTS cannot include", pgerror.FeatureNotSupported},
	{"aggregates cannot have output arguments", pgerror.FeatureNotSupported},
	{"an ordered-set aggregate with a VARIADIC", pgerror.FeatureNotSupported},
	{"current database cannot be changed", pgerror.FeatureNotSupported},
	{"only string constants are supported in JSON_TABLE", pgerror.FeatureNotSupported},
}

var grammarErrorPhrases = []messageCode{
	{"cannot be used as a role name here", "42939"},
	{"not yet implemented", pgerror.FeatureNotSupported},
	{"is not implemented", pgerror.FeatureNotSupported},
	{"is no longer supported", pgerror.FeatureNotSupported},
	{"is not supported", pgerror.FeatureNotSupported},
	{"is only supported for", pgerror.FeatureNotSupported},
	{"cannot be marked", pgerror.FeatureNotSupported},
}

// parseStringLiteral decodes a string constant with PostgreSQL's own rules,
// for the forms simpleStringLiteral does not handle: escape strings, dollar
// quotes, Unicode strings, continuation lines.
func (s *source) parseStringLiteral(from, to int) (string, error) {
	node, err := s.newStandardText().lit("SELECT ").tokens(from, to).parse()
	if err != nil {
		return "", err
	}
	if c := singleTarget(node).GetAConst(); c != nil {
		if sv := c.GetSval(); sv != nil {
			return sv.Sval, nil
		}
	}
	return "", s.syntaxErrorAt(from)
}

// parseUnicodeIdentifier decodes a U&"..." identifier (with its optional
// UESCAPE clause) in tokens [from, to).
func (s *source) parseUnicodeIdentifier(from, to int) (string, error) {
	node, err := s.newStandardText().lit("SELECT 1 AS ").tokens(from, to).parse()
	if err != nil {
		return "", err
	}
	sel := node.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || sel.TargetList[0].GetResTarget() == nil {
		return "", s.syntaxErrorAt(from)
	}
	return sel.TargetList[0].GetResTarget().Name, nil
}

// singleTarget returns the expression of a one-column SELECT without FROM,
// or nil.
func singleTarget(n *pg_query.Node) *pg_query.Node {
	sel := n.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) != 0 {
		return nil
	}
	rt := sel.TargetList[0].GetResTarget()
	if rt == nil {
		return nil
	}
	return rt.Val
}

// describeNode names a node's type for internal error messages.
func describeNode(n *pg_query.Node) string {
	if n == nil || n.Node == nil {
		return "nothing"
	}
	name := fmt.Sprintf("%T", n.Node)
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return name
}
