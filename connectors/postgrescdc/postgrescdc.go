package postgrescdc

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
)

// Option keys, spelled as RisingWave's postgres-cdc connector spells them,
// so that CREATE TABLE statements move between the two unchanged.
const (
	optHost              = "hostname"
	optPort              = "port"
	optUser              = "username"
	optPassword          = "password"
	optDatabase          = "database.name"
	optSchema            = "schema.name"
	optTable             = "table.name"
	optSlot              = "slot.name"
	optPublication       = "publication.name"
	optPublicationCreate = "publication.create.enable"
	optSnapshot          = "snapshot"
	optSSLMode           = "ssl.mode"
)

// sslModes maps the ssl.mode values (RisingWave's) to libpq's sslmode.
var sslModes = map[string]string{
	"disabled":    "disable",
	"preferred":   "prefer",
	"required":    "require",
	"verify-ca":   "verify-ca",
	"verify-full": "verify-full",
}

// connectTimeout bounds connecting, so that an unreachable server fails
// CREATE TABLE (and a reader's Open) promptly.
const connectTimeout = "10"

// Connector describes the PostgreSQL change-data-capture source.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "postgres-cdc",
		Doc:  "A PostgreSQL table kept in step by logical replication (pgoutput): a consistent snapshot, then every committed insert, update and delete, for CREATE TABLE ... WITH (connector = 'postgres-cdc').",
		Options: []connectors.Option{
			{Key: optHost, Type: connectors.OptString, Required: true,
				Doc: "The PostgreSQL server's host name or address. Its wal_level must be logical."},
			{Key: optPort, Type: connectors.OptInt, Default: "5432",
				Doc: "The server's port."},
			{Key: optUser, Type: connectors.OptString, Required: true,
				Doc: "The user to connect as; it needs the REPLICATION attribute (or to be a superuser), SELECT on the table and, to create the publication, ownership of the table."},
			{Key: optPassword, Type: connectors.OptString,
				Doc: "The user's password; none when not set."},
			{Key: optDatabase, Type: connectors.OptString, Required: true,
				Doc: "The database that holds the table."},
			{Key: optSchema, Type: connectors.OptString, Default: "public",
				Doc: "The schema of the table."},
			{Key: optTable, Type: connectors.OptString, Required: true,
				Doc: "The table to capture. It needs a primary key, whose columns must be columns of the Sluice table; its other columns are matched to the Sluice table's by name."},
			{Key: optSlot, Type: connectors.OptString,
				Doc: "The logical replication slot that keeps the changes not yet stored by Sluice; by default sluice_ followed by the Sluice table's name (lower case, other characters as _). Lower-case letters, digits and _ only, at most 63. With snapshot true, a new table drops a slot of that name and creates it again."},
			{Key: optPublication, Type: connectors.OptString,
				Doc: "The publication that names the table for the slot; by default sluice_ followed by the Sluice table's name and _pub."},
			{Key: optPublicationCreate, Type: connectors.OptBool, Default: "true",
				Doc: "Create the publication (FOR TABLE the table, publishing inserts, updates and deletes) when it does not exist; when false it must exist and publish the table."},
			{Key: optSnapshot, Type: connectors.OptBool, Default: "true",
				Doc: "Start with a consistent snapshot of the table's rows, then stream the changes committed after it; false streams only changes from the slot's position on."},
			{Key: optSSLMode, Type: connectors.OptEnum, Default: "disabled",
				Values: []string{"disabled", "preferred", "required", "verify-ca", "verify-full"},
				Doc:    "Whether and how to use TLS: as libpq's sslmode disable, prefer, require, verify-ca and verify-full."},
		},
		NewSource: func(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
			return NewSource(ctx, cfg)
		},
	}
}

// settings are the options, checked.
type settings struct {
	dsn         string // keyword/value connection string, without replication
	where       string // host:port/database, for messages
	schema      string
	table       string
	slot        string
	publication string
	ownPub      bool // the publication's name was derived, so it is Sluice's own
	createPub   bool
	snapshot    bool
}

func parseSettings(name string, o connectors.Options) (settings, error) {
	s := settings{
		schema:      o.String(optSchema),
		table:       o.String(optTable),
		slot:        o.String(optSlot),
		publication: o.String(optPublication),
	}
	if s.schema == "" {
		s.schema = "public"
	}
	if s.table == "" {
		return s, pgerror.New(pgerror.InvalidParameterValue, "option %q is required for connector postgres-cdc", optTable)
	}
	if s.slot == "" {
		s.slot = slotName("sluice_" + name)
	} else if !validSlotName(s.slot) {
		return s, pgerror.New(pgerror.InvalidParameterValue,
			"option %q: %q is not a valid replication slot name (lower-case letters, digits and _ only, at most 63)", optSlot, s.slot)
	}
	if s.publication == "" {
		s.publication = truncateName("sluice_" + name + "_pub")
		s.ownPub = true
	}
	var err error
	if s.createPub, err = o.Bool(optPublicationCreate); err != nil {
		return s, err
	}
	if s.snapshot, err = o.Bool(optSnapshot); err != nil {
		return s, err
	}
	port, err := o.Int(optPort)
	if err != nil {
		return s, err
	}
	if port < 1 || port > 65535 {
		return s, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 65535", optPort)
	}
	mode, ok := sslModes[strings.ToLower(o.String(optSSLMode))]
	if !ok {
		mode = "disable"
	}
	host, db := o.String(optHost), o.String(optDatabase)
	kv := []string{
		"host", host,
		"port", strconv.FormatInt(port, 10),
		"user", o.String(optUser),
		"dbname", db,
		"sslmode", mode,
		"connect_timeout", connectTimeout,
	}
	if p := o.String(optPassword); p != "" {
		kv = append(kv, "password", p)
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		fmt.Fprintf(&b, "%s=%s ", kv[i], quoteDSN(kv[i+1]))
	}
	s.dsn = b.String()
	s.where = fmt.Sprintf("%s:%d/%s", host, port, db)
	// Parse once now so that a bad value fails CREATE TABLE, not the reader.
	if _, err := pgconn.ParseConfig(s.dsn); err != nil {
		return s, pgerror.New(pgerror.InvalidParameterValue, "connector postgres-cdc: invalid connection options: %v", redact(err))
	}
	return s, nil
}

// quoteDSN quotes a value of a keyword/value connection string as libpq
// reads it.
func quoteDSN(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "'" + strings.ReplaceAll(v, `'`, `\'`) + "'"
}

// redact keeps a connection error's message free of the password, which
// pgconn may quote back from the connection string.
func redact(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "password="); i >= 0 {
		msg = msg[:i] + "password=..."
	}
	return msg
}

// slotName turns a name into a valid replication slot name: lower case,
// every character but a-z, 0-9 and _ replaced by _, at most 63 bytes.
func slotName(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return truncateName(string(b))
}

func validSlotName(s string) bool {
	return s != "" && len(s) <= 63 && slotName(s) == s
}

// truncateName cuts a name to PostgreSQL's 63-byte identifier limit, on a
// character boundary.
func truncateName(s string) string {
	if len(s) <= 63 {
		return s
	}
	n := 63
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
