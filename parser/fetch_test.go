package parser

import "testing"

func TestFetchWithTimeout(t *testing.T) {
	for _, c := range []struct {
		sql     string
		count   int64
		cursor  string
		options int
	}{
		{"FETCH 10 c", 10, "c", 0},
		{"FETCH ALL FROM c WITH (timeout = '1s')", 0x7fffffffffffffff, "c", 1},
		{"fetch 3 in cur with (timeout = '0s')", 3, "cur", 1},
	} {
		stmts, err := Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		f, ok := stmts[0].(*Fetch)
		if !ok {
			t.Fatalf("%s: got %T", c.sql, stmts[0])
		}
		if f.Stmt.HowMany != c.count || f.Stmt.Portalname != c.cursor || len(f.Options) != c.options {
			t.Fatalf("%s: how many %d, cursor %q, %d options", c.sql, f.Stmt.HowMany, f.Stmt.Portalname, len(f.Options))
		}
	}
}
