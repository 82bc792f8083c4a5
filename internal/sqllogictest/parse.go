package sqllogictest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sortMode says how a query's rows are ordered before they are compared.
type sortMode int

const (
	noSort sortMode = iota
	rowSort
	valueSort
)

var sortModeNames = map[string]sortMode{
	"nosort":    noSort,
	"rowsort":   rowSort,
	"valuesort": valueSort,
}

// recordKind distinguishes the records that do something at run time. Records
// that only steer parsing (control, include, halt, skipif, onlyif,
// hash-threshold) are resolved by the parser and never reach the runner.
type recordKind int

const (
	statementRecord recordKind = iota
	queryRecord
	letRecord
)

// errorExpectation is what a `statement error` or `query error` record
// demands of the failure.
type errorExpectation struct {
	// sqlstate, when not empty, must equal the error's SQLSTATE.
	sqlstate string
	// pattern, when not nil, must match the error message.
	pattern *regexp.Regexp
}

func (e *errorExpectation) String() string {
	var parts []string
	if e.sqlstate != "" {
		parts = append(parts, "SQLSTATE "+e.sqlstate)
	}
	if e.pattern != nil {
		parts = append(parts, fmt.Sprintf("message matching /%s/", e.pattern))
	}
	if len(parts) == 0 {
		return "any error"
	}
	return strings.Join(parts, " and ")
}

// record is one runnable unit of a file.
type record struct {
	kind recordKind
	file *sourceFile
	// line is the 1-based line of the record's header (`statement`, `query`,
	// `let`), the line failures point at.
	line int
	// connection names the connection the record runs on; "" is the default.
	connection string
	sql        string

	// wantError is set for `statement error` and `query error`.
	wantError *errorExpectation
	// wantCount is the row count a `statement count N` demands, or -1.
	wantCount int64

	// Query records that expect rows.
	types      string
	sort       sortMode
	label      string
	eventually time.Duration // 0: run once
	expected   []string      // the expected block, one line per entry
	// resultsStart and resultsEnd delimit the expected block as 0-based line
	// indexes [start, end) in the file. hasMarker is false when the record has
	// no `----` yet; rewrite mode then inserts one at resultsStart.
	resultsStart, resultsEnd int
	hasMarker                bool

	// letNames are the variables a `let` record binds.
	letNames []string
}

func (r *record) location() string {
	return fmt.Sprintf("%s:%d", r.file.path, r.line)
}

// sourceFile is one .slt file as read from disk, kept so that rewrite mode can
// splice new expected blocks into the original bytes.
type sourceFile struct {
	path string
	// lines are the file's lines including their terminators, so that joining
	// them gives back the file byte for byte.
	lines []string
}

// parser turns files into records. Conditions (skipif, onlyif) are evaluated
// while parsing because the engine is known up front; records they exclude
// are parsed (so that a typo in them is still caught) and then dropped.
type parser struct {
	engine string
	// files maps a cleaned path to the file, shared by all includes so that a
	// file included twice is rewritten once.
	files map[string]*sourceFile
	// including is the stack of files being parsed, to reject include cycles.
	including []string
	records   []*record
}

const maxIncludeDepth = 16

func newParser(engine string) *parser {
	return &parser{engine: engine, files: make(map[string]*sourceFile)}
}

func (p *parser) parseFile(path string) error {
	clean := filepath.Clean(path)
	for _, f := range p.including {
		if f == clean {
			return fmt.Errorf("include cycle: %s includes itself through %s", clean, strings.Join(p.including, " -> "))
		}
	}
	if len(p.including) >= maxIncludeDepth {
		return fmt.Errorf("includes nested deeper than %d at %s", maxIncludeDepth, clean)
	}
	src, ok := p.files[clean]
	if !ok {
		content, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read test file: %w", err)
		}
		src = &sourceFile{path: path, lines: strings.SplitAfter(string(content), "\n")}
		if n := len(src.lines); n > 0 && src.lines[n-1] == "" {
			src.lines = src.lines[:n-1]
		}
		p.files[clean] = src
	}
	p.including = append(p.including, clean)
	defer func() { p.including = p.including[:len(p.including)-1] }()
	return p.parseSource(src)
}

// fileScanner walks the lines of one file, without their terminators.
type fileScanner struct {
	src *sourceFile
	pos int // index of the next line
}

func (s *fileScanner) done() bool { return s.pos >= len(s.src.lines) }

func (s *fileScanner) peek() string {
	return strings.TrimRight(s.src.lines[s.pos], "\r\n")
}

func (s *fileScanner) next() string {
	line := s.peek()
	s.pos++
	return line
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

func isComment(line string) bool { return strings.HasPrefix(strings.TrimSpace(line), "#") }

// parseSource parses one file's records. A record is an optional run of
// condition and connection lines, a header line, and a body that ends at a
// blank line or at the end of the file.
func (p *parser) parseSource(src *sourceFile) error {
	s := &fileScanner{src: src}
	fileSort := noSort
	for !s.done() {
		if line := s.peek(); isBlank(line) || isComment(line) {
			s.next()
			continue
		}

		var (
			skip       bool
			connection string
		)
		// Prefix lines apply to the record that follows them.
		for !s.done() {
			lineNo := s.pos + 1
			fields := strings.Fields(s.peek())
			if len(fields) == 0 || (fields[0] != "skipif" && fields[0] != "onlyif" && fields[0] != "connection") {
				break
			}
			s.next()
			if len(fields) != 2 {
				return fmt.Errorf("%s:%d: %s takes exactly one name", src.path, lineNo, fields[0])
			}
			switch fields[0] {
			case "skipif":
				skip = skip || fields[1] == p.engine
			case "onlyif":
				skip = skip || fields[1] != p.engine
			case "connection":
				connection = fields[1]
				if connection == "default" {
					connection = ""
				}
			}
		}
		if s.done() {
			return fmt.Errorf("%s:%d: file ends after a skipif, onlyif or connection line", src.path, s.pos)
		}

		lineNo := s.pos + 1
		header := s.next()
		fields := strings.Fields(header)
		where := fmt.Sprintf("%s:%d", src.path, lineNo)
		switch fields[0] {
		case "statement", "query", "let":
			rec, err := parseRunnable(s, fields, header, fileSort)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			rec.file, rec.line, rec.connection = src, lineNo, connection
			if !skip {
				p.records = append(p.records, rec)
			}

		case "control":
			if len(fields) != 3 || fields[1] != "sortmode" {
				return fmt.Errorf("%s: want `control sortmode <nosort|rowsort|valuesort>`", where)
			}
			mode, ok := sortModeNames[fields[2]]
			if !ok {
				return fmt.Errorf("%s: unknown sort mode %q", where, fields[2])
			}
			if !skip {
				fileSort = mode
			}

		case "hash-threshold":
			// Results are always listed in full; hashing them would hide the
			// diff that makes a failure readable.
			if len(fields) != 2 {
				return fmt.Errorf("%s: want `hash-threshold <n>`", where)
			}
			if _, err := strconv.Atoi(fields[1]); err != nil {
				return fmt.Errorf("%s: hash-threshold: %w", where, err)
			}

		case "include":
			if len(fields) != 2 {
				return fmt.Errorf("%s: want `include <glob>`", where)
			}
			if skip {
				break
			}
			if err := p.include(src, fields[1]); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}

		case "halt":
			if len(fields) != 1 {
				return fmt.Errorf("%s: halt takes no arguments", where)
			}
			if !skip {
				return nil
			}

		case "sleep":
			return fmt.Errorf("%s: sleep is not supported: use `query <types> <sortmode> eventually [timeout]` to wait for a result", where)

		default:
			return fmt.Errorf("%s: unknown record %q", where, fields[0])
		}
	}
	return nil
}

// include parses every file matching pattern, relative to the including file's
// directory, in lexical order.
func (p *parser) include(from *sourceFile, pattern string) error {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(from.path), pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return fmt.Errorf("include %s: %w", pattern, err)
	}
	if len(matches) == 0 {
		return fmt.Errorf("include %s: no file matches", pattern)
	}
	sort.Strings(matches)
	for _, m := range matches {
		if err := p.parseFile(m); err != nil {
			return err
		}
	}
	return nil
}

var (
	sqlstatePattern = regexp.MustCompile(`^[0-9A-Z]{5}$`)
	variablePattern = regexp.MustCompile(`^\$?[A-Za-z_][A-Za-z0-9_]*$`)
)

// parseRunnable parses a statement, query or let record whose header has
// already been read.
func parseRunnable(s *fileScanner, fields []string, header string, fileSort sortMode) (*record, error) {
	rec := &record{wantCount: -1}
	switch fields[0] {
	case "statement":
		rec.kind = statementRecord
		if len(fields) < 2 {
			return nil, fmt.Errorf("want `statement ok`, `statement error [...]` or `statement count <n>`")
		}
		switch fields[1] {
		case "ok":
			if len(fields) != 2 {
				return nil, fmt.Errorf("statement ok takes no arguments")
			}
		case "count":
			if len(fields) != 3 {
				return nil, fmt.Errorf("want `statement count <n>`")
			}
			n, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("statement count: %q is not a row count", fields[2])
			}
			rec.wantCount = n
		case "error":
			want, err := parseErrorExpectation(header)
			if err != nil {
				return nil, err
			}
			rec.wantError = want
		default:
			return nil, fmt.Errorf("unknown statement mode %q", fields[1])
		}
		return rec, readSQL(s, rec, false)

	case "let":
		rec.kind = letRecord
		names := strings.Split(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(header), "let")), ",")
		for _, n := range names {
			n = strings.TrimSpace(n)
			if !variablePattern.MatchString(n) {
				return nil, fmt.Errorf("let: %q is not a variable name", n)
			}
			rec.letNames = append(rec.letNames, strings.TrimPrefix(n, "$"))
		}
		return rec, readSQL(s, rec, false)
	}

	rec.kind = queryRecord
	if len(fields) < 2 {
		return nil, fmt.Errorf("want `query <types> [sortmode] [eventually [timeout]] [label]` or `query error [...]`")
	}
	if fields[1] == "error" {
		want, err := parseErrorExpectation(header)
		if err != nil {
			return nil, err
		}
		rec.wantError = want
		return rec, readSQL(s, rec, false)
	}

	rec.types = fields[1]
	for _, c := range rec.types {
		if !strings.ContainsRune(columnTypeLetters, c) {
			return nil, fmt.Errorf("query: unknown column type %q in %q (want letters from %q)", c, rec.types, columnTypeLetters)
		}
	}
	rec.sort = fileSort
	sortSeen := false
	for i := 2; i < len(fields); i++ {
		f := fields[i]
		if mode, ok := sortModeNames[f]; ok {
			if sortSeen {
				return nil, fmt.Errorf("query: more than one sort mode")
			}
			rec.sort, sortSeen = mode, true
			continue
		}
		if f == "eventually" {
			rec.eventually = defaultEventually
			if i+1 < len(fields) {
				if d, err := time.ParseDuration(fields[i+1]); err == nil {
					if d <= 0 {
						return nil, fmt.Errorf("query: eventually needs a positive timeout, got %s", fields[i+1])
					}
					rec.eventually = d
					i++
				}
			}
			continue
		}
		if rec.label != "" {
			return nil, fmt.Errorf("query: unexpected %q after label %q", f, rec.label)
		}
		rec.label = f
	}
	return rec, readSQL(s, rec, true)
}

// defaultEventually is how long an `eventually` query retries when the record
// names no timeout.
const defaultEventually = 10 * time.Second

// parseErrorExpectation reads the part of a `statement error` or `query error`
// header after the word error:
//
//	statement error                          any error
//	statement error <regex>                  message matches regex
//	statement error SQLSTATE <code>          SQLSTATE equals code
//	statement error SQLSTATE <code> <regex>  both
func parseErrorExpectation(header string) (*errorExpectation, error) {
	rest := skipFields(header, 2)
	want := &errorExpectation{}
	if first, _, _ := strings.Cut(rest, " "); first == "SQLSTATE" {
		code := skipFields(rest, 1)
		code, rest, _ = strings.Cut(code, " ")
		if !sqlstatePattern.MatchString(code) {
			return nil, fmt.Errorf("SQLSTATE must be followed by a five-character code, got %q", code)
		}
		want.sqlstate = code
		rest = strings.TrimSpace(rest)
	}
	if rest != "" {
		re, err := regexp.Compile(rest)
		if err != nil {
			return nil, fmt.Errorf("error pattern: %w", err)
		}
		want.pattern = re
	}
	return want, nil
}

// skipFields returns what follows the first n space-separated fields of line,
// with surrounding blanks trimmed but inner spacing kept (it may be part of a
// regular expression).
func skipFields(line string, n int) string {
	rest := strings.TrimSpace(line)
	for range n {
		_, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimSpace(rest)
	}
	return rest
}

// readSQL reads the SQL lines of a record up to a blank line, and for queries
// that expect rows the `----` marker and the expected block after it.
func readSQL(s *fileScanner, rec *record, expectsRows bool) error {
	var sql []string
	for !s.done() && !isBlank(s.peek()) && s.peek() != resultsMarker {
		sql = append(sql, s.next())
	}
	if len(sql) == 0 {
		return fmt.Errorf("record has no SQL")
	}
	rec.sql = strings.Join(sql, "\n")
	if s.done() || s.peek() != resultsMarker {
		rec.resultsStart, rec.resultsEnd = s.pos, s.pos
		return nil
	}
	if !expectsRows {
		return fmt.Errorf("only `query <types>` records have a %s results section", resultsMarker)
	}
	s.next()
	rec.hasMarker = true
	rec.resultsStart = s.pos
	for !s.done() && !isBlank(s.peek()) {
		rec.expected = append(rec.expected, s.next())
	}
	rec.resultsEnd = s.pos
	return nil
}

const resultsMarker = "----"
