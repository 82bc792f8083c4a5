package parser

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgqparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/sluicedb/sluice/pgerror"
)

// characterNotInRepertoire is PostgreSQL's SQLSTATE for input that is not
// valid in the server encoding (UTF8).
const characterNotInRepertoire = pgerror.CharacterNotInRepertoire

// maxIdentifierBytes is NAMEDATALEN-1: PostgreSQL truncates longer
// identifiers, and so do we so that names agree with those inside pg_query
// nodes, which its scanner has already truncated.
const maxIdentifierBytes = 63

// token is one lexical token of the input, as PostgreSQL's own scanner cut it.
// Comments are not kept: nothing in the grammar looks at them.
type token struct {
	tok        pg_query.Token
	kw         pg_query.KeywordKind
	start, end int // byte offsets in source.sql
	// word is the case-folded text of a bare word (an unquoted identifier or
	// a keyword of any kind), and "" for every other token. Grammar code
	// matches keywords on it, so a quoted "source" never acts as a keyword.
	word string
}

// source is the whole string handed to Parse, scanned once. Every position
// this package reports refers to it.
type source struct {
	sql  string
	toks []token
	// runesBefore[b] is the number of characters in sql[:b]; nil when sql is
	// pure ASCII and byte offsets are character offsets.
	runesBefore []int32
	chars       int // number of characters in sql
}

func newSource(sql string) (*source, error) {
	if i := invalidByte(sql); i >= 0 {
		return nil, &pgerror.Error{
			Code:     characterNotInRepertoire,
			Message:  fmt.Sprintf("invalid byte sequence for encoding \"UTF8\": 0x%02x", sql[i]),
			Position: utf8.RuneCountInString(sql[:i]) + 1,
		}
	}
	s := &source{sql: sql, chars: utf8.RuneCountInString(sql)}
	if s.chars != len(sql) {
		s.runesBefore = make([]int32, len(sql)+1)
		n := int32(0)
		for b := 0; b < len(sql); b++ {
			s.runesBefore[b] = n
			if utf8.RuneStart(sql[b]) {
				n++
			}
		}
		s.runesBefore[len(sql)] = n
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, s.scanError(err)
	}
	s.toks = make([]token, 0, len(res.Tokens))
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		tk := token{tok: t.Token, kw: t.KeywordKind, start: int(t.Start), end: int(t.End)}
		if tk.start < 0 || tk.end > len(sql) || tk.start > tk.end {
			return nil, pgerror.New(pgerror.InternalError, "scanner returned token %d..%d outside of a %d-byte input", tk.start, tk.end, len(sql))
		}
		bare := t.KeywordKind != pg_query.KeywordKind_NO_KEYWORD ||
			t.Token == pg_query.Token_IDENT && tk.end > tk.start && sql[tk.start] != '"'
		if bare {
			tk.word = foldIdentifier(sql[tk.start:tk.end])
		}
		s.toks = append(s.toks, tk)
	}
	return s, nil
}

// invalidByte returns the offset of the first byte that cannot be in a
// PostgreSQL UTF8 string (a NUL or a malformed sequence), or -1.
func invalidByte(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// charOffset converts a byte offset in sql to a 0-based character offset.
func (s *source) charOffset(b int) int {
	if b < 0 {
		return -1
	}
	if b > len(s.sql) {
		b = len(s.sql)
	}
	if s.runesBefore == nil {
		return b
	}
	return int(s.runesBefore[b])
}

// position converts a byte offset in sql to a 1-based character position,
// PostgreSQL's convention for error positions.
func (s *source) position(b int) int { return s.charOffset(b) + 1 }

// text returns the source text of tokens [from, to).
func (s *source) text(from, to int) string {
	if from >= to {
		return ""
	}
	return s.sql[s.toks[from].start:s.toks[to-1].end]
}

func (s *source) tokText(i int) string { return s.sql[s.toks[i].start:s.toks[i].end] }

// tokenPosition is the 1-based position of token i, or just past the end
// of the input when i is past the last token.
func (s *source) tokenPosition(i int) int {
	if i >= len(s.toks) {
		return s.chars + 1
	}
	return s.position(s.toks[i].start)
}

// syntaxErrorAt is PostgreSQL's generic syntax error, pointing at token i or
// at the end of the input when i is past the last token.
func (s *source) syntaxErrorAt(i int) *pgerror.Error {
	e := &pgerror.Error{Code: pgerror.SyntaxError, Message: "syntax error at end of input", Position: s.tokenPosition(i)}
	if i < len(s.toks) {
		e.Message = fmt.Sprintf("syntax error at or near \"%s\"", s.tokText(i))
	}
	return e
}

// errorAt builds an error of any code pointing at token i (or the end).
func (s *source) errorAt(i int, code, format string, args ...any) *pgerror.Error {
	return pgerror.New(code, format, args...).WithPosition(s.tokenPosition(i))
}

// tokenAtOrAfter returns the index of the first token starting at or after
// byte offset b (len(toks) if none).
func (s *source) tokenAtOrAfter(b int) int {
	lo, hi := 0, len(s.toks)
	for lo < hi {
		m := (lo + hi) / 2
		if s.toks[m].start < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (s *source) scanError(err error) error {
	var qe *pgqparser.Error
	if !errors.As(err, &qe) {
		return pgerror.New(pgerror.InternalError, "scan SQL: %v", err)
	}
	return &pgerror.Error{Code: grammarErrorCode(qe.Message, qe.Funcname), Message: qe.Message, Position: qe.Cursorpos}
}

// foldIdentifier folds an unquoted identifier as PostgreSQL does: ASCII
// letters to lower case, other characters untouched, then truncated.
func foldIdentifier(s string) string {
	lower := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			lower = false
			break
		}
	}
	if !lower {
		b := []byte(s)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		s = string(b)
	}
	return truncateIdentifier(s)
}

func truncateIdentifier(s string) string {
	if len(s) <= maxIdentifierBytes {
		return s
	}
	n := maxIdentifierBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// unquoteIdentifier decodes a "..." identifier token.
func unquoteIdentifier(text string) string {
	inner := text[1 : len(text)-1]
	return truncateIdentifier(strings.ReplaceAll(inner, `""`, `"`))
}

// simpleStringLiteral decodes a plain '...' literal without escapes or
// continuation lines; ok is false when the literal needs the full rules.
func simpleStringLiteral(text string) (string, bool) {
	if len(text) < 2 || text[0] != '\'' || text[len(text)-1] != '\'' {
		return "", false
	}
	inner := text[1 : len(text)-1]
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\'' {
			if i+1 >= len(inner) || inner[i+1] != '\'' {
				return "", false
			}
			i++
		}
	}
	return strings.ReplaceAll(inner, "''", "'"), true
}
