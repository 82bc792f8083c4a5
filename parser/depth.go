package parser

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/sluicedb/sluice/pgerror"
)

// statementTooComplex is PostgreSQL's SQLSTATE 54001, which it reports as
// "stack depth limit exceeded" (not yet in pgerror).
const statementTooComplex = pgerror.StatementTooComplex

// maxChainDepth bounds how deep the tree of one statement may grow through
// left-recursive constructs. PostgreSQL's grammar builds a left-deep tree for
// a chain of binary operators (1+1+1...), of set operations (SELECT ...
// UNION SELECT ...) and of joins, one level per link, with no limit of its
// own: PostgreSQL refuses such a statement later, in analysis, with "stack
// depth limit exceeded" (at about 5000 links with its default settings).
// pg_query has no such check: its C code serialising the tree recurses once
// per level and overflows the thread's stack (killing the process) between
// 20,000 and 50,000 links, and its Go side refuses trees deeper than 10,000
// messages (about 5,000 links). So such statements are refused before they
// reach pg_query. Nesting in parentheses, CASE and prefix operators is
// bounded by the parser's own stack (about 4,000 levels, "memory exhausted")
// and stays far from the crash.
const maxChainDepth = 5000

// tooDeep returns an error when the statement in tokens [lo, hi) would make
// a tree deeper than maxChainDepth links. It estimates from the tokens, per
// nesting level (parentheses, brackets, CASE ... END): the operators of the
// current operand chain (ended by a comma, AND, OR, WHEN, THEN, ELSE or a
// clause keyword, which all start a sibling subtree), the joins of the
// current FROM item (ended by a comma), and the set operations (never
// ended). The estimate for a token is the sum over the levels enclosing it.
func (s *source) tooDeep(lo, hi int) error {
	type level struct{ ops, joins, setOps int }
	levels := []level{{}}
	total := 0
	reset := func(n *int) {
		total -= *n
		*n = 0
	}
	for i := lo; i < hi; i++ {
		t := &s.toks[i]
		top := &levels[len(levels)-1]
		switch {
		case t.tok == pg_query.Token_ASCII_40 || t.tok == pg_query.Token_ASCII_91 || t.word == "case":
			levels = append(levels, level{})
			continue
		case t.tok == pg_query.Token_ASCII_41 || t.tok == pg_query.Token_ASCII_93 || t.word == "end":
			if len(levels) > 1 {
				total -= top.ops + top.joins + top.setOps
				levels = levels[:len(levels)-1]
			}
			continue
		case t.tok == pg_query.Token_ASCII_44:
			reset(&top.ops)
			reset(&top.joins)
			continue
		case chainBreakers[t.word]:
			reset(&top.ops)
			continue
		case t.word == "join":
			top.joins++
		case t.word == "union" || t.word == "intersect" || t.word == "except":
			top.setOps++
		case chainOperatorTokens[t.tok] || chainOperatorWords[t.word]:
			top.ops++
		default:
			continue
		}
		total++
		if total > maxChainDepth {
			return &pgerror.Error{
				Code:     statementTooComplex,
				Message:  "stack depth limit exceeded",
				Hint:     "The statement chains more than 5000 operators, joins or set operations; split it up.",
				Position: s.tokenPosition(i),
			}
		}
	}
	return nil
}

// chainOperatorTokens are the operator tokens, each of which may add a level.
var chainOperatorTokens = map[pg_query.Token]bool{
	pg_query.Token_Op: true, pg_query.Token_ASCII_43: true, pg_query.Token_ASCII_45: true,
	pg_query.Token_ASCII_42: true, pg_query.Token_ASCII_47: true, pg_query.Token_ASCII_37: true,
	pg_query.Token_ASCII_94: true, pg_query.Token_ASCII_60: true, pg_query.Token_ASCII_62: true,
	pg_query.Token_ASCII_61: true, pg_query.Token_TYPECAST: true, pg_query.Token_LESS_EQUALS: true,
	pg_query.Token_GREATER_EQUALS: true, pg_query.Token_NOT_EQUALS: true,
}

// chainOperatorWords are the keywords that act as operators.
var chainOperatorWords = map[string]bool{
	"is": true, "isnull": true, "notnull": true, "not": true, "like": true, "ilike": true,
	"similar": true, "between": true, "in": true, "collate": true, "at": true,
	"overlaps": true, "operator": true,
}

// chainBreakers are the words after which a new operand chain starts.
var chainBreakers = map[string]bool{
	"and": true, "or": true, "when": true, "then": true, "else": true,
	"select": true, "from": true, "where": true, "having": true, "on": true,
	"group": true, "order": true, "limit": true, "offset": true, "returning": true,
	"values": true, "set": true,
}
