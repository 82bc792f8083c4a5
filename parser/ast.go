package parser

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Statement is one parsed statement. Text is the statement's own text as
// written, without the trailing ';' and without comments before or after it.
type Statement interface{ Text() string }

// ObjectName is a possibly schema-qualified object name. Identifiers are
// folded as PostgreSQL folds them (unquoted to lower case, truncated to 63
// bytes); Schema is "" when the name is unqualified.
type ObjectName struct{ Schema, Name string }

// String returns the name as it would be written in SQL, quoting the parts
// that need it; meant for messages.
func (n ObjectName) String() string {
	if n.Schema == "" {
		return quoteIdentifier(n.Name)
	}
	return quoteIdentifier(n.Schema) + "." + quoteIdentifier(n.Name)
}

// quoteIdentifier quotes s unless it reads back unchanged as a bare word.
// Keywords are not detected: the result is for messages, not for re-parsing.
func quoteIdentifier(s string) string {
	simple := s != ""
	for i := 0; i < len(s) && simple; i++ {
		c := s[i]
		simple = c >= 'a' && c <= 'z' || c == '_' || i > 0 && (c >= '0' && c <= '9' || c == '$')
	}
	if simple {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Option is one key = value of a WITH (...) list or of FORMAT ... ENCODE
// ... (...). Key is as written: a dotted bare name lower-cased
// (properties.bootstrap.server) or the content of a quoted string key. Value
// is the content of a string literal, the text of a number literal (with its
// sign), or a bare word lower-cased (true, false, earliest). Pos is the
// 1-based character position of the key in the text given to Parse.
type Option struct {
	Key   string
	Value string
	Pos   int
}

// ColumnDef is a column of CREATE SOURCE or CREATE TABLE. NotNull is set for
// NOT NULL columns and for primary key columns (a key implies NOT NULL, as in
// PostgreSQL). Type is unresolved; see ResolveTypeName. Pos is the 1-based
// position of the column name.
type ColumnDef struct {
	Name       string
	Type       *pg_query.TypeName
	NotNull    bool
	PrimaryKey bool
	// ProcTime marks a column declared name [type] AS PROCTIME(): each row
	// gets the time it was read (processing time), not a value of the input.
	ProcTime bool
	Pos      int
}

// Watermark is WATERMARK FOR Column AS Expr. Pos is the 1-based position of
// the column name.
type Watermark struct {
	Column string
	Expr   *pg_query.Node
	Pos    int
}

// Format is FORMAT f ENCODE e [(options)], with both words upper-cased.
type Format struct {
	Format, Encode string
	Options        []Option
}

// Include is INCLUDE What [AS Alias] of CREATE SOURCE: a piece of connector
// metadata (key, partition, offset, timestamp, topic) added as a column.
// What is lower-cased; Alias is "" when not given and the engine picks the
// column name.
type Include struct{ What, Alias string }

// PGStatement is any statement PostgreSQL's grammar parses and that has no
// streaming form of its own: SELECT, INSERT, UPDATE, DELETE, SET, SHOW
// setting, BEGIN, COMMIT, DECLARE, FETCH, CREATE VIEW, ... Node is the
// statement node of pg_query's tree.
type PGStatement struct {
	Node *pg_query.Node
	text string
}

// CreateSource is CREATE SOURCE.
type CreateSource struct {
	Name        ObjectName
	IfNotExists bool
	Columns     []ColumnDef
	Watermarks  []Watermark
	Includes    []Include
	Options     []Option
	Format      *Format
	text        string
}

// CreateTable is every CREATE TABLE, standard or with the streaming
// extensions (WATERMARK, APPEND ONLY, WITH (connector = ...), FORMAT).
// PrimaryKey lists the key columns in key order, whether declared on a column
// or as a table constraint.
type CreateTable struct {
	Name        ObjectName
	IfNotExists bool
	Columns     []ColumnDef
	PrimaryKey  []string
	Watermarks  []Watermark
	AppendOnly  bool
	Options     []Option
	Format      *Format
	text        string
}

// CreateMaterializedView is CREATE MATERIALIZED VIEW ... AS query [EMIT ON
// WINDOW CLOSE]. Query is the SelectStmt node; QueryText its text as written.
type CreateMaterializedView struct {
	Name              ObjectName
	IfNotExists       bool
	Query             *pg_query.Node
	QueryText         string
	EmitOnWindowClose bool
	// Temporal names the FROM items marked FOR SYSTEM_TIME AS OF
	// PROCTIME() (by alias, or name when there is none).
	Temporal []string
	text     string
}

// CreateSink is CREATE SINK s FROM relation WITH (...) [FORMAT ...] (From
// set) or CREATE SINK s AS query [EMIT ON WINDOW CLOSE] WITH (...) [FORMAT
// ...] (Query and QueryText set).
type CreateSink struct {
	Name              ObjectName
	IfNotExists       bool
	From              *ObjectName
	Query             *pg_query.Node
	QueryText         string
	EmitOnWindowClose bool
	Options           []Option
	Format            *Format
	// Temporal names the FROM items marked FOR SYSTEM_TIME AS OF
	// PROCTIME() (by alias, or name when there is none).
	Temporal []string
	text     string
}

// Show is SHOW SOURCES | TABLES | MATERIALIZED VIEWS | VIEWS | SINKS, and
// SHOW SOURCE ERRORS [name]. Object is the upper-cased words after SHOW
// joined by one space ("MATERIALIZED VIEWS", "SOURCE ERRORS"). SHOW of a
// setting is a PGStatement (VariableShowStmt).
type Show struct {
	Object string
	Name   *ObjectName
	text   string
}

// Describe is DESCRIBE name or DESC name.
type Describe struct {
	Name ObjectName
	text string
}

// Drop is DROP SOURCE | SINK | TABLE | MATERIALIZED VIEW | VIEW [IF EXISTS]
// name [, ...] [CASCADE | RESTRICT]. Other DROPs are PGStatements.
type Drop struct {
	Kind     string
	Names    []ObjectName
	IfExists bool
	Cascade  bool
	text     string
}

// Explain is EXPLAIN [VERBOSE] statement or EXPLAIN (VERBOSE [bool], COSTS
// [bool]) statement, where the statement is a query (a PGStatement),
// a CreateMaterializedView or a CreateSink.
type Explain struct {
	Statement Statement
	Verbose   bool
	text      string
}

// Flush is FLUSH.
type Flush struct{ text string }

// Subscribe is SUBSCRIBE [TO] name (Name set) or SUBSCRIBE [TO] (query)
// (Query, the SelectStmt node, and QueryText set).
type Subscribe struct {
	Name      *ObjectName
	Query     *pg_query.Node
	QueryText string
	// Temporal names the FROM items marked FOR SYSTEM_TIME AS OF
	// PROCTIME() (by alias, or name when there is none).
	Temporal []string
	text     string
}

// DeclareSubscribe is DECLARE c CURSOR FOR SUBSCRIBE ...: a cursor over a
// subscription, read with FETCH. Cursor is the declaration as PostgreSQL
// parses it (name, options) with a nil Query; the query is Subscribe.
type DeclareSubscribe struct {
	Cursor    *pg_query.DeclareCursorStmt
	Subscribe *Subscribe
	text      string
}

// CopySubscribe is COPY (SUBSCRIBE ...) TO STDOUT [WITH (...)]. Copy is the
// statement as PostgreSQL parses it (target, options) with a nil Query; the
// query is Subscribe.
type CopySubscribe struct {
	Copy      *pg_query.CopyStmt
	Subscribe *Subscribe
	text      string
}

// Fetch is FETCH [direction] [FROM | IN] cursor [WITH (timeout = 'd')]:
// PostgreSQL's FETCH, plus Materialize's WITH options for cursors over a
// subscription. Stmt is the statement as PostgreSQL parses it without the
// WITH clause.
type Fetch struct {
	Stmt    *pg_query.FetchStmt
	Options []Option
	text    string
}

func (s *Fetch) Text() string                  { return s.text }
func (s *PGStatement) Text() string            { return s.text }
func (s *CreateSource) Text() string           { return s.text }
func (s *CreateTable) Text() string            { return s.text }
func (s *CreateMaterializedView) Text() string { return s.text }
func (s *CreateSink) Text() string             { return s.text }
func (s *Show) Text() string                   { return s.text }
func (s *Describe) Text() string               { return s.text }
func (s *Drop) Text() string                   { return s.text }
func (s *Explain) Text() string                { return s.text }
func (s *Flush) Text() string                  { return s.text }
func (s *Subscribe) Text() string              { return s.text }
func (s *DeclareSubscribe) Text() string       { return s.text }
func (s *CopySubscribe) Text() string          { return s.text }
