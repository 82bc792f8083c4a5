// Package file is the file connector. As a source it reads JSON lines or CSV
// from one file or from every file a glob pattern matches, then follows them
// as lines are appended, like tail -f. As a sink it writes a view's rows to
// files in a directory: JSON lines, CSV or Parquet (see "The sink" below).
//
//	CREATE SOURCE events (...) WITH (connector = 'file', path = '/data/*.json')
//	FORMAT PLAIN ENCODE JSON;
//
// Each matched file is a split whose ID is its path; Splits lists the files
// that match when it is called, so files created later are picked up the next
// time the runtime asks. A reader reads what its file holds, then polls it
// every poll.interval for appended data. Records are framed by the decoder
// (a newline ends a record, except inside a quoted CSV field); a last line
// without its newline is held back until it is complete, so that a writer
// caught mid-line is never read as a truncated record.
//
// The position of a split is the byte offset just after the last record
// consumed, so a reader opened at a position resumes exactly there. A reader
// resuming inside a CSV file with a header reads the header again from the
// start of the file. Blank lines are skipped. A record that does not decode
// is returned as a RecordError located as "line N of <path>" and reading goes
// on; a record longer than 16 MiB is reported the same way and skipped to the
// next newline.
//
// A file that shrinks below what has been read was truncated or rewritten in
// place; the reader starts again from its beginning. A file that is renamed
// away keeps being read through its open descriptor, as tail -f (not -F)
// does.
//
// # The sink
//
//	CREATE SINK bids_out FROM bids_per_window WITH (connector = 'file',
//	    path = '/data/bids/dt={window_start:date}/', rollover.rows = '1000000')
//	FORMAT PLAIN ENCODE PARQUET;
//
// The path is a directory. Placeholders in it ({column}, {column:date},
// {column:hour}) are filled from each row, so rows land in per-partition
// subdirectories; a value is percent-escaped as Hive escapes partition
// values, so it is always one path segment, and NULL is Hive's
// __HIVE_DEFAULT_PARTITION__. The directory before the first placeholder is
// the sink's root.
//
// Rows are written only at Commit, once the epoch they belong to is known
// (Write keeps the records until then), so a file never holds part of an
// epoch. A file is written under a temporary name, .part-<id>-<n>.<ext>.tmp
// in its final directory, and is published by renaming it to
// part-<epoch>-<seq>.<ext> at a Commit (or, for a generation that
// rollover.interval has made due while no Commit came, with the epoch of the
// last Commit): a reader that ignores dot files never sees a partial file. A
// file may span epochs. The files of a generation (every file written since
// the last publication, one or more per partition) are published together:
// when there are several, a commit marker .sluice-commit-<epoch> listing
// their renames is written atomically first and removed after, and NewSink
// completes the renames of a marker a crash left behind. NewSink then deletes
// every other temporary file (rows a crashed writer never published) and
// scans the tree for the highest published epoch: LastCommitted, at or below
// which a Commit writes nothing, so an epoch delivered again after a failure
// is not published twice.
//
// With rollover.interval 0 (the default) every Commit publishes what it
// wrote, so an epoch is in the outside world exactly when LastCommitted says
// so, and the engine, which delivers an epoch again after a crash unless
// LastCommitted covers it, makes the sink exactly-once. With a longer
// interval a file spans epochs: the engine takes an epoch as delivered when
// Commit returns, and a crash before its file is published loses its rows
// (the temporary file is deleted). That trade-off (fewer, bigger files) is
// the user's to make; the engine could remove it by committing several
// checkpointed epochs at once.
//
// The rows of committed epochs that wait in unpublished files are published
// by Close. A Commit that fails removes its rows from the files (JSON and CSV
// files are truncated to their committed length; a Parquet file cannot be,
// and is dropped with the rows earlier commits put there, which Close
// reports as an error). Give each sink a directory of its own: epochs are
// global, so two sinks in one directory would publish the same names.
package file
