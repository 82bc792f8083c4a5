package connectors

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/sluicedb/sluice/pgerror"
)

var testConnector = Connector{
	Name: "test",
	Doc:  "A connector for tests.",
	Options: []Option{
		{Key: "path", Type: OptString, Required: true, Doc: "Where | to read."},
		{Key: "batch.size", Type: OptInt, Default: "1024", Doc: "Rows per batch."},
		{Key: "ratio", Type: OptFloat, Doc: "A number."},
		{Key: "follow", Type: OptBool, Default: "true", Doc: "Whether to follow."},
		{Key: "poll.interval", Type: OptDuration, Default: "100ms", Doc: "How often to poll."},
		{Key: "scan.startup.mode", Type: OptEnum, Default: "earliest", Values: []string{"earliest", "latest"}, Doc: "Where to start."},
		{Key: "legacy.mode", Type: OptEnum, Doc: "Old style: one of `fast`, `slow` or `auto`."},
		{Key: "fields.*.kind", Type: OptEnum, Values: []string{"random", "sequence"}, Doc: "Generator kind."},
		{Key: "fields.*.max", Type: OptFloat, Doc: "Largest value."},
		{Key: "fields.*.max_past", Type: OptDuration, Doc: "How far back."},
	},
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want string // the options as a sorted list, or "error CODE: message"
	}{
		{"defaults are filled in", map[string]string{"path": "/x"},
			"[batch.size=1024 follow=true path=/x poll.interval=100ms scan.startup.mode=earliest]"},
		{"keys ignore case and take the declared spelling", map[string]string{"PATH": "/x", "Scan.Startup.Mode": "LATEST", "connector": "test"},
			"[batch.size=1024 follow=true path=/x poll.interval=100ms scan.startup.mode=latest]"},
		{"values are checked and canonical", map[string]string{"path": "/x", "batch.size": " 7 ", "ratio": "0.5", "follow": "off", "poll.interval": "250"},
			"[batch.size=7 follow=false path=/x poll.interval=250 ratio=0.5 scan.startup.mode=earliest]"},
		{"family members keep their middle as written", map[string]string{"path": "/x", "fields.Price.KIND": "Sequence", "fields.a.b.max": "3", "fields.v.max_past": "5s"},
			"[batch.size=1024 fields.Price.kind=sequence fields.a.b.max=3 fields.v.max_past=5s follow=true path=/x poll.interval=100ms scan.startup.mode=earliest]"},
		{"enum values from the doc", map[string]string{"path": "/x", "legacy.mode": "Auto"},
			"[batch.size=1024 follow=true legacy.mode=auto path=/x poll.interval=100ms scan.startup.mode=earliest]"},
		{"unknown key", map[string]string{"path": "/x", "batch.sise": "1"},
			"error 22023: unknown option \"batch.sise\" for connector test (known options: batch.size, fields.*.kind, fields.*.max, " +
				"fields.*.max_past, follow, legacy.mode, path, poll.interval, ratio, scan.startup.mode)"},
		{"family without a middle", map[string]string{"path": "/x", "fields..kind": "random"},
			"error 22023: unknown option \"fields..kind\" for connector test (known options: batch.size, fields.*.kind, fields.*.max, " +
				"fields.*.max_past, follow, legacy.mode, path, poll.interval, ratio, scan.startup.mode)"},
		{"missing required", map[string]string{}, `error 22023: option "path" is required for connector test`},
		{"same key twice", map[string]string{"path": "/x", "PATH": "/y"}, `error 42601: conflicting or redundant options: "path" is given more than once`},
		{"bad integer", map[string]string{"path": "/x", "batch.size": "1.5"}, `error 22023: invalid value for option "batch.size": "1.5" is not an integer`},
		{"bad number", map[string]string{"path": "/x", "ratio": "NaN"}, `error 22023: invalid value for option "ratio": "NaN" is not a number`},
		{"bad boolean", map[string]string{"path": "/x", "follow": "maybe"}, `error 22023: invalid value for option "follow": "maybe" is not a boolean`},
		{"negative duration", map[string]string{"path": "/x", "poll.interval": "-1s"},
			`error 22023: invalid value for option "poll.interval": "-1s" is not a duration (such as '5s', '100ms', or a number of milliseconds)`},
		{"bad enum", map[string]string{"path": "/x", "scan.startup.mode": "now"},
			`error 22023: invalid value for option "scan.startup.mode": "now" is not one of earliest, latest`},
		{"bad family value", map[string]string{"path": "/x", "fields.x.max": "big"},
			`error 22023: invalid value for option "fields.x.max": "big" is not a number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := testConnector.Validate(tc.in)
			var got string
			if err != nil {
				got = fmt.Sprintf("error %s: %s", pgerror.Code(err), err)
			} else {
				var kv []string
				for k, v := range opts {
					kv = append(kv, k+"="+v)
				}
				sort.Strings(kv)
				got = fmt.Sprint(kv)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestUnknownOptionSuggestsTheNearest(t *testing.T) {
	_, err := testConnector.Validate(map[string]string{"path": "/x", "pol.interval": "1s"})
	pe, ok := err.(*pgerror.Error)
	if !ok || pe.Hint != `Did you mean "poll.interval"?` {
		t.Errorf("got %#v", err)
	}
	_, err = testConnector.Validate(map[string]string{"path": "/x", "zzz": "1"})
	if pe := err.(*pgerror.Error); pe.Hint != "" {
		t.Errorf("no suggestion expected, got %q", pe.Hint)
	}
}

func TestGetters(t *testing.T) {
	opts, err := testConnector.Validate(map[string]string{"path": "/x", "ratio": "2.5", "fields.Col.max": "9"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := opts.Int("batch.size"); n != 1024 || err != nil {
		t.Errorf("Int: %d, %v", n, err)
	}
	if f, err := opts.Float("ratio"); f != 2.5 || err != nil {
		t.Errorf("Float: %v, %v", f, err)
	}
	if b, err := opts.Bool("follow"); !b || err != nil {
		t.Errorf("Bool: %v, %v", b, err)
	}
	if d, err := opts.Duration("poll.interval"); d != 100*time.Millisecond || err != nil {
		t.Errorf("Duration: %v, %v", d, err)
	}
	if s := opts.String("path"); s != "/x" {
		t.Errorf("String: %q", s)
	}
	if v, ok := opts.Lookup("fields.col.max"); !ok || v != "9" {
		t.Errorf("Lookup ignoring case: %q, %v", v, ok)
	}
	if _, err := opts.Int("missing"); pgerror.Code(err) != pgerror.InvalidParameterValue || err.Error() != `option "missing" is not set` {
		t.Errorf("missing: %v", err)
	}
	if _, err := (Options{"x": "1m"}).Int("x"); err == nil || err.Error() != `invalid value for option "x": "1m" is not an integer` {
		t.Errorf("bad: %v", err)
	}
	if d, err := (Options{"x": "1500"}).Duration("x"); d != 1500*time.Millisecond || err != nil {
		t.Errorf("milliseconds: %v, %v", d, err)
	}
}

func TestOptionsMarkdown(t *testing.T) {
	c := Connector{Name: "t", Options: []Option{
		{Key: "path", Type: OptString, Required: true, Doc: "A | B."},
		{Key: "mode", Type: OptEnum, Default: "earliest", Values: []string{"earliest", "latest"}, Doc: "Start."},
	}}
	want := "| Option | Type | Default | Required | Description |\n" +
		"| --- | --- | --- | --- | --- |\n" +
		"| `path` | string |  | yes | A \\| B. |\n" +
		"| `mode` | enum: `earliest`, `latest` | `earliest` | no | Start. |\n"
	if got := c.OptionsMarkdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Connector{Name: "nexmark"}, Connector{Name: "datagen"}, Connector{Name: "file"})
	var names []string
	for _, c := range r.All() {
		names = append(names, c.Name)
	}
	if fmt.Sprint(names) != "[datagen file nexmark]" || fmt.Sprint(r.Names()) != "[datagen file nexmark]" {
		t.Errorf("All: %v, Names: %v", names, r.Names())
	}
	if c, ok := r.Lookup("File"); !ok || c.Name != "file" {
		t.Errorf("Lookup ignores case: %v %v", c.Name, ok)
	}
	if _, ok := r.Lookup("kafka"); ok {
		t.Error("Lookup of an unlisted connector")
	}
	defer func() {
		if recover() == nil {
			t.Error("a connector listed twice does not panic")
		}
	}()
	NewRegistry(Connector{Name: "file"}, Connector{Name: "FILE"})
}
