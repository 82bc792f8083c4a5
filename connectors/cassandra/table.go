package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// progressTable records, per sink and target table, the last epoch
// committed; it lives in the target's keyspace.
const progressTable = "sluice_sink_progress"

// tableColumn is a column of the target table, as system_schema.columns
// has it.
type tableColumn struct {
	name     string
	kind     string // partition_key, clustering, regular, static
	position int
	typ      *cqlType
}

// readColumns reads the columns of keyspace.table; ok is false when there
// is no such table. A missing keyspace is an error of its own.
func readColumns(ctx context.Context, sess *gocql.Session, keyspace, table string) (cols []tableColumn, ok bool, err error) {
	var name string
	err = sess.Query("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?", keyspace).
		WithContext(ctx).Scan(&name)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil, false, pgerror.New(pgerror.InvalidSchemaName, "keyspace %q does not exist", keyspace).
			WithHint("Create it with CREATE KEYSPACE, or set cassandra.keyspace to an existing one (names are case-sensitive; unquoted names are stored in lower case).")
	}
	if err != nil {
		return nil, false, requestError(err, "look up keyspace %s", keyspace)
	}
	iter := sess.Query("SELECT column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
		keyspace, table).WithContext(ctx).Iter()
	var (
		c       tableColumn
		typText string
	)
	for iter.Scan(&c.name, &c.kind, &c.position, &typText) {
		c.typ = parseCQLType(typText)
		cols = append(cols, c)
	}
	if err := iter.Close(); err != nil {
		return nil, false, requestError(err, "read the columns of %s.%s", keyspace, table)
	}
	return cols, len(cols) > 0, nil
}

// keyColumns returns the names of the table's columns of kind, in
// position order.
func keyColumns(cols []tableColumn, kind string) []string {
	var ks []tableColumn
	for _, c := range cols {
		if c.kind == kind {
			ks = append(ks, c)
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].position < ks[j].position })
	names := make([]string, len(ks))
	for i, c := range ks {
		names[i] = c.name
	}
	return names
}

// check refuses a table that cannot take the sink's rows and returns the
// encoding type of each sink column, the sink columns of the table's
// primary key (partition key first) and how many of them are the partition
// key.
func check(schema types.Schema, key []int, upsert bool, where string, cols []tableColumn) (colTypes []*cqlType, pk []int, partition int, err error) {
	byName := make(map[string]*tableColumn, len(cols))
	for i := range cols {
		byName[cols[i].name] = &cols[i]
	}
	colTypes = make([]*cqlType, len(schema))
	for i, sc := range schema {
		tc, ok := byName[sc.Name]
		if !ok {
			return nil, nil, 0, pgerror.New(pgerror.UndefinedColumn,
				"column %q of the sink does not exist in table %s", sc.Name, where).
				WithHint("Add it with ALTER TABLE %s ADD %s %s.", where, quoteIdent(sc.Name), cqlTypeFor(sc.Type))
		}
		if !accepts(tc.typ, sc.Type) {
			return nil, nil, 0, pgerror.New(pgerror.DatatypeMismatch,
				"column %q of table %s is of type %s, which cannot take the sink's %s", sc.Name, where, tc.typ.text, sc.Type).
				WithHint("Make the column %s, or cast the sink's column in its query.", cqlTypeFor(sc.Type))
		}
		colTypes[i] = tc.typ
	}
	partNames := keyColumns(cols, "partition_key")
	keyNames := append(partNames, keyColumns(cols, "clustering")...)
	for _, n := range keyNames {
		i := schema.Index(n)
		if i < 0 {
			return nil, nil, 0, pgerror.New(pgerror.InvalidColumnReference,
				"column %q of the primary key of table %s is not a column of the sink", n, where).
				WithHint("Every row written needs the table's whole primary key (%s).", strings.Join(keyNames, ", "))
		}
		pk = append(pk, i)
	}
	if upsert {
		same := len(key) == len(pk)
		for _, k := range key {
			found := false
			for _, p := range pk {
				found = found || p == k
			}
			same = same && found
		}
		if !same {
			names := make([]string, len(key))
			for i, k := range key {
				names[i] = schema[k].Name
			}
			return nil, nil, 0, pgerror.New(pgerror.InvalidColumnReference,
				"the sink's primary_key (%s) is not the primary key of table %s (%s)", strings.Join(names, ", "), where, strings.Join(keyNames, ", ")).
				WithHint("An upsert sink writes and deletes rows by its primary_key, which must be the table's.")
		}
	}
	return colTypes, pk, len(partNames), nil
}

// quoteIdent quotes a CQL identifier, keeping its case.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// requestError wraps err, met while doing what the format says, with a
// SQLSTATE that says what kind of failure it was.
func requestError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var se *pgerror.Error
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		code := pgerror.ConnectionException
		switch re.Code() {
		case gocql.ErrCodeUnauthorized:
			code = pgerror.InsufficientPrivilege
		case gocql.ErrCodeCredentials:
			code = pgerror.InvalidAuthorizationSpec
		case gocql.ErrCodeInvalid, gocql.ErrCodeSyntax, gocql.ErrCodeConfig:
			code = pgerror.DataException
		}
		return pgerror.New(code, "%s: %s (Cassandra error 0x%04x)", what, re.Message(), re.Code())
	}
	return pgerror.New(pgerror.ConnectionException, "%s: %v", what, err)
}
