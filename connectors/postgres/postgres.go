package postgres

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
)

// Option keys. The connection takes either a URL or its parts; a part given
// besides the URL replaces the URL's.
const (
	optURL        = "url"
	optHost       = "host"
	optPort       = "port"
	optUser       = "user"
	optPassword   = "password"
	optDatabase   = "database"
	optSSLMode    = "sslmode"
	optSchema     = "schema"
	optTable      = "table"
	optAutoCreate = "auto.create"
	optBatchRows  = "batch.rows"
)

// Sink types.
const (
	typeAppendOnly = "append-only"
	typeUpsert     = "upsert"
)

// defaultPort is PostgreSQL's port, used with host when port is not set. It
// is not declared as the option's default, which would override the port
// of a url.
const defaultPort = "5432"

// connectTimeout bounds connecting when the URL sets no connect_timeout, so
// that an unreachable server fails CREATE SINK promptly.
const connectTimeout = "10"

// Connector describes the PostgreSQL sink.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "postgres",
		Doc:  "A PostgreSQL (or TimescaleDB) table, written by a sink.",
		Sink: &connectors.SinkSpec{
			Doc:     "Each epoch's changes written to a PostgreSQL table in one transaction: COPY for an append-only sink, INSERT ... ON CONFLICT and DELETE for an upsert sink.",
			Options: sinkOptions(),
			Types:   []string{typeAppendOnly, typeUpsert},
			// Each epoch commits in one transaction together with its
			// number in a progress table, and an epoch already recorded
			// is rolled back: redelivered epochs take effect once.
			Guarantee: "exactly-once",
			NewSink: func(ctx context.Context, cfg connectors.SinkConfig) (connectors.Sink, error) {
				return NewSink(ctx, cfg)
			},
		},
	}
}

func sinkOptions() []connectors.Option {
	return []connectors.Option{
		{Key: optURL, Type: connectors.OptString,
			Doc: "The server as a URL, postgres://user:password@host:port/database?sslmode=disable; host, port, user, password, database and sslmode replace its parts. Either url or host is required."},
		{Key: optHost, Type: connectors.OptString,
			Doc: "The server's host name or address, instead of url or replacing its host."},
		{Key: optPort, Type: connectors.OptInt,
			Doc: "The server's port; 5432 when neither it nor url sets one."},
		{Key: optUser, Type: connectors.OptString,
			Doc: "The user to connect as."},
		{Key: optPassword, Type: connectors.OptString,
			Doc: "The user's password."},
		{Key: optDatabase, Type: connectors.OptString,
			Doc: "The database to connect to; by default the one named like the user."},
		{Key: optSSLMode, Type: connectors.OptEnum,
			Values: []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
			Doc:    "Whether and how to use TLS, as libpq's sslmode; prefer when neither it nor url sets one."},
		{Key: optSchema, Type: connectors.OptString, Default: "public",
			Doc: "The schema of the table; the progress table sluice_sink_progress is kept there too."},
		{Key: optTable, Type: connectors.OptString, Required: true,
			Doc: "The table to write to. Its columns are matched to the sink's by name; it may have more, if they are nullable or have a default."},
		{Key: optAutoCreate, Type: connectors.OptBool, Default: "false",
			Doc: "Create the table when it does not exist, with the sink's columns and types and, for an upsert sink, a primary key on primary_key."},
		{Key: optBatchRows, Type: connectors.OptInt, Default: "1000",
			Doc: "The most rows in one COPY, INSERT or DELETE statement; an epoch takes as many statements as it needs, all in one transaction."},
	}
}

// connString builds the URL to connect with from the options.
func connString(o connectors.Options) (string, error) {
	raw, host := o.String(optURL), o.String(optHost)
	if raw == "" && host == "" {
		return "", pgerror.New(pgerror.InvalidParameterValue,
			"connector postgres needs url or host").
			WithHint("Set url = 'postgres://user@host:5432/database', or host and the options beside it.")
	}
	u := &url.URL{Scheme: "postgres", Path: "/"}
	if raw != "" {
		var err error
		if u, err = url.Parse(raw); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			// The URL may hold a password: do not quote it back.
			return "", pgerror.New(pgerror.InvalidParameterValue,
				"option %q must be a URL such as postgres://user:password@host:5432/database", optURL)
		}
	}
	if host != "" || u.Port() == "" || o.String(optPort) != "" {
		h := u.Hostname()
		if host != "" {
			h = host
		}
		port := u.Port()
		if port == "" {
			port = defaultPort
		}
		if p := o.String(optPort); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return "", pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 65535", optPort)
			}
			port = p
		}
		if h != "" {
			u.Host = net.JoinHostPort(h, port)
		}
	}
	user, password := o.String(optUser), o.String(optPassword)
	if user != "" || password != "" {
		if user == "" && u.User != nil {
			user = u.User.Username()
		}
		if password == "" && u.User != nil {
			password, _ = u.User.Password()
		}
		if password != "" {
			u.User = url.UserPassword(user, password)
		} else {
			u.User = url.User(user)
		}
	}
	if db := o.String(optDatabase); db != "" {
		u.Path = "/" + db
		u.RawPath = ""
	}
	q := u.Query()
	if m := o.String(optSSLMode); m != "" {
		q.Set("sslmode", m)
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", connectTimeout)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// where names the server for error messages, without credentials.
func where(conn string) string {
	u, err := url.Parse(conn)
	if err != nil {
		return "the server"
	}
	return strings.TrimPrefix(u.Host+u.Path, "/")
}
