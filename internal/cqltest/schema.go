package cqltest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
)

type colKind string

const (
	kindPartition  colKind = "partition_key"
	kindClustering colKind = "clustering"
	kindRegular    colKind = "regular"
	kindStatic     colKind = "static"
)

type column struct {
	name     string
	typ      *Type
	kind     colKind
	position int // within the partition key or the clustering columns; -1 otherwise
}

type keyspace struct {
	name    string
	repl    map[string]string
	durable bool
	tables  map[string]*table
}

// table keeps its rows by primary key. Cells carry write timestamps and rows
// carry a deletion timestamp, so that writes resolve as Cassandra resolves
// them: the highest timestamp wins, a deletion wins a tie, and statements
// of one batch share a timestamp (so their order within it does not count).
type table struct {
	ks, name  string
	cols      []*column
	byName    map[string]int
	partition []int // column indexes of the partition key, in order
	cluster   []int
	rows      map[string]*row
	system    bool
}

type row struct {
	vals    [][]byte
	ts      []int64 // per cell; math.MinInt64 when never written
	marker  int64   // the row marker an INSERT writes
	deleted int64   // the row's tombstone
}

const noTS = math.MinInt64

func newTable(ks, name string, defs []colDef, partition, cluster []string) (*table, error) {
	t := &table{ks: ks, name: name, byName: map[string]int{}, rows: map[string]*row{}}
	for _, d := range defs {
		if _, dup := t.byName[d.name]; dup {
			return nil, fmt.Errorf("multiple definition of identifier %s", d.name)
		}
		t.byName[d.name] = len(t.cols)
		k := kindRegular
		if d.static {
			k = kindStatic
		}
		t.cols = append(t.cols, &column{name: d.name, typ: d.typ, kind: k, position: -1})
	}
	for kind, names := range map[colKind][]string{kindPartition: partition, kindClustering: cluster} {
		for pos, n := range names {
			i, ok := t.byName[n]
			if !ok {
				return nil, fmt.Errorf("unknown definition %s referenced in PRIMARY KEY", n)
			}
			c := t.cols[i]
			if c.kind == kindPartition || c.kind == kindClustering {
				return nil, fmt.Errorf("duplicate definition %s in PRIMARY KEY", n)
			}
			if c.kind == kindStatic {
				return nil, fmt.Errorf("static column %s cannot be part of the PRIMARY KEY", n)
			}
			if (c.typ.Kind == List || c.typ.Kind == Set || c.typ.Kind == Map) && !c.typ.Frozen {
				return nil, fmt.Errorf("invalid non-frozen collection type for PRIMARY KEY component %s", n)
			}
			if c.typ.Kind == Duration {
				return nil, fmt.Errorf("duration type is not supported for PRIMARY KEY column '%s'", n)
			}
			c.kind, c.position = kind, pos
		}
	}
	for _, n := range partition {
		t.partition = append(t.partition, t.byName[n])
	}
	for _, n := range cluster {
		t.cluster = append(t.cluster, t.byName[n])
	}
	return t, nil
}

func (t *table) key() []int { return append(append([]int{}, t.partition...), t.cluster...) }

// keyOf encodes the values of cols (a prefix of the primary key) as a map
// key: each value length-prefixed, so that no two keys collide.
func keyOf(vals [][]byte, cols []int) string {
	var b []byte
	for _, c := range cols {
		b = binary.BigEndian.AppendUint32(b, uint32(len(vals[c])))
		b = append(b, vals[c]...)
	}
	return string(b)
}

// live reports whether the row exists: a row marker or a cell newer than
// its tombstone.
func (r *row) live() bool {
	if r.marker > r.deleted {
		return true
	}
	for i, v := range r.vals {
		if v != nil && r.ts[i] > r.deleted {
			return true
		}
	}
	return false
}

// value is the cell's value as a read sees it.
func (r *row) value(i int) []byte {
	if r.ts[i] <= r.deleted {
		return nil
	}
	return r.vals[i]
}

// upsert writes the given cells (nil: a null, which deletes the cell) and
// a row marker at timestamp ts; unset cells are left alone.
func (t *table) upsert(vals [][]byte, set []bool, ts int64, marker bool) {
	k := keyOf(vals, t.key())
	r := t.rows[k]
	if r == nil {
		r = &row{vals: make([][]byte, len(t.cols)), ts: make([]int64, len(t.cols)), marker: noTS, deleted: noTS}
		for i := range r.ts {
			r.ts[i] = noTS
		}
		t.rows[k] = r
	}
	if marker && ts > r.marker {
		r.marker = ts
	}
	for i, v := range vals {
		if !set[i] {
			continue
		}
		if _, isKey := t.keyIndex(i); isKey {
			r.vals[i], r.ts[i] = v, max(r.ts[i], ts)
			continue
		}
		// The newer write wins; in a tie a null (a tombstone) wins, and
		// then the greater value, as in Cassandra.
		if ts > r.ts[i] || ts == r.ts[i] && (v == nil || r.vals[i] != nil && bytes.Compare(v, r.vals[i]) > 0) {
			r.vals[i], r.ts[i] = v, ts
		}
	}
}

func (t *table) keyIndex(col int) (int, bool) {
	for i, c := range t.key() {
		if c == col {
			return i, true
		}
	}
	return 0, false
}

// remove deletes the rows whose first len(prefix) key columns equal
// prefix's values, at timestamp ts. A full key that has no row yet leaves
// a tombstone, which shadows older writes that arrive later.
func (t *table) remove(vals [][]byte, keyCols []int, ts int64) {
	full := len(keyCols) == len(t.key())
	if full {
		k := keyOf(vals, keyCols)
		r := t.rows[k]
		if r == nil {
			set := make([]bool, len(t.cols))
			for _, c := range keyCols {
				set[c] = true
			}
			t.upsert(vals, set, noTS, false)
			r = t.rows[k]
		}
		r.deleted = max(r.deleted, ts)
		return
	}
	prefix := keyOf(vals, keyCols)
	for k, r := range t.rows {
		if keyOf(r.vals, keyCols) == prefix {
			r.deleted = max(r.deleted, ts)
			_ = k
		}
	}
}

// sortedRows returns the live rows in key order.
func (t *table) sortedRows() []*row {
	keys := make([]string, 0, len(t.rows))
	for k, r := range t.rows {
		if r.live() {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]*row, len(keys))
	for i, k := range keys {
		out[i] = t.rows[k]
	}
	return out
}

// put adds a row to a system table: values by column name, already
// encoded.
func (t *table) put(vals map[string][]byte) {
	row := make([][]byte, len(t.cols))
	set := make([]bool, len(t.cols))
	for n, v := range vals {
		i, ok := t.byName[n]
		if !ok {
			panic("cqltest: system table " + t.name + " has no column " + n)
		}
		row[i], set[i] = v, true
	}
	t.upsert(row, set, 0, true)
}

// systemTable builds a table of a system keyspace from "name type" pairs;
// the key columns are named in partition and cluster.
func systemTable(ks, name string, cols string, partition, cluster []string) *table {
	var defs []colDef
	for _, c := range strings.Split(cols, ";") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		n, typ, _ := strings.Cut(c, " ")
		tt, err := ParseType(typ)
		if err != nil {
			panic(err)
		}
		defs = append(defs, colDef{name: n, typ: tt})
	}
	t, err := newTable(ks, name, defs, partition, cluster)
	if err != nil {
		panic(err)
	}
	t.system = true
	return t
}

func text(s string) []byte { return []byte(s) }

func boolean(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

func int32v(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func float64v(f float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)) }

// collection encodes elements (already encoded) as a v4 list, set or map
// (keys and values alternating).
func collection(n int, elems ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	for _, e := range elems {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

func textMap(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var elems [][]byte
	for _, k := range keys {
		elems = append(elems, text(k), text(m[k]))
	}
	return collection(len(keys), elems...)
}

func textSet(s ...string) []byte {
	s = append([]string{}, s...)
	sort.Strings(s)
	var elems [][]byte
	for _, e := range s {
		elems = append(elems, text(e))
	}
	return collection(len(s), elems...)
}

// The system tables, with the columns Cassandra 3.11 has that drivers read.
func systemKeyspaces() map[string]*keyspace {
	system := &keyspace{name: "system", repl: map[string]string{"class": "org.apache.cassandra.locator.LocalStrategy"}, durable: true, tables: map[string]*table{}}
	for _, t := range []*table{
		systemTable("system", "local", `key text; bootstrapped text; broadcast_address inet; cluster_name text;
			cql_version text; data_center text; gossip_generation int; host_id uuid; listen_address inet;
			native_protocol_version text; partitioner text; rack text; release_version text; rpc_address inet;
			schema_version uuid; thrift_version text; tokens set<text>`, []string{"key"}, nil),
		systemTable("system", "peers", `peer inet; data_center text; host_id uuid; preferred_ip inet; rack text;
			release_version text; rpc_address inet; schema_version uuid; tokens set<text>`, []string{"peer"}, nil),
	} {
		system.tables[t.name] = t
	}
	schema := &keyspace{name: "system_schema", repl: map[string]string{"class": "org.apache.cassandra.locator.LocalStrategy"}, durable: true, tables: map[string]*table{}}
	for _, t := range []*table{
		systemTable("system_schema", "keyspaces", `keyspace_name text; durable_writes boolean;
			replication frozen<map<text, text>>`, []string{"keyspace_name"}, nil),
		systemTable("system_schema", "tables", `keyspace_name text; table_name text; bloom_filter_fp_chance double;
			caching frozen<map<text, text>>; cdc boolean; comment text; compaction frozen<map<text, text>>;
			compression frozen<map<text, text>>; crc_check_chance double; dclocal_read_repair_chance double;
			default_time_to_live int; extensions frozen<map<text, blob>>; flags frozen<set<text>>;
			gc_grace_seconds int; id uuid; max_index_interval int; memtable_flush_period_in_ms int;
			min_index_interval int; read_repair_chance double; speculative_retry text`,
			[]string{"keyspace_name"}, []string{"table_name"}),
		systemTable("system_schema", "columns", `keyspace_name text; table_name text; column_name text;
			clustering_order text; column_name_bytes blob; kind text; position int; type text`,
			[]string{"keyspace_name"}, []string{"table_name", "column_name"}),
		systemTable("system_schema", "dropped_columns", `keyspace_name text; table_name text; column_name text;
			dropped_time timestamp; type text`, []string{"keyspace_name"}, []string{"table_name", "column_name"}),
		systemTable("system_schema", "indexes", `keyspace_name text; table_name text; index_name text; kind text;
			options frozen<map<text, text>>`, []string{"keyspace_name"}, []string{"table_name", "index_name"}),
		systemTable("system_schema", "triggers", `keyspace_name text; table_name text; trigger_name text;
			options frozen<map<text, text>>`, []string{"keyspace_name"}, []string{"table_name", "trigger_name"}),
		systemTable("system_schema", "views", `keyspace_name text; view_name text; base_table_id uuid;
			base_table_name text; bloom_filter_fp_chance double; caching frozen<map<text, text>>; cdc boolean;
			comment text; compaction frozen<map<text, text>>; compression frozen<map<text, text>>;
			crc_check_chance double; dclocal_read_repair_chance double; default_time_to_live int;
			extensions frozen<map<text, blob>>; gc_grace_seconds int; id uuid; include_all_columns boolean;
			max_index_interval int; memtable_flush_period_in_ms int; min_index_interval int;
			read_repair_chance double; speculative_retry text; where_clause text`,
			[]string{"keyspace_name"}, []string{"view_name"}),
		systemTable("system_schema", "types", `keyspace_name text; type_name text; field_names frozen<list<text>>;
			field_types frozen<list<text>>`, []string{"keyspace_name"}, []string{"type_name"}),
		systemTable("system_schema", "functions", `keyspace_name text; function_name text;
			argument_types frozen<list<text>>; argument_names frozen<list<text>>; body text;
			called_on_null_input boolean; language text; return_type text`,
			[]string{"keyspace_name"}, []string{"function_name", "argument_types"}),
		systemTable("system_schema", "aggregates", `keyspace_name text; aggregate_name text;
			argument_types frozen<list<text>>; final_func text; initcond text; return_type text;
			state_func text; state_type text`, []string{"keyspace_name"}, []string{"aggregate_name", "argument_types"}),
	} {
		schema.tables[t.name] = t
	}
	return map[string]*keyspace{"system": system, "system_schema": schema}
}

// describeKeyspace adds the rows of system_schema that describe ks.
func (s *Server) describeKeyspace(ks *keyspace) {
	s.keyspaces["system_schema"].tables["keyspaces"].put(map[string][]byte{
		"keyspace_name": text(ks.name), "durable_writes": boolean(ks.durable), "replication": textMap(ks.repl)})
}

// describeTable adds the rows of system_schema that describe t.
func (s *Server) describeTable(t *table) {
	schema := s.keyspaces["system_schema"].tables
	schema["tables"].put(map[string][]byte{
		"keyspace_name": text(t.ks), "table_name": text(t.name),
		"bloom_filter_fp_chance": float64v(0.01),
		"caching":                textMap(map[string]string{"keys": "ALL", "rows_per_partition": "NONE"}),
		"cdc":                    boolean(false), "comment": text(""),
		"compaction":       textMap(map[string]string{"class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"}),
		"compression":      textMap(map[string]string{"class": "org.apache.cassandra.io.compress.LZ4Compressor"}),
		"crc_check_chance": float64v(1), "dclocal_read_repair_chance": float64v(0.1),
		"default_time_to_live": int32v(0), "extensions": collection(0), "flags": textSet("compound"),
		"gc_grace_seconds": int32v(864000), "id": newUUID(), "max_index_interval": int32v(2048),
		"memtable_flush_period_in_ms": int32v(0), "min_index_interval": int32v(128),
		"read_repair_chance": float64v(0), "speculative_retry": text("99PERCENTILE"),
	})
	for _, c := range t.cols {
		order := "none"
		if c.kind == kindClustering {
			order = "asc"
		}
		schema["columns"].put(map[string][]byte{
			"keyspace_name": text(t.ks), "table_name": text(t.name), "column_name": text(c.name),
			"clustering_order": text(order), "column_name_bytes": text(c.name), "kind": text(string(c.kind)),
			"position": int32v(int32(c.position)), "type": text(c.typ.String()),
		})
	}
}

// forget removes the system_schema rows of keyspace ks, or of its table
// tbl when tbl is not empty.
func (s *Server) forget(ks, tbl string) {
	for _, t := range s.keyspaces["system_schema"].tables {
		for k, r := range t.rows {
			if string(r.vals[t.byName["keyspace_name"]]) != ks {
				continue
			}
			if tbl != "" {
				i, ok := t.byName["table_name"]
				if !ok || string(r.vals[i]) != tbl {
					continue
				}
			}
			delete(t.rows, k)
		}
	}
}
