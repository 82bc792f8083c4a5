package parser

import (
	"fmt"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// render prints a statement in a compact, deterministic form that the tests
// compare against: one line for the statement, one indented line per part.
// Standard parts are printed by pg_query's deparser, so the expectations
// show what PostgreSQL's grammar made of them.
func render(t *testing.T, st Statement) string {
	t.Helper()
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, "\n  "+format, args...) }
	name := func(n ObjectName) string {
		if n.Schema != "" {
			return n.Schema + "." + n.Name
		}
		return n.Name
	}
	ifNotExists := func(v bool) string {
		if v {
			return " IF NOT EXISTS"
		}
		return ""
	}
	columns := func(cols []ColumnDef) {
		for _, c := range cols {
			s := "column " + c.Name + " " + renderType(c.Type)
			if c.NotNull {
				s += " NOT NULL"
			}
			if c.PrimaryKey {
				s += " PRIMARY KEY"
			}
			line("%s @%d", s, c.Pos)
		}
	}
	watermarks := func(ws []Watermark) {
		for _, w := range ws {
			line("watermark %s @%d AS %s", w.Column, w.Pos, deparseExpr(t, w.Expr))
		}
	}
	options := func(opts []Option) {
		for _, o := range opts {
			line("option %s = %s @%d", o.Key, o.Value, o.Pos)
		}
	}
	format := func(f *Format) {
		if f == nil {
			return
		}
		var opts []string
		for _, o := range f.Options {
			opts = append(opts, fmt.Sprintf("%s = %s @%d", o.Key, o.Value, o.Pos))
		}
		line("format %s ENCODE %s (%s)", f.Format, f.Encode, strings.Join(opts, ", "))
	}
	emit := func(v bool) {
		if v {
			line("EMIT ON WINDOW CLOSE")
		}
	}

	switch s := st.(type) {
	case *PGStatement:
		fmt.Fprintf(&b, "PG %s: %s", describeNode(s.Node), deparse(t, s.Node))
	case *Fetch:
		fmt.Fprintf(&b, "FETCH %d %s options=%d", s.Stmt.HowMany, s.Stmt.Portalname, len(s.Options))
	case *CreateSource:
		fmt.Fprintf(&b, "CREATE SOURCE%s %s", ifNotExists(s.IfNotExists), name(s.Name))
		columns(s.Columns)
		watermarks(s.Watermarks)
		for _, inc := range s.Includes {
			line("include %s AS %q", inc.What, inc.Alias)
		}
		options(s.Options)
		format(s.Format)
	case *CreateTable:
		fmt.Fprintf(&b, "CREATE TABLE%s %s", ifNotExists(s.IfNotExists), name(s.Name))
		columns(s.Columns)
		if s.PrimaryKey != nil {
			line("primary key (%s)", strings.Join(s.PrimaryKey, ", "))
		}
		watermarks(s.Watermarks)
		if s.AppendOnly {
			line("APPEND ONLY")
		}
		options(s.Options)
		format(s.Format)
	case *CreateMaterializedView:
		fmt.Fprintf(&b, "CREATE MATERIALIZED VIEW%s %s", ifNotExists(s.IfNotExists), name(s.Name))
		line("query %q", s.QueryText)
		line("AS %s", deparse(t, s.Query))
		emit(s.EmitOnWindowClose)
	case *CreateSink:
		fmt.Fprintf(&b, "CREATE SINK%s %s", ifNotExists(s.IfNotExists), name(s.Name))
		if s.From != nil {
			line("FROM %s", name(*s.From))
		}
		if s.Query != nil {
			line("query %q", s.QueryText)
			line("AS %s", deparse(t, s.Query))
		}
		emit(s.EmitOnWindowClose)
		options(s.Options)
		format(s.Format)
	case *Show:
		fmt.Fprintf(&b, "SHOW %s", s.Object)
		if s.Name != nil {
			fmt.Fprintf(&b, " %s", name(*s.Name))
		}
	case *Describe:
		fmt.Fprintf(&b, "DESCRIBE %s", name(s.Name))
	case *Drop:
		var names []string
		for _, n := range s.Names {
			names = append(names, name(n))
		}
		fmt.Fprintf(&b, "DROP %s", s.Kind)
		if s.IfExists {
			b.WriteString(" IF EXISTS")
		}
		fmt.Fprintf(&b, " %s", strings.Join(names, ", "))
		if s.Cascade {
			b.WriteString(" CASCADE")
		}
	case *Explain:
		b.WriteString("EXPLAIN")
		if s.Verbose {
			b.WriteString(" VERBOSE")
		}
		fmt.Fprintf(&b, " [%s]", s.Statement.Text())
		b.WriteString(strings.ReplaceAll("\n"+render(t, s.Statement), "\n", "\n  "))
	case *Flush:
		b.WriteString("FLUSH")
	case *Subscribe:
		b.WriteString(renderSubscribe(t, s))
	case *DeclareSubscribe:
		fmt.Fprintf(&b, "DECLARE %s options=%#x", s.Cursor.Portalname, s.Cursor.Options)
		line("%s", renderSubscribe(t, s.Subscribe))
	case *CopySubscribe:
		var opts []string
		for _, o := range s.Copy.Options {
			v, _ := defElemValue(o.GetDefElem().Arg)
			opts = append(opts, o.GetDefElem().Defname+" "+v)
		}
		fmt.Fprintf(&b, "COPY TO stdout=%v file=%q (%s)", s.Copy.Filename == "", s.Copy.Filename, strings.Join(opts, ", "))
		line("%s", renderSubscribe(t, s.Subscribe))
	default:
		t.Fatalf("render: unexpected statement %T", st)
	}
	return b.String()
}

func renderSubscribe(t *testing.T, s *Subscribe) string {
	if s.Name != nil {
		if s.Name.Schema != "" {
			return "SUBSCRIBE " + s.Name.Schema + "." + s.Name.Name
		}
		return "SUBSCRIBE " + s.Name.Name
	}
	return fmt.Sprintf("SUBSCRIBE query %q AS %s", s.QueryText, deparse(t, s.Query))
}

func renderType(tn *pg_query.TypeName) string {
	var parts []string
	for _, n := range tn.Names {
		parts = append(parts, n.GetString_().GetSval())
	}
	s := strings.Join(parts, ".")
	if len(tn.Typmods) > 0 {
		var mods []string
		for _, m := range tn.Typmods {
			mods = append(mods, fmt.Sprint(m.GetAConst().GetIval().GetIval()))
		}
		s += "(" + strings.Join(mods, ",") + ")"
	}
	for range tn.ArrayBounds {
		s += "[]"
	}
	return s
}

func deparse(t *testing.T, n *pg_query.Node) string {
	t.Helper()
	// The deparser insists on the tree version of the library's grammar.
	probe, err := pg_query.Parse("SELECT")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pg_query.Deparse(&pg_query.ParseResult{Version: probe.Version, Stmts: []*pg_query.RawStmt{{Stmt: n}}})
	if err != nil {
		t.Fatalf("deparse %s: %v", describeNode(n), err)
	}
	return out
}

func deparseExpr(t *testing.T, expr *pg_query.Node) string {
	t.Helper()
	sel := &pg_query.SelectStmt{TargetList: []*pg_query.Node{pg_query.MakeResTargetNodeWithVal(expr, -1)}}
	return strings.TrimPrefix(deparse(t, &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}), "SELECT ")
}
