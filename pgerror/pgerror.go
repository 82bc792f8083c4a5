package pgerror

import (
	"errors"
	"fmt"
)

// SQLSTATE codes Sluice uses, named as in PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion         = "00000"
	Warning                      = "01000"
	FeatureNotSupported          = "0A000"
	CardinalityViolation         = "21000"
	DataException                = "22000"
	StringDataRightTruncation    = "22001"
	NumericValueOutOfRange       = "22003"
	NullValueNotAllowed          = "22004"
	InvalidDatetimeFormat        = "22007"
	DatetimeFieldOverflow        = "22008"
	InvalidParameterValue        = "22023"
	DivisionByZero               = "22012"
	InvalidTextRepresentation    = "22P02"
	InvalidEscapeSequence        = "22025"
	InvalidRegularExpression     = "2201B"
	IntervalFieldOverflow        = "22015"
	NotNullViolation             = "23502"
	UniqueViolation              = "23505"
	InvalidTransactionState      = "25000"
	ReadOnlySQLTransaction       = "25006"
	InvalidSQLStatementName      = "26000"
	InvalidCursorName            = "34000"
	SyntaxError                  = "42601"
	InsufficientPrivilege        = "42501"
	UndefinedColumn              = "42703"
	UndefinedFunction            = "42883"
	UndefinedTable               = "42P01"
	UndefinedObject              = "42704"
	UndefinedParameter           = "42P02"
	DuplicateColumn              = "42701"
	DuplicateObject              = "42710"
	DuplicateTable               = "42P07"
	AmbiguousColumn              = "42702"
	AmbiguousFunction            = "42725"
	DatatypeMismatch             = "42804"
	CannotCoerce                 = "42846"
	GroupingError                = "42803"
	WrongObjectType              = "42809"
	InvalidColumnReference       = "42P10"
	InvalidObjectDefinition      = "42P17"
	DependentObjectsStillExist   = "2BP01"
	ProgramLimitExceeded         = "54000"
	ObjectNotInPrerequisiteState = "55000"
	QueryCanceled                = "57014"
	AdminShutdown                = "57P01"
	ConfigFileError              = "F0000"
	ConnectionException          = "08000"
	ProtocolViolation            = "08P01"
	InvalidAuthorizationSpec     = "28000"
	InvalidCatalogName           = "3D000"
	InvalidSchemaName            = "3F000"
	InternalError                = "XX000"
	CharacterNotInRepertoire     = "22021"
	NonstandardUseOfEscape       = "22P06"
	InvalidTableDefinition       = "42P16"
	WindowingError               = "42P20"
	ReservedName                 = "42939"
	StatementTooComplex          = "54001"
	UndefinedFile                = "58P01"
)

// Severity levels of an error or notice.
const (
	SeverityError   = "ERROR"
	SeverityFatal   = "FATAL"
	SeverityNotice  = "NOTICE"
	SeverityWarning = "WARNING"
)

// Error is an error with a SQLSTATE. Position is 1-based in characters of the
// statement text, as PostgreSQL reports it; 0 means no position.
type Error struct {
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int
	Severity string // empty means ERROR
}

func (e *Error) Error() string { return e.Message }

// New returns an error with code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithHint returns e with a hint for the user on what to do next.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// WithDetail returns e with a detail line.
func (e *Error) WithDetail(format string, args ...any) *Error {
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// WithPosition returns e pointing at the 1-based character position pos.
func (e *Error) WithPosition(pos int) *Error {
	e.Position = pos
	return e
}

// Code returns the SQLSTATE of err: the code of the first *Error in its chain,
// QueryCanceled for a context cancellation, and InternalError otherwise.
func Code(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return InternalError
}

// Convert returns err as an *Error, keeping an *Error found in its chain (with
// the outer context prepended to its message) and classing anything else as
// an internal error.
func Convert(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Error() == err.Error() {
			return pe
		}
		c := *pe
		c.Message = err.Error()
		return &c
	}
	return &Error{Code: InternalError, Message: err.Error()}
}
