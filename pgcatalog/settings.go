package pgcatalog

import (
	"strings"
)

// settingDef is one row of pg_settings. Its value is the session's when the
// session has the parameter, else the default here.
type settingDef struct {
	name, def, unit, category, desc, context, vartype string
	min, max                                          string
}

// settingDefs are the parameters pg_settings lists besides the session's
// own, with PostgreSQL 15's descriptions. Sluice's behaviour matches these
// values (it has no other collation, encoding or isolation level).
var settingDefs = []settingDef{
	{name: "application_name", category: "Reporting and Logging / What to Log", desc: "Sets the application name to be reported in statistics and logs.", context: "user", vartype: "string"},
	{name: "block_size", def: "8192", category: "Preset Options", desc: "Shows the size of a disk block.", context: "internal", vartype: "integer", min: "8192", max: "8192"},
	{name: "bytea_output", def: "hex", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the output format for bytea.", context: "user", vartype: "enum"},
	{name: "client_encoding", def: "UTF8", category: "Client Connection Defaults / Locale and Formatting", desc: "Sets the client's character set encoding.", context: "user", vartype: "string"},
	{name: "DateStyle", def: "ISO, MDY", category: "Client Connection Defaults / Locale and Formatting", desc: "Sets the display format for date and time values.", context: "user", vartype: "string"},
	{name: "default_transaction_isolation", def: "read committed", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the transaction isolation level of each new transaction.", context: "user", vartype: "enum"},
	{name: "default_transaction_read_only", def: "off", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the default read-only status of new transactions.", context: "user", vartype: "bool"},
	{name: "extra_float_digits", def: "1", category: "Client Connection Defaults / Locale and Formatting", desc: "Sets the number of digits displayed for floating-point values.", context: "user", vartype: "integer", min: "-15", max: "3"},
	{name: "in_hot_standby", def: "off", category: "Preset Options", desc: "Shows whether hot standby is currently active.", context: "internal", vartype: "bool"},
	{name: "integer_datetimes", def: "on", category: "Preset Options", desc: "Shows whether datetimes are integer based.", context: "internal", vartype: "bool"},
	{name: "IntervalStyle", def: "postgres", category: "Client Connection Defaults / Locale and Formatting", desc: "Sets the display format for interval values.", context: "user", vartype: "enum"},
	{name: "is_superuser", def: "on", category: "Preset Options", desc: "Shows whether the current user is a superuser.", context: "internal", vartype: "bool"},
	{name: "lc_collate", def: "C.UTF-8", category: "Preset Options", desc: "Shows the collation order locale.", context: "internal", vartype: "string"},
	{name: "lc_ctype", def: "C.UTF-8", category: "Preset Options", desc: "Shows the character classification and case conversion locale.", context: "internal", vartype: "string"},
	{name: "max_identifier_length", def: "63", category: "Preset Options", desc: "Shows the maximum identifier length.", context: "internal", vartype: "integer", min: "63", max: "63"},
	{name: "search_path", def: `"$user", public`, category: "Client Connection Defaults / Statement Behavior", desc: "Sets the schema search order for names that are not schema-qualified.", context: "user", vartype: "string"},
	{name: "server_encoding", def: "UTF8", category: "Preset Options", desc: "Shows the server (database) character set encoding.", context: "internal", vartype: "string"},
	{name: "server_version", def: "15.0", category: "Preset Options", desc: "Shows the server version.", context: "internal", vartype: "string"},
	{name: "server_version_num", def: "150000", category: "Preset Options", desc: "Shows the server version as an integer.", context: "internal", vartype: "integer", min: "150000", max: "150000"},
	{name: "standard_conforming_strings", def: "on", category: "Version and Platform Compatibility / Previous PostgreSQL Versions", desc: "Causes '...' strings to treat backslashes literally.", context: "user", vartype: "bool"},
	{name: "statement_timeout", def: "0", unit: "ms", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the maximum allowed duration of any statement.", context: "user", vartype: "integer", min: "0", max: "2147483647"},
	{name: "TimeZone", def: "UTC", category: "Client Connection Defaults / Locale and Formatting", desc: "Sets the time zone for displaying and interpreting time stamps.", context: "user", vartype: "string"},
	{name: "transaction_isolation", def: "read committed", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the current transaction's isolation level.", context: "user", vartype: "enum"},
	{name: "transaction_read_only", def: "off", category: "Client Connection Defaults / Statement Behavior", desc: "Sets the current transaction's read-only status.", context: "user", vartype: "bool"},
}

// settingByName indexes settingDefs by lower-case name.
var settingByName = func() map[string]*settingDef {
	m := make(map[string]*settingDef, len(settingDefs))
	for i := range settingDefs {
		m[strings.ToLower(settingDefs[i].name)] = &settingDefs[i]
	}
	return m
}()

// value is the parameter's value for the session: its own, or the default.
func (d *settingDef) value(s *Snapshot) string {
	for k, v := range s.session.Settings {
		if strings.EqualFold(k, d.name) {
			return v
		}
	}
	return d.def
}
