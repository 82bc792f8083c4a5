// Package parser turns SQL text into statements: PostgreSQL's own grammar
// (through pg_query, which embeds PostgreSQL's parser) for everything
// PostgreSQL has, and a thin layer of its own for the streaming statements
// PostgreSQL does not have (CREATE SOURCE, CREATE SINK, SUBSCRIBE, ...).
//
// # How a string is parsed
//
// The whole string is cut into tokens once by PostgreSQL's scanner, so that
// string constants, quoted identifiers, dollar quotes and comments are
// recognised exactly as PostgreSQL recognises them. Statements are split at
// the ';' tokens, and each statement is classified by its first words. A
// statement with no streaming form is handed to PostgreSQL's grammar as it
// is written and comes back as a PGStatement. A streaming statement is
// walked token by token here, and each standard piece of it (column
// definitions, type names, the watermark expression, the SELECT of a view or
// sink) is handed to PostgreSQL's grammar as standard text built around the
// original tokens ("CREATE TABLE t (" + columns + ")", "SELECT (" + expr +
// ")"). Standard syntax is therefore never re-implemented: what PostgreSQL
// accepts in those places is accepted, with PostgreSQL's errors.
//
// # Positions
//
// Every error is a *pgerror.Error. Its Position, when known, is a 1-based
// character position in the string given to Parse, as PostgreSQL reports
// it, also for statements after the first and for pieces parsed out of a
// streaming statement. When PostgreSQL's grammar stops on text built here
// (the scaffolding around a piece, or the end of the piece), the error is
// reported at the original token that follows the piece, as PostgreSQL
// reading the whole statement would: "syntax error at or near ")"" rather
// than "at end of input".
//
// Every location field in a node returned by Parse (Location of ColumnRef,
// A_Const, TypeName, ...) has been rewritten to be a 0-based character
// offset in the string given to Parse (PostgreSQL's own locations are byte
// offsets in the text it parsed). Position(location) gives the matching
// error position. The Pos fields of ColumnDef, Watermark and Option are
// already 1-based positions.
//
// Names are folded as PostgreSQL folds them: unquoted identifiers to lower
// case (ASCII only), quoted ones kept, both truncated to 63 bytes.
//
// # The streaming statements
//
// In the grammar below, UPPER CASE words are keywords (matched case-
// insensitively, never when quoted), [ ] is optional, { | } a choice, ...
// repetition. name is an identifier or schema.identifier. query is any
// PostgreSQL SELECT (including VALUES, set operations and WITH), checked by
// PostgreSQL's grammar. column_definition, table_constraint and expression
// are PostgreSQL's.
//
//	CREATE SOURCE [IF NOT EXISTS] name [ ( source_element [, ...] ) ]
//	    [INCLUDE {KEY | PARTITION | OFFSET | TIMESTAMP | TOPIC} [AS column] ...]
//	    WITH ( option [, ...] )
//	    [format]
//
//	CREATE TABLE [IF NOT EXISTS] name ( table_element [, ...] )
//	    [APPEND ONLY]
//	    [WITH ( option [, ...] )]
//	    [format]
//
//	CREATE MATERIALIZED VIEW [IF NOT EXISTS] name AS query [WITH DATA]
//	    [EMIT ON WINDOW CLOSE]
//
//	CREATE SINK [IF NOT EXISTS] name
//	    { FROM name | AS query [EMIT ON WINDOW CLOSE] }
//	    WITH ( option [, ...] )
//	    [format]
//
//	SHOW {SOURCES | TABLES | VIEWS | MATERIALIZED VIEWS | SINKS}
//	SHOW SOURCE ERRORS [name]
//	{DESCRIBE | DESC} name
//	DROP {SOURCE | SINK | TABLE | VIEW | MATERIALIZED VIEW} [IF EXISTS] name [, ...]
//	    [CASCADE | RESTRICT]
//	EXPLAIN [VERBOSE] statement
//	EXPLAIN ( {VERBOSE | COSTS} [boolean] [, ...] ) statement
//	FLUSH
//	SUBSCRIBE [TO] { name | ( query ) }
//	DECLARE cursor [cursor_options] CURSOR [{WITH | WITHOUT} HOLD] FOR subscribe
//	COPY ( subscribe ) TO {STDOUT | 'file'} [[WITH] ( copy_option [, ...] )]
//
//	source_element = column_definition | watermark
//	table_element  = column_definition | PRIMARY KEY ( column [, ...] ) | watermark
//	watermark      = WATERMARK FOR column AS expression
//	option         = key = value
//	key            = identifier [. identifier ...] | 'string'
//	value          = 'string' | [+ | -] number | identifier
//	format         = FORMAT {PLAIN | UPSERT | DEBEZIUM}
//	                 ENCODE {JSON | CSV | PARQUET | AVRO | PROTOBUF | BYTES}
//	                 [( option [, ...] )]
//
// SHOW of anything else, DROP of any other kind of object, and EXPLAIN of a
// query are PostgreSQL's statements. A column definition may carry NOT
// NULL, NULL and PRIMARY KEY; other constraints (DEFAULT, CHECK, UNIQUE,
// REFERENCES, GENERATED), COLLATE, CREATE TABLE AS, temporary and unlogged
// tables, and the PostgreSQL-only table clauses (INHERITS, PARTITION BY,
// TABLESPACE, ...) are refused with 0A000. A source has no primary key. The
// watermark column must be declared in the same list, at most one watermark
// per column. Option keys are unique within a list.
//
// Classification never takes from PostgreSQL a statement it would accept,
// with two deliberate exceptions: CREATE TABLE and CREATE MATERIALIZED VIEW
// are always parsed here (their standard parts still by PostgreSQL), so that
// the standard and the extended forms come back as one statement type. SHOW,
// DROP, DECLARE and COPY are taken only when the streaming words follow.
//
// DECLARE ... FOR SUBSCRIBE and COPY (SUBSCRIBE ...) TO come back as
// DeclareSubscribe and CopySubscribe: PostgreSQL's grammar parses the
// declaration or the COPY around a placeholder query, and the subscription
// is parsed here.
//
// # Limits
//
// Statements are split at every ';' outside strings and comments, like
// psql without its BEGIN ATOMIC tracking: a SQL-standard function body
// (CREATE FUNCTION ... BEGIN ATOMIC ...; ...; END) is cut at its first ';'.
//
// A statement chaining more than 5000 operators, joins or set operations
// (1+1+1..., SELECT ... UNION SELECT ...) is refused with PostgreSQL's
// "stack depth limit exceeded" (54001) before it reaches pg_query, whose C
// code would overflow its stack on such trees and kill the process (see
// maxChainDepth). PostgreSQL itself refuses them at about the same length.
//
// Input that is not valid UTF-8, or contains a NUL byte, is refused with
// 22021 before scanning, as PostgreSQL refuses it on receipt.
package parser
