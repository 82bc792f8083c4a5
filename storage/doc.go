// Package storage keeps Sluice's durable state in a Pebble database under the
// data directory: the catalog (the statement that created each object, in
// creation order, with its OID) and the rows of tables.
//
// Key layout (one byte of prefix, then the parts):
//
//	'c' name               → 8-byte sequence, 4-byte OID, statement text
//	't' table 0x00 rowkey  → encoded row
//	'm' "seq"              → the last catalog sequence number
//
// Every write that acknowledges something to a client (a CREATE, an INSERT)
// is synced before it returns, so a kill -9 loses nothing acknowledged.
// Materialized views are not stored: on start they are rebuilt from their
// sources and tables (see the README's Operations section).
package storage
