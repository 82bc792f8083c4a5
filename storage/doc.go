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
//
// A full disk must never reach Pebble's write-ahead log: Pebble v2 turns
// that into Logger.Fatalf and a DB wedged for the rest of the process. So
// every batch is committed through a space guard (space.go) that refuses it
// with ErrDiskFull, without calling Pebble, while the data directory's
// filesystem has less than a reserve free; a ballast file in the directory
// (.sluice-ballast, which Pebble ignores) is deleted by vfs.OnDiskFull if a
// write gets past the check anyway, and is rebuilt when there is room
// again, at which point writes resume by themselves. Open on a full disk
// fails instead of waiting in Pebble for space.
package storage
