package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// Logger receives connection-level events; nil means slog.Default().
	Logger *slog.Logger
	// The run-time parameters reported at startup (server_version, ...) come
	// from Session.ParameterStatus, not from here.
}

// Server speaks the PostgreSQL frontend/backend protocol (version 3.0) on
// behalf of a Handler. One Server may serve several listeners.
type Server struct {
	handler Handler
	log     *slog.Logger

	// sessions maps the process id handed out in BackendKeyData to its
	// connection, so that a CancelRequest arriving on another connection can
	// find the statement to cancel.
	mu       sync.Mutex
	sessions map[uint32]*conn
}

// NewServer returns a server that hands every client session to h.
func NewServer(h Handler, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{handler: h, log: log, sessions: make(map[uint32]*conn)}
}

// Serve accepts connections on ln until ctx is cancelled, then closes ln and
// every connection and returns after all connection goroutines have ended.
// It returns nil after a cancellation and the listener's error if accepting
// fails for good; either way every connection is closed first.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	var conns sync.WaitGroup
	// Deferred in this order so that connections see the cancellation before
	// Serve waits for them.
	defer conns.Wait()
	defer cancel()
	defer ln.Close()
	// Closing the listener is what ends a blocked Accept.
	context.AfterFunc(ctx, func() { ln.Close() })

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
			}
			// Running out of file descriptors and aborted handshakes pass;
			// back off rather than spin, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("pgwire: accept failed; retrying", "addr", ln.Addr(), "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		conns.Go(func() { s.serveConn(ctx, nc) })
	}
}

// register gives c a process id and secret that no other live connection
// has and makes it reachable by CancelRequest.
func (s *Server) register(c *conn) error {
	for {
		var key [8]byte
		if _, err := rand.Read(key[:]); err != nil {
			return fmt.Errorf("generate cancel key: %w", err)
		}
		// PostgreSQL process ids are positive int32s; some clients store
		// them signed.
		pid := binary.BigEndian.Uint32(key[:4]) & 0x7fffffff
		if pid == 0 {
			continue
		}
		s.mu.Lock()
		_, taken := s.sessions[pid]
		if !taken {
			s.sessions[pid] = c
		}
		s.mu.Unlock()
		if !taken {
			c.pid = pid
			copy(c.secret[:], key[4:])
			return nil
		}
	}
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if s.sessions[c.pid] == c {
		delete(s.sessions, c.pid)
	}
	s.mu.Unlock()
}

// cancel handles a CancelRequest: when the key matches a live session it
// cancels that session's running operation. A wrong key is ignored without
// a trace visible to the sender, as in PostgreSQL.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.sessions[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret[:], secret) != 1 {
		s.log.Debug("pgwire: ignoring cancel request with unknown key", "pid", pid)
		return
	}
	c.cancelRunning()
}
