package file

import (
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// nullPartition is the directory name of a NULL (or empty) partition value,
// as Hive names it, so that Hive, Spark and Trino read it back as NULL.
const nullPartition = "__HIVE_DEFAULT_PARTITION__"

// template is a sink's path with its partition placeholders: {column},
// {column:date} or {column:hour}. The part before the first placeholder's
// directory is the root, where the sink's files and commit markers live.
type template struct {
	root  string // a directory without placeholders
	parts []tmplPart
}

// tmplPart is literal text, or a column placeholder when col >= 0.
type tmplPart struct {
	text string
	col  int
	typ  types.T
	fn   string // "", "date" or "hour"
}

// parseTemplate splits path into its root and the placeholders after it,
// checking each placeholder's column and function against schema.
func parseTemplate(path string, schema types.Schema) (template, error) {
	bad := func(format string, args ...any) error {
		return pgerror.New(pgerror.InvalidParameterValue, "option %q: "+format, append([]any{optPath}, args...)...).
			WithHint("A partition placeholder is {column}, {column:date} or {column:hour}, e.g. '/data/bids/dt={window_start:date}/'.")
	}
	first := strings.IndexAny(path, "{}")
	if first < 0 {
		return template{root: filepath.Clean(path)}, nil
	}
	if path[first] == '}' {
		return template{}, bad("unmatched '}' in %q", path)
	}
	cut := strings.LastIndexByte(path[:first], '/')
	if cut < 0 {
		return template{}, bad("%q must be a directory path before its first placeholder", path)
	}
	t := template{root: filepath.Clean(path[:cut+1])}
	rest := path[cut+1:]
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, tmplPart{text: rest, col: -1})
			break
		}
		if rest[open] == '}' {
			return template{}, bad("unmatched '}' in %q", path)
		}
		if open > 0 {
			t.parts = append(t.parts, tmplPart{text: rest[:open], col: -1})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return template{}, bad("unclosed '{' in %q", path)
		}
		p, err := placeholder(rest[open+1:open+1+end], schema)
		if err != nil {
			return template{}, err
		}
		t.parts = append(t.parts, p)
		rest = rest[open+1+end+1:]
	}
	return t, nil
}

// placeholder resolves the inside of {...}.
func placeholder(spec string, schema types.Schema) (tmplPart, error) {
	name, fn, _ := strings.Cut(spec, ":")
	name, fn = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(fn))
	col := schema.Index(name)
	if col < 0 {
		for i, c := range schema {
			if strings.EqualFold(c.Name, name) {
				col = i
				break
			}
		}
	}
	if col < 0 {
		names := make([]string, len(schema))
		for i, c := range schema {
			names[i] = c.Name
		}
		return tmplPart{}, pgerror.New(pgerror.UndefinedColumn,
			"option %q: placeholder {%s} names no column of the sink (columns: %s)", optPath, spec, strings.Join(names, ", "))
	}
	typ := schema[col].Type
	switch {
	case fn == "":
	case fn == "date" && (typ == types.Date || typ == types.Timestamp || typ == types.TimestampTZ):
	case fn == "hour" && (typ == types.Timestamp || typ == types.TimestampTZ):
	case fn == "date":
		return tmplPart{}, pgerror.New(pgerror.DatatypeMismatch,
			"option %q: placeholder {%s} needs a date or timestamp column, and %s is %s", optPath, spec, schema[col].Name, typ)
	case fn == "hour":
		return tmplPart{}, pgerror.New(pgerror.DatatypeMismatch,
			"option %q: placeholder {%s} needs a timestamp column, and %s is %s", optPath, spec, schema[col].Name, typ)
	default:
		return tmplPart{}, pgerror.New(pgerror.InvalidParameterValue,
			"option %q: unknown placeholder function %q in {%s}; it is date or hour", optPath, fn, spec)
	}
	return tmplPart{col: col, typ: typ, fn: fn}, nil
}

// partitioned reports whether rows go to directories that depend on them.
func (t *template) partitioned() bool { return len(t.parts) > 0 }

// appendDir appends the directory, relative to the root, of row i of rec.
func (t *template) appendDir(buf []byte, rec arrow.Record, i int) []byte {
	for _, p := range t.parts {
		if p.col < 0 {
			buf = append(buf, p.text...)
			continue
		}
		buf = appendValue(buf, rec.Column(p.col), i, p)
	}
	return buf
}

// appendValue appends a placeholder's value, escaped so that it stays one
// path segment.
func appendValue(buf []byte, arr arrow.Array, i int, p tmplPart) []byte {
	if arr.IsNull(i) {
		return append(buf, nullPartition...)
	}
	if p.fn != "" {
		var tm time.Time
		switch a := arr.(type) {
		case *array.Date32:
			tm = time.Unix(int64(a.Value(i))*86400, 0).UTC()
		case *array.Timestamp:
			us := int64(a.Value(i))
			switch us {
			case math.MaxInt64:
				return append(buf, "infinity"...)
			case math.MinInt64:
				return append(buf, "-infinity"...)
			}
			tm = time.UnixMicro(us).UTC()
		}
		if p.fn == "hour" {
			return tm.AppendFormat(buf, "15")
		}
		return tm.AppendFormat(buf, "2006-01-02")
	}
	start := len(buf)
	buf = types.AppendText(buf, arr, i, p.typ)
	return escapeSegment(buf, start)
}

// escapeSegment percent-encodes buf[start:] in place as Hive escapes
// partition values, so that a value cannot add a directory level or climb
// out of the root; an empty value is the NULL partition.
func escapeSegment(buf []byte, start int) []byte {
	v := buf[start:]
	switch string(v) {
	case "":
		return append(buf, nullPartition...)
	case ".", "..":
		return append(buf[:start], strings.Repeat("%2E", len(v))...)
	}
	n := 0
	for _, c := range v {
		if needsEscape(c) {
			n++
		}
	}
	if n == 0 {
		return buf
	}
	esc := make([]byte, 0, len(v)+2*n)
	for _, c := range v {
		if needsEscape(c) {
			esc = append(esc, '%', hexUpper[c>>4], hexUpper[c&15])
		} else {
			esc = append(esc, c)
		}
	}
	return append(buf[:start], esc...)
}

const hexUpper = "0123456789ABCDEF"

// needsEscape is Hive's FileUtils.escapePathName set.
func needsEscape(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	return strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0
}
