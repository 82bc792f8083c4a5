package pgwire

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/types"
)

// Handler is the database behind the server. The server knows nothing of SQL:
// it speaks the protocol and hands statement text, parameters and
// cancellation to a Session.
type Handler interface {
	// Open starts a session for a client that completed the startup
	// handshake. The context lives as long as the connection.
	Open(ctx context.Context, client ClientInfo) (Session, error)
}

// ClientInfo is what the client said in its StartupMessage.
type ClientInfo struct {
	User            string
	Database        string
	ApplicationName string
	// Params holds every startup parameter as sent, including the above.
	Params map[string]string
	// RemoteAddr is the client's address, for logs.
	RemoteAddr string
}

// Session is one client's conversation with the database. The server calls
// its methods from one goroutine at a time.
type Session interface {
	// Parse splits sql into statements and checks their syntax. It plans
	// nothing, so a later statement may refer to an object an earlier one
	// creates. An empty or all-comment sql yields no statements.
	Parse(ctx context.Context, sql string) ([]Statement, error)
	// ParameterStatus returns the run-time parameters reported to the client
	// (server_version, client_encoding, DateStyle, ...) with their current
	// values: all at startup, and those that changed before each
	// ReadyForQuery, as PostgreSQL reports a SET of them.
	ParameterStatus() map[string]string
	// TxStatus is the transaction state for ReadyForQuery: 'I' idle, 'T' in a
	// transaction block, 'E' in a failed transaction block.
	TxStatus() byte
	// Close ends the session and frees what it holds.
	Close()
}

// Statement is one parsed statement.
type Statement interface {
	// SQL is the statement's text.
	SQL() string
	// Describe plans the statement. paramTypes are the types the client
	// declared (types.Unknown where it declared none, or OID 0); the result
	// gives every parameter a type, and Columns is nil for a statement that
	// returns no rows.
	Describe(ctx context.Context, paramTypes []types.T) (Description, error)
	// Execute runs the statement with bound parameter values (in the types
	// that Describe reported). It returns once the statement has started;
	// rows are pulled from the Result. Cancelling ctx cancels the statement.
	Execute(ctx context.Context, params []types.Datum) (Result, error)
}

// Description is what a statement takes and returns.
type Description struct {
	Params  []types.T
	Columns []types.Column
}

// Result is the outcome of an executing statement.
type Result interface {
	// Columns are the result's columns, nil when it returns no rows.
	Columns() []types.Column
	// Next returns the next batch of rows. It returns (nil, nil) when there
	// are no more; the batch is valid until the next call. It blocks for
	// statements that produce rows over time (SUBSCRIBE) and returns ctx's
	// error when ctx is cancelled.
	Next(ctx context.Context) (arrow.Record, error)
	// Tag is the command tag (e.g. "SELECT 3", "INSERT 0 1",
	// "CREATE MATERIALIZED VIEW"), valid once Next has returned (nil, nil).
	// For a portal suspended by a row limit the server does not call it.
	Tag() string
	// Notices returns warnings and notices to send before the result.
	Notices() []error
	// Close frees the result; it may be called before it is exhausted.
	Close()
}

// CopyOutResult is implemented by a Result that the client receives as the
// data of COPY ... TO STDOUT (text format: tab-separated values, \N for
// NULL, one line per row) rather than as rows, as for
// `COPY (SUBSCRIBE ...) TO STDOUT`.
type CopyOutResult interface {
	Result
	CopyOut() bool
}
