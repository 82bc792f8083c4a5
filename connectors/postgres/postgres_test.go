package postgres

import (
	"testing"

	"github.com/sluicedb/sluice/pgerror"
)

// TestOptionsAreDocumented checks the declarations the README's table is
// made from; go test -run TestOptionsAreDocumented -v prints the table.
func TestOptionsAreDocumented(t *testing.T) {
	c := Connector()
	if c.NewSource != nil || c.Sink == nil {
		t.Fatal("the postgres connector is a sink only")
	}
	for _, o := range c.Sink.Options {
		if o.Doc == "" {
			t.Errorf("option %q has no Doc", o.Key)
		}
	}
	t.Logf("\n%s", c.SinkOptions().OptionsMarkdown())
}

func TestConnString(t *testing.T) {
	tests := []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{optURL: "postgres://u:p@db:6000/shop?sslmode=require"},
			"postgres://u:p@db:6000/shop?connect_timeout=10&sslmode=require"},
		{map[string]string{optURL: "postgresql://u@db/shop"},
			"postgresql://u@db:5432/shop?connect_timeout=10"},
		{map[string]string{optHost: "db", optUser: "u", optPassword: "p w", optDatabase: "shop"},
			"postgres://u:p%20w@db:5432/shop?connect_timeout=10"},
		{map[string]string{optHost: "::1", optPort: "6543", optSSLMode: "disable"},
			"postgres://[::1]:6543/?connect_timeout=10&sslmode=disable"},
		{map[string]string{optURL: "postgres://u:secret@db:6000/shop?connect_timeout=3", optHost: "other", optPassword: "new",
			optDatabase: "d2", optPort: "7000"},
			"postgres://u:new@other:7000/d2?connect_timeout=3"},
	}
	for _, tc := range tests {
		opts, err := Connector().SinkOptions().Validate(withTable(tc.opts))
		if err != nil {
			t.Fatal(err)
		}
		got, err := connString(opts)
		if err != nil {
			t.Errorf("%v: %v", tc.opts, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.opts, got, tc.want)
		}
	}
	for _, bad := range []map[string]string{
		{},
		{optURL: "mysql://db/x"},
		{optHost: "db", optPort: "70000"},
	} {
		opts, err := Connector().SinkOptions().Validate(withTable(bad))
		if err == nil {
			_, err = connString(opts)
		}
		if got := pgerror.Code(err); got != pgerror.InvalidParameterValue {
			t.Errorf("%v: got SQLSTATE %s (%v), want 22023", bad, got, err)
		}
	}
}

func withTable(opts map[string]string) map[string]string {
	out := map[string]string{optTable: "t"}
	for k, v := range opts {
		out[k] = v
	}
	return out
}
