package connectors

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/pgerror"
)

// ConnectorKey is the WITH option that names the connector. It is not one of
// a connector's declared Options, and Validate ignores it.
const ConnectorKey = "connector"

// Validate checks the WITH options of a CREATE SOURCE against the connector's
// declared options and returns them with defaults filled in.
//
// Keys are matched case-insensitively and stored under their declared
// spelling; for a family such as fields.*.kind the part matched by * is kept
// as written. Values are checked against the option's type (enum values and
// booleans are stored in canonical form, other typed values trimmed). The
// Default of a family is not filled in, since its members are not known
// here: the connector applies it to each member it looks up. Every error is a *pgerror.Error with
// SQLSTATE 22023 (invalid_parameter_value), except a key given twice in
// different cases, which is 42601 as PostgreSQL reports redundant options.
func (c Connector) Validate(opts map[string]string) (Options, error) {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic: the first bad key in order is reported

	out := make(Options, len(opts)+len(c.Options))
	for _, k := range keys {
		if strings.EqualFold(k, ConnectorKey) {
			continue
		}
		decl, canonical, ok := c.findOption(k)
		if !ok {
			return nil, c.unknownOption(k)
		}
		if _, dup := out[canonical]; dup {
			return nil, pgerror.New(pgerror.SyntaxError,
				"conflicting or redundant options: %q is given more than once", canonical)
		}
		v, err := checkValue(decl, canonical, opts[k])
		if err != nil {
			return nil, err
		}
		out[canonical] = v
	}
	for _, decl := range c.Options {
		if isFamily(decl.Key) {
			continue
		}
		if _, set := out[decl.Key]; set {
			continue
		}
		if decl.Required {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"option %q is required for connector %s", decl.Key, c.Name).
				WithHint("%s", decl.Doc)
		}
		if decl.Default != "" {
			out[decl.Key] = decl.Default
		}
	}
	return out, nil
}

// findOption finds the declaration that key (as written) refers to and the
// key's canonical spelling. A plain key wins over a family; among families
// the one with the longest fixed part wins, so fields.x.max_past is not taken
// for fields.*.max.
func (c Connector) findOption(key string) (Option, string, bool) {
	for _, o := range c.Options {
		if !isFamily(o.Key) && strings.EqualFold(o.Key, key) {
			return o, o.Key, true
		}
	}
	var (
		best      Option
		canonical string
		bestFixed = -1
	)
	for _, o := range c.Options {
		if !isFamily(o.Key) {
			continue
		}
		prefix, suffix, _ := strings.Cut(o.Key, "*")
		if len(key) <= len(prefix)+len(suffix) ||
			!strings.EqualFold(key[:len(prefix)], prefix) ||
			!strings.EqualFold(key[len(key)-len(suffix):], suffix) {
			continue
		}
		if fixed := len(prefix) + len(suffix); fixed > bestFixed {
			best, bestFixed = o, fixed
			canonical = prefix + key[len(prefix):len(key)-len(suffix)] + suffix
		}
	}
	return best, canonical, bestFixed >= 0
}

func isFamily(key string) bool { return strings.Contains(key, "*") }

func (c Connector) unknownOption(key string) error {
	known := make([]string, len(c.Options))
	for i, o := range c.Options {
		known[i] = o.Key
	}
	sort.Strings(known)
	e := pgerror.New(pgerror.InvalidParameterValue,
		"unknown option %q for connector %s (known options: %s)", key, c.Name, strings.Join(known, ", "))
	if near := nearest(strings.ToLower(key), known); near != "" {
		e = e.WithHint("Did you mean %q?", near)
	}
	return e
}

// nearest returns the known key closest to key by edit distance, if it is
// close enough to be a plausible typo.
func nearest(key string, known []string) string {
	best, bestDist := "", len(key)/3+1
	for _, k := range known {
		if d := editDistance(key, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkValue validates v for decl and returns it in canonical form.
func checkValue(decl Option, key, v string) (string, error) {
	bad := func(what string) error {
		return pgerror.New(pgerror.InvalidParameterValue,
			"invalid value for option %q: %q is not %s", key, v, what)
	}
	if decl.Type != OptString && decl.Type != "" {
		v = strings.TrimSpace(v)
	}
	switch decl.Type {
	case OptInt:
		if _, err := parseInt(v); err != nil {
			return "", bad("an integer")
		}
	case OptFloat:
		if _, err := parseFloat(v); err != nil {
			return "", bad("a number")
		}
	case OptBool:
		b, err := parseBool(v)
		if err != nil {
			return "", bad("a boolean")
		}
		return strconv.FormatBool(b), nil
	case OptDuration:
		if _, err := parseDuration(v); err != nil {
			return "", bad("a duration (such as '5s', '100ms', or a number of milliseconds)")
		}
	case OptEnum:
		values := decl.enumValues()
		for _, allowed := range values {
			if strings.EqualFold(v, allowed) {
				return allowed, nil
			}
		}
		return "", bad("one of " + strings.Join(values, ", "))
	}
	return v, nil
}

// enumValues are the values an OptEnum option accepts: Values, or failing
// that the list after "one of" in Doc ("one of `a`, `b` or `c`").
func (o Option) enumValues() []string {
	if o.Values != nil {
		return o.Values
	}
	i := strings.Index(strings.ToLower(o.Doc), "one of")
	if i < 0 {
		return nil
	}
	list := o.Doc[i+len("one of"):]
	if end := strings.IndexAny(list, ".;)"); end >= 0 {
		list = list[:end]
	}
	list = strings.ReplaceAll(list, " or ", ",")
	var values []string
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '|' }) {
		f = strings.TrimPrefix(strings.TrimSpace(f), "or ")
		f = strings.Trim(f, " `'\"")
		if f != "" {
			values = append(values, f)
		}
	}
	return values
}

func parseInt(v string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(v), 10, 64) }

func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return 0, fmt.Errorf("not a finite number")
	}
	return f, err
}

// parseBool accepts PostgreSQL's spellings of a boolean.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, nil
	case "false", "f", "no", "n", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

// parseDuration accepts Go duration syntax ('5s', '100ms', '1m30s') or a bare
// integer of milliseconds; negative durations are refused.
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("duration out of range")
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration")
	}
	return d, nil
}

// Lookup returns the value of key: the exact key if present, else a key that
// differs only in case (a family member such as fields.Price.kind is stored
// as written, while columns may be looked up by their catalog spelling).
func (o Options) Lookup(key string) (string, bool) {
	if v, ok := o[key]; ok {
		return v, true
	}
	for k, v := range o {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// String returns the value of key, or "" when it is not set.
func (o Options) String(key string) string {
	v, _ := o.Lookup(key)
	return v
}

func (o Options) get(key, what string, parse func(string) error) error {
	v, ok := o.Lookup(key)
	if !ok {
		return pgerror.New(pgerror.InvalidParameterValue, "option %q is not set", key)
	}
	if err := parse(v); err != nil {
		return pgerror.New(pgerror.InvalidParameterValue,
			"invalid value for option %q: %q is not %s", key, v, what)
	}
	return nil
}

// Int returns the value of key as an integer.
func (o Options) Int(key string) (int64, error) {
	var n int64
	err := o.get(key, "an integer", func(v string) (err error) { n, err = parseInt(v); return })
	return n, err
}

// Float returns the value of key as a number.
func (o Options) Float(key string) (float64, error) {
	var f float64
	err := o.get(key, "a number", func(v string) (err error) { f, err = parseFloat(v); return })
	return f, err
}

// Bool returns the value of key as a boolean.
func (o Options) Bool(key string) (bool, error) {
	var b bool
	err := o.get(key, "a boolean", func(v string) (err error) { b, err = parseBool(v); return })
	return b, err
}

// Duration returns the value of key as a duration ('5s', '100ms', or an
// integer of milliseconds).
func (o Options) Duration(key string) (time.Duration, error) {
	var d time.Duration
	err := o.get(key, "a duration", func(v string) (err error) { d, err = parseDuration(v); return })
	return d, err
}

// OptionsMarkdown renders the connector's options as a Markdown table for
// the README, from the same declarations that drive validation.
func (c Connector) OptionsMarkdown() string {
	var b strings.Builder
	b.WriteString("| Option | Type | Default | Required | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, o := range c.Options {
		typ := string(o.Type)
		if o.Type == OptEnum {
			vals := o.enumValues()
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = "`" + v + "`"
			}
			typ = "enum: " + strings.Join(quoted, ", ")
		}
		def := ""
		if o.Default != "" {
			def = "`" + o.Default + "`"
		}
		req := "no"
		if o.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
			o.Key, mdCell(typ), mdCell(def), req, mdCell(o.Doc))
	}
	return b.String()
}

// mdCell makes s safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
