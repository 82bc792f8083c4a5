package expr

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/types"
)

// String renders expressions for EXPLAIN, close to how PostgreSQL prints
// them: operators infix and parenthesized, casts as ::type, columns by name
// (by position, #i, when the binder gave no name).

func (e *ColumnRef) String() string {
	// A planner's own column (its name starts with a NUL, which no SQL
	// name can) prints by position.
	if e.Name != "" && e.Name[0] != 0 {
		return e.Name
	}
	return fmt.Sprintf("#%d", e.Index)
}

func (e *Const) String() string {
	if e.Value == nil {
		if e.T == types.Null || e.T == types.Unknown {
			return "NULL"
		}
		return "NULL::" + e.T.String()
	}
	switch e.T {
	case types.Int2, types.Int4, types.Int8, types.Numeric:
		return string(types.AppendDatum(nil, e.Value, e.T))
	case types.Bool:
		if e.Value == true {
			return "true"
		}
		return "false"
	case types.Unknown, types.Text:
		return quote(string(types.AppendDatum(nil, e.Value, e.T)))
	}
	return quote(string(types.AppendDatum(nil, e.Value, e.T))) + "::" + e.T.String()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (e *Param) String() string {
	if slot, ok := OuterSlot(e); ok {
		return fmt.Sprintf("$outer%d", slot+1)
	}
	return fmt.Sprintf("$%d", e.Index+1)
}

func (e *Call) String() string {
	name := e.Fn.Name
	if isOperatorName(name) {
		if len(e.Args) == 1 {
			return "(" + name + " " + e.Args[0].String() + ")"
		}
		if len(e.Args) == 2 {
			return "(" + e.Args[0].String() + " " + name + " " + e.Args[1].String() + ")"
		}
	}
	return name + "(" + joinExprs(e.Args) + ")"
}

func isOperatorName(name string) bool {
	if name == OpIsDistinctFrom || name == OpIsNotDistinctFrom {
		return true
	}
	return name != "" && !(name[0] >= 'a' && name[0] <= 'z' || name[0] == '_')
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func (e *Cast) String() string { return e.Arg.String() + "::" + e.To.String() }

func (e *And) String() string { return joinBool(e.Args, " AND ") }
func (e *Or) String() string  { return joinBool(e.Args, " OR ") }

func joinBool(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, a := range es {
		parts[i] = a.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

func (e *Not) String() string { return "(NOT " + e.Arg.String() + ")" }

func (e *IsNull) String() string {
	if e.Negate {
		return "(" + e.Arg.String() + " IS NOT NULL)"
	}
	return "(" + e.Arg.String() + " IS NULL)"
}

func (e *IsBool) String() string {
	what := "UNKNOWN"
	if e.Value != nil {
		what = "FALSE"
		if *e.Value {
			what = "TRUE"
		}
	}
	not := ""
	if e.Negate {
		not = "NOT "
	}
	return "(" + e.Arg.String() + " IS " + not + what + ")"
}

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *Coalesce) String() string { return "COALESCE(" + joinExprs(e.Args) + ")" }

func (e *NullIf) String() string {
	return "NULLIF(" + e.A.String() + ", " + e.B.String() + ")"
}

func (e *In) String() string {
	not := ""
	if e.Negate {
		not = "NOT "
	}
	return "(" + e.Arg.String() + " " + not + "IN (" + joinExprs(e.List) + "))"
}

// String renders the resolved signature, e.g. "+(integer, bigint) bigint".
func (f *Func) String() string {
	return f.Name + "(" + typeList(f.Args) + ") " + typeName(f.Ret)
}
