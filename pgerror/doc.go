// Package pgerror is the one kind of error Sluice shows a client: a message
// with a PostgreSQL SQLSTATE code, and optionally a detail, a hint and the
// position in the statement text that the error points at.
//
// Code that knows what went wrong in SQL terms returns a *Error; anything else
// is wrapped by the server as an internal error (XX000). Tests assert on the
// code, not on the message.
package pgerror
