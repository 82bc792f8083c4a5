package kafka

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/IBM/sarama"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// The metadata INCLUDE can expose, and the column types each accepts (the
// first is the one the engine gives it).
var includeTypes = map[string][]types.T{
	"key":       {types.Bytea, types.Text, types.Varchar},
	"partition": {types.Int4, types.Int8},
	"offset":    {types.Int8},
	"timestamp": {types.TimestampTZ, types.Timestamp},
	"topic":     {types.Text, types.Varchar},
}

// includeNames are the INCLUDE clauses the connector accepts, for
// Connector.Includes.
var includeNames = []string{"key", "partition", "offset", "timestamp", "topic"}

// include is one INCLUDE column: which metadata, and its type.
type include struct {
	what string
	typ  types.T
}

// splitIncludes separates the declared columns, which the decoder fills,
// from the INCLUDE columns that trail them, and checks the latter.
func splitIncludes(schema types.Schema, incs []connectors.Include) (types.Schema, []include, error) {
	if len(incs) > len(schema) {
		return nil, nil, pgerror.New(pgerror.InternalError, "kafka: %d INCLUDE columns but %d columns", len(incs), len(schema))
	}
	declared := schema[:len(schema)-len(incs)]
	out := make([]include, len(incs))
	seen := map[string]bool{}
	for i, inc := range incs {
		what := strings.ToLower(inc.What)
		accepted, ok := includeTypes[what]
		if !ok {
			return nil, nil, pgerror.New(pgerror.FeatureNotSupported,
				"connector kafka cannot INCLUDE %s (it can include %s)", inc.What, strings.Join(includeNames, ", "))
		}
		if seen[what] {
			return nil, nil, pgerror.New(pgerror.SyntaxError, "INCLUDE %s is given twice", what)
		}
		seen[what] = true
		col := schema[len(declared)+i]
		if !strings.EqualFold(col.Name, inc.Column) {
			return nil, nil, pgerror.New(pgerror.InternalError,
				"kafka: INCLUDE %s names column %q but column %d is %q", what, inc.Column, len(declared)+i, col.Name)
		}
		typeOK := false
		for _, t := range accepted {
			typeOK = typeOK || t == col.Type
		}
		if !typeOK {
			return nil, nil, pgerror.New(pgerror.DatatypeMismatch,
				"column %q of INCLUDE %s must be of type %s, not %s", col.Name, what, accepted[0], col.Type)
		}
		out[i] = include{what: what, typ: col.Type}
	}
	return declared, out, nil
}

// includeBuilder fills one INCLUDE column of a batch.
type includeBuilder struct {
	include
	b   array.Builder
	bin *array.BinaryBuilder // key: bytea
	str *array.StringBuilder // key: text
	i32 *array.Int32Builder
	i64 *array.Int64Builder
	ts  *array.TimestampBuilder
}

func newIncludeBuilders(incs []include, alloc memory.Allocator) []includeBuilder {
	out := make([]includeBuilder, len(incs))
	for i, inc := range incs {
		ib := includeBuilder{include: inc, b: array.NewBuilder(alloc, inc.typ.Arrow())}
		switch inc.typ {
		case types.Bytea:
			ib.bin = ib.b.(*array.BinaryBuilder)
		case types.Text, types.Varchar:
			ib.str = ib.b.(*array.StringBuilder)
		case types.Int4:
			ib.i32 = ib.b.(*array.Int32Builder)
		case types.Int8:
			ib.i64 = ib.b.(*array.Int64Builder)
		case types.Timestamp, types.TimestampTZ:
			ib.ts = ib.b.(*array.TimestampBuilder)
		}
		out[i] = ib
	}
	return out
}

var errKeyNotUTF8 = errors.New("the message key is not valid UTF-8, so it cannot fill a text column (declare the INCLUDE key column BYTEA)")

// checkIncludes reports a message whose metadata cannot fill the INCLUDE
// columns, before its value is decoded, so that a bad record adds nothing.
func checkIncludes(incs []includeBuilder, m *sarama.ConsumerMessage) error {
	for i := range incs {
		if incs[i].what == "key" && incs[i].str != nil && m.Key != nil && !utf8.Valid(m.Key) {
			return errKeyNotUTF8
		}
	}
	return nil
}

// appendIncludes appends the message's metadata to the INCLUDE columns.
func appendIncludes(incs []includeBuilder, m *sarama.ConsumerMessage) {
	for i := range incs {
		ib := &incs[i]
		switch ib.what {
		case "key":
			switch {
			case m.Key == nil:
				ib.b.AppendNull()
			case ib.bin != nil:
				ib.bin.Append(m.Key)
			default:
				ib.str.BinaryBuilder.Append(m.Key)
			}
		case "partition":
			if ib.i32 != nil {
				ib.i32.Append(m.Partition)
			} else {
				ib.i64.Append(int64(m.Partition))
			}
		case "offset":
			ib.i64.Append(m.Offset)
		case "topic":
			ib.str.Append(m.Topic)
		case "timestamp":
			// Messages without a timestamp (format v0, or -1) have none.
			if ms := m.Timestamp.UnixMilli(); m.Timestamp.IsZero() || ms < 0 {
				ib.b.AppendNull()
			} else {
				ib.ts.Append(arrow.Timestamp(m.Timestamp.UnixMicro()))
			}
		default:
			panic(fmt.Sprintf("kafka: unknown include %q", ib.what))
		}
	}
}
