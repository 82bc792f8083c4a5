// Package pgwire is Sluice's PostgreSQL server: it speaks the
// frontend/backend protocol 3.0 as PostgreSQL 15 does, so that psql, pgx,
// JDBC and the rest connect to Sluice as to PostgreSQL. It knows nothing of
// SQL. Statement text, parameters and cancellation go to a Handler's
// Session (handler.go); rows come back as Arrow record batches and are
// encoded per column with types.AppendText / types.AppendBinary.
//
// # Connection lifecycle
//
// Server.Serve accepts connections until its context ends. Each connection
// then goes through:
//
//  1. Startup. SSLRequest and GSSEncRequest are answered 'N' (no
//     encryption); bytes that arrived together with such a request, before
//     the client could have seen the answer, end the connection
//     (CVE-2021-23214). A CancelRequest is served and the connection closed
//     without a reply. A StartupMessage of protocol 3.x opens a Session
//     (Handler.Open) and is answered with AuthenticationOk (there is no
//     authentication yet), the session's ParameterStatus values,
//     BackendKeyData (a random process id and secret, registered for
//     CancelRequest) and ReadyForQuery. A client that asks for a newer minor
//     version or for _pq_ options gets NegotiateProtocolVersion (3.0).
//  2. Queries, simple and extended, until Terminate, a FATAL error (such as a
//     protocol violation, 08P01), the client vanishing, or server shutdown,
//     which tells the client 57P01 and closes.
//  3. Cleanup: every portal's Result is closed, then the Session.
//
// A simple Query is parsed whole before anything runs; each statement is
// described, executed and streamed, and the first error ends the message. In
// the extended protocol Parse plans the statement (Session.Parse, then
// Statement.Describe with the declared parameter types), Bind decodes
// parameters, and the first Execute starts it (Statement.Execute); Execute
// with a row limit suspends the portal, keeping its Result and the batch in
// flight for the next Execute. An error skips messages up to Sync. Portals
// live in a transaction: Sync or Query outside a transaction block
// (TxStatus 'I' or 'E') drops them.
//
// # Goroutines
//
// Each connection has two goroutines. The reader decodes frontend messages
// and queues copies of them; it never waits on execution, only on a byte
// budget for read-ahead, so it sees at once when the client goes away. The
// executing goroutine (the one that ran the startup) takes messages in order,
// calls the Session and writes every backend message; only it writes to the
// socket. The connection context is the parent of every statement's
// context: the reader cancels it when the socket fails, so a Next blocked
// on a statement that produces rows forever (SUBSCRIBE) returns. A
// CancelRequest cancels only the operation running at that moment (the
// executing portal's context), which the client sees as 57014. When the
// connection context ends, reads stop at once and writes get a short grace
// period, so neither goroutine can stay blocked on the socket. Serve waits
// for every connection's goroutines before it returns.
//
// # Output
//
// Backend messages are encoded into one reused buffer; DataRow is encoded by
// hand, value by value straight into that buffer, so nothing is allocated
// per row. The buffer is written at ReadyForQuery, at Flush, before every
// call of Result.Next (which may block for as long as the statement takes to
// produce rows, so what is ready goes out first), and whenever it passes
// 64 KiB.
package pgwire
