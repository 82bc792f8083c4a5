// Package file is the file source connector: JSON lines or CSV read from one
// file or from every file a glob pattern matches, then followed as lines are
// appended, like tail -f.
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
package file
