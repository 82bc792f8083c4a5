package pgwire

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedb/sluice/pgerror"
)

const (
	// startupTimeout bounds the handshake, like PostgreSQL's
	// authentication_timeout, so that a silent client cannot hold a
	// connection slot forever.
	startupTimeout = 60 * time.Second
	// farewellGrace is how long a write may still take once the connection
	// is ending, so that a final error can reach a client that is reading
	// while one that is not cannot stall shutdown.
	farewellGrace = 5 * time.Second
	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
)

// Request codes that take the place of a protocol version in a startup
// packet.
const (
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
)

var (
	// errClientGone is the cause of a connection context cancelled because
	// the socket failed: nothing more can be said to the client.
	errClientGone = errors.New("client connection lost")
	// errCanceledByUser is the cause of an operation context cancelled by a
	// CancelRequest.
	errCanceledByUser = errors.New("canceled by cancel request")
)

// conn is one client connection. Except where noted its fields belong to the
// goroutine running serveConn (the executing goroutine).
type conn struct {
	srv    *Server
	nc     net.Conn
	log    *slog.Logger
	ctx    context.Context // lives as long as the connection
	cancel context.CancelCauseFunc

	rec   readErrRecorder
	in    *bufio.Reader // the socket, buffered; read by startup, then by the reader
	inbox *inbox
	w     writer

	sess Session
	// reported holds the run-time parameters as last sent to the client.
	reported map[string]string
	// pid and secret are the cancel key; set before the connection is
	// registered and read-only afterwards.
	pid    uint32
	secret [4]byte

	// running cancels the operation in progress; guarded by mu because
	// CancelRequests arrive on other connections' goroutines.
	mu      sync.Mutex
	running context.CancelCauseFunc

	stmts   map[string]*prepared
	portals map[string]*portal
	// skipToSync is set by an error in an extended-query message: PostgreSQL
	// discards everything up to the next Sync.
	skipToSync bool
	// closing is set by a FATAL error: the connection ends after it.
	closing bool
}

func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer nc.Close()
	c := &conn{
		srv:      s,
		nc:       nc,
		log:      s.log.With("remote", nc.RemoteAddr().String()),
		ctx:      ctx,
		cancel:   cancel,
		inbox:    newInbox(),
		stmts:    make(map[string]*prepared),
		portals:  make(map[string]*portal),
		reported: make(map[string]string),
	}
	c.rec.r = nc
	c.in = bufio.NewReader(&c.rec)
	c.w.w = nc
	// Whatever this connection's goroutines are blocked on must end with
	// the context: reads at once, writes after a grace period.
	stopDeadlines := context.AfterFunc(ctx, func() {
		now := time.Now()
		nc.SetReadDeadline(now)
		nc.SetWriteDeadline(now.Add(farewellGrace))
	})
	defer stopDeadlines()

	nc.SetReadDeadline(time.Now().Add(startupTimeout))
	info, ok := c.startup()
	if !ok {
		return
	}
	nc.SetReadDeadline(time.Time{})
	if ctx.Err() != nil {
		// Cancelled while the startup deadline was being cleared.
		return
	}

	sess, err := s.handler.Open(ctx, info)
	if err != nil {
		c.fatal(pgerror.Convert(err))
		return
	}
	c.sess = sess
	defer sess.Close()
	if err := s.register(c); err != nil {
		c.fatal(pgerror.Convert(err))
		return
	}
	defer s.unregister(c)
	c.greet()
	if c.w.flush() != nil {
		return
	}

	var reader sync.WaitGroup
	reader.Go(c.read)
	c.serveRecovering()
	// Stop the reader: the cancellation wakes it if it waits on the inbox,
	// closing the socket if it waits on a read.
	cancel(errClientGone)
	nc.Close()
	reader.Wait()
	c.closePortals()
}

// startup runs the handshake up to the StartupMessage: it refuses SSL and
// GSSAPI encryption, serves a CancelRequest, and returns the client's
// parameters; ok is false when the connection is to be closed.
func (c *conn) startup() (info ClientInfo, ok bool) {
	sslDone, gssDone := false, false
	for {
		body, err := c.readStartupPacket()
		if err != nil {
			c.log.Debug("pgwire: bad startup packet", "err", err)
			return ClientInfo{}, false
		}
		code := binary.BigEndian.Uint32(body)
		switch {
		case code == sslRequestCode && !sslDone:
			sslDone = true
			if !c.refuseEncryption("SSL request") {
				return ClientInfo{}, false
			}
		case code == gssEncRequestCode && !gssDone:
			gssDone = true
			if !c.refuseEncryption("GSSAPI encryption request") {
				return ClientInfo{}, false
			}
		case code == cancelRequestCode:
			var req pgproto3.CancelRequest
			if err := req.Decode(body); err == nil {
				c.srv.cancel(req.ProcessID, req.SecretKey)
			}
			return ClientInfo{}, false
		case code>>16 == 3:
			return c.acceptStartup(code, body[4:])
		default:
			// Includes a second SSL or GSSAPI request, as in PostgreSQL.
			c.fatal(pgerror.New(pgerror.FeatureNotSupported,
				"unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", code>>16, code&0xffff))
			return ClientInfo{}, false
		}
	}
}

// readStartupPacket reads one length-prefixed packet of the startup phase
// and returns its body, which starts with the version or request code.
func (c *conn) readStartupPacket() ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(c.in, header[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(header[:]))) - 4
	if n < 4 || n > maxStartupPacket {
		return nil, errors.New("invalid length of startup packet")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.in, body); err != nil {
		return nil, err
	}
	return body, nil
}

// refuseEncryption answers an SSL or GSSAPI request with 'N'. Bytes that
// arrived together with the request were sent before the client could know
// the answer: they may have been injected by a man in the middle and would
// be taken as sent over an encrypted channel (CVE-2021-23214), so the
// connection is refused.
func (c *conn) refuseEncryption(request string) bool {
	if _, err := c.nc.Write([]byte{'N'}); err != nil {
		return false
	}
	if c.in.Buffered() > 0 {
		c.fatal(pgerror.New(pgerror.ProtocolViolation, "received unencrypted data after %s", request).
			WithDetail("This could be either a client-software bug or evidence of an attempted man-in-the-middle attack."))
		return false
	}
	return true
}

// acceptStartup decodes a StartupMessage of protocol 3.minor. A newer minor
// version or _pq_ protocol options are answered with
// NegotiateProtocolVersion (3.0, none recognised), as PostgreSQL does.
func (c *conn) acceptStartup(version uint32, body []byte) (ClientInfo, bool) {
	params := make(map[string]string)
	var unrecognized []string
	for {
		key, rest, ok := bytes.Cut(body, []byte{0})
		if !ok {
			c.fatal(pgerror.New(pgerror.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte"))
			return ClientInfo{}, false
		}
		if len(key) == 0 {
			if len(rest) != 0 {
				c.fatal(pgerror.New(pgerror.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte"))
				return ClientInfo{}, false
			}
			break
		}
		value, rest, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			c.fatal(pgerror.New(pgerror.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte"))
			return ClientInfo{}, false
		}
		if k := string(key); strings.HasPrefix(k, "_pq_.") {
			unrecognized = append(unrecognized, k)
		} else {
			params[k] = string(value)
		}
		body = rest
	}
	if version&0xffff > 0 || len(unrecognized) > 0 {
		c.w.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	user := params["user"]
	if user == "" {
		c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpec, "no PostgreSQL user name specified in startup packet"))
		return ClientInfo{}, false
	}
	database := params["database"]
	if database == "" {
		database = user
	}
	return ClientInfo{
		User:            user,
		Database:        database,
		ApplicationName: params["application_name"],
		Params:          params,
		RemoteAddr:      c.nc.RemoteAddr().String(),
	}, true
}

// greet completes the handshake: no authentication, the session's run-time
// parameters, the cancel key, and the first ReadyForQuery.
func (c *conn) greet() {
	c.w.send(&pgproto3.AuthenticationOk{})
	c.reportParameters()
	c.w.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.readyForQuery()
}

// reportParameters sends ParameterStatus for every run-time parameter the
// client has not seen with its current value: all of them at startup, then
// those a statement changed (SET application_name, DateStyle, ...), before
// ReadyForQuery as PostgreSQL does.
func (c *conn) reportParameters() {
	status := c.sess.ParameterStatus()
	var changed []string
	for name, value := range status {
		if seen, ok := c.reported[name]; !ok || seen != value {
			changed = append(changed, name)
		}
	}
	// In PostgreSQL's order: by name, ignoring case.
	slices.SortFunc(changed, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, name := range changed {
		c.w.send(&pgproto3.ParameterStatus{Name: name, Value: status[name]})
		c.reported[name] = status[name]
	}
}

// serve executes queued messages in order until the client terminates, the
// connection fails or the context ends.
func (c *conn) serve() {
	for {
		it, err := c.inbox.take(c.ctx)
		if err != nil {
			break
		}
		if it.violation != nil {
			c.fatal(it.violation)
			return
		}
		if _, ok := it.msg.(*pgproto3.Terminate); ok {
			return
		}
		c.dispatch(it.msg)
		if c.closing {
			return
		}
		if c.w.err != nil {
			c.log.Debug("pgwire: connection lost", "err", c.w.err)
			c.cancel(errClientGone)
			return
		}
		if c.ctx.Err() != nil {
			break
		}
	}
	if !errors.Is(context.Cause(c.ctx), errClientGone) {
		// The server is shutting down.
		c.fatal(pgerror.New(pgerror.AdminShutdown, "terminating connection due to administrator command"))
	}
}

// serveRecovering runs serve, turning a panic (a bug in the handler or
// here) into the end of this connection rather than of the server.
func (c *conn) serveRecovering() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic while serving a connection", "panic", r, "stack", string(debug.Stack()))
			c.fatal(pgerror.New(pgerror.InternalError, "internal error: %v", r))
		}
	}()
	c.serve()
}

// dispatch runs one frontend message.
func (c *conn) dispatch(msg pgproto3.FrontendMessage) {
	if _, ok := msg.(*pgproto3.Sync); ok {
		c.skipToSync = false
		c.sync()
		return
	}
	if c.skipToSync {
		return
	}
	var err error
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
		return
	case *pgproto3.FunctionCall:
		// The fast-path interface ends with ReadyForQuery like a query.
		c.sendError(pgerror.New(pgerror.FeatureNotSupported, "function call protocol is not supported"))
		c.readyForQuery()
		c.w.flush()
		return
	case *pgproto3.Flush:
		c.w.flush()
		return
	case *pgproto3.Parse:
		err = c.parse(m)
	case *pgproto3.Bind:
		err = c.bind(m)
	case *pgproto3.Describe:
		err = c.describe(m)
	case *pgproto3.Execute:
		err = c.execute(m)
	case *pgproto3.Close:
		err = c.close(m)
	}
	if err != nil {
		c.sendError(err)
		c.skipToSync = true
	}
}

func (c *conn) readyForQuery() {
	c.reportParameters()
	c.w.send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
}

// begin starts an operation that a CancelRequest may cancel and returns its
// context; end must be called when it is over.
func (c *conn) begin(parent context.Context) (ctx context.Context, end func()) {
	ctx, cancel := context.WithCancelCause(parent)
	c.setRunning(cancel)
	return ctx, func() {
		c.setRunning(nil)
		cancel(context.Canceled)
	}
}

// setRunning makes cancel the target of CancelRequests; nil when nothing
// runs.
func (c *conn) setRunning(cancel context.CancelCauseFunc) {
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
}

// cancelRunning serves a CancelRequest. Nothing running, nothing cancelled:
// the request races with the statement's end by nature.
func (c *conn) cancelRunning() {
	c.mu.Lock()
	if c.running != nil {
		c.running(errCanceledByUser)
	}
	c.mu.Unlock()
}

// fatal sends a FATAL error and ends the connection.
func (c *conn) fatal(e *pgerror.Error) {
	f := *e
	f.Severity = pgerror.SeverityFatal
	c.w.send(errorResponse(&f, ""))
	c.w.flush()
	c.closing = true
}

// whereError carries the context PostgreSQL reports in an error's "where"
// field, such as which Bind parameter failed to decode.
type whereError struct {
	err   error
	where string
}

func (e *whereError) Error() string { return e.err.Error() }
func (e *whereError) Unwrap() error { return e.err }

// sendError reports err to the client. When the connection itself is ending
// nothing is sent: serve says goodbye.
func (c *conn) sendError(err error) {
	if c.ctx.Err() != nil {
		return
	}
	e := pgerror.Convert(err)
	if e.Code == "" || e.Code == pgerror.InternalError {
		c.log.Warn("pgwire: internal error", "err", err)
	}
	var where string
	var we *whereError
	if errors.As(err, &we) {
		where = we.where
	}
	c.w.send(errorResponse(e, where))
	if e.Severity == pgerror.SeverityFatal {
		c.w.flush()
		c.closing = true
	}
}

func errorResponse(e *pgerror.Error, where string) *pgproto3.ErrorResponse {
	severity := e.Severity
	if severity == "" {
		severity = pgerror.SeverityError
	}
	code := e.Code
	if code == "" {
		code = pgerror.InternalError
	}
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Position:            int32(e.Position),
		Where:               where,
	}
}

// sendNotices sends a result's notices and warnings before its rows.
func (c *conn) sendNotices(res Result) {
	for _, n := range res.Notices() {
		// A notice is not an error: without a code of its own it is
		// 00000, and without a severity a NOTICE, or a WARNING for the
		// warning class 01.
		e := &pgerror.Error{Code: pgerror.SuccessfulCompletion, Message: n.Error()}
		if pe, ok := errors.AsType[*pgerror.Error](n); ok {
			converted := *pgerror.Convert(n) // a copy: the handler's error stays as it is
			e = &converted
			if pe.Code == "" {
				e.Code = pgerror.SuccessfulCompletion
			}
		}
		if e.Severity == "" {
			e.Severity = pgerror.SeverityNotice
			if strings.HasPrefix(e.Code, "01") {
				e.Severity = pgerror.SeverityWarning
			}
		}
		c.w.send((*pgproto3.NoticeResponse)(errorResponse(e, "")))
	}
}
