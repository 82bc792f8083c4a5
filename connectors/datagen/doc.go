// Package datagen is the datagen source connector: rows generated from the
// declared columns, with RisingWave's options, for demos, tests and load.
//
//	CREATE SOURCE s (id BIGINT, v DOUBLE PRECISION, name VARCHAR, ts TIMESTAMP)
//	WITH (connector = 'datagen',
//	      fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '1000',
//	      fields.v.min = '0', fields.v.max = '100', fields.v.seed = '7',
//	      fields.name.length = '5',
//	      fields.ts.max_past = '1h',
//	      datagen.rows.per.second = '100');
//
// A numeric column is a sequence (fields.<col>.kind = 'sequence', from start
// to end, by default 0 to 32767) or random between min and max (by default 0
// and 32767). A text column is a random alphanumeric string of
// fields.<col>.length characters (default 10); a boolean column is random.
// A timestamp column is the current time, or with fields.<col>.max_past a
// random time within that duration before a base time: the time the split
// was opened (max_past_mode 'absolute', the default) or the time the row is
// generated ('relative'). Other types are refused at CREATE time.
//
// # Splits, positions and determinism
//
// datagen.split.num splits share the work: split i of n produces the values
// i, i+n, i+2n, ... of every sequence (starting from start) and
// datagen.rows.per.second/n rows per second (the first rate%n splits one
// more). A split ends (io.EOF) as soon as one of its sequences would pass its
// end.
//
// Random values are not drawn from a stateful generator: the value of row k
// of a split is a hash (SplitMix64) of the column's seed (fields.<col>.seed,
// mixed with the column's name and the split's index) and k. Rows are
// therefore the same for the same seed whatever the batch sizes, and a
// split's position is simply the number of rows it has produced: reopened
// there, it continues exactly, as checkpoint recovery requires. Only columns
// that follow the clock (timestamps) differ between runs.
//
// # Rate
//
// Rows are paced by a token bucket on the wall clock: row j after the split
// is opened is due j/rate seconds later, a batch waits for about 10 ms worth
// of rows, and a reader that is not called for a while catches up by at most
// one second of rows. datagen.rows.per.second = 0 generates as fast as the
// rows are read, 1024 rows per batch. With more splits than rows per second,
// the splits whose share is zero produce nothing.
//
// Differences from RisingWave: random values come from our own hash, so they
// differ from RisingWave's for the same seed; a timestamp column without
// max_past is the current time (RisingWave defaults max_past to one day);
// random strings have a fixed length.
package datagen
