package engine_test

import (
	"bytes"
	"context"
	"os"
	osexec "os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// psqlSchema is one object of each kind: a source, a table with a primary
// key, materialized views over the table, and a sink.
const psqlSchema = `
CREATE SOURCE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP,
  WATERMARK FOR date_time AS date_time - INTERVAL '5' SECOND)
  WITH (connector = 'nexmark', nexmark.table.type = 'Bid', nexmark.event.rate = '10');
CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR, tier VARCHAR);
CREATE MATERIALIZED VIEW tiers AS SELECT tier, count(*) AS n FROM users GROUP BY tier;
CREATE SINK tiers_out FROM tiers WITH (connector = 'blackhole', type = 'upsert', primary_key = 'tier');
`

// TestPsqlDescribe runs psql's describe commands against a server and
// checks that each succeeds and prints the key lines PostgreSQL's psql
// prints for the same objects.
func TestPsqlDescribe(t *testing.T) {
	psql, err := osexec.LookPath("psql")
	if err != nil {
		if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
			t.Fatal("psql is not installed (install postgresql-client)")
		}
		t.Skip("psql is not installed; install postgresql-client to run this test")
	}
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, port := conn.Config().Host, conn.Config().Port
	for _, stmt := range strings.Split(psqlSchema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	conn.Close(ctx)

	run := func(t *testing.T, command string) (stdout, stderr string) {
		t.Helper()
		cmd := osexec.CommandContext(ctx, psql, "-X", "-P", "pager=off", "-h", host, "-p", strconv.Itoa(int(port)),
			"-U", "ada", "-d", "shop", "-v", "ON_ERROR_STOP=1", "-c", command)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil && errOut.Len() == 0 {
			t.Fatalf("psql -c %q: %v", command, err)
		}
		return out.String(), errOut.String()
	}

	tests := []struct {
		command string
		// lines are regular expressions that must each match a whole line.
		lines []string
	}{
		{`\d`, []string{
			`^ *List of relations$`,
			`^ public \| tiers +\| materialized view \| ada$`,
			`^ public \| users +\| table +\| ada$`,
			`^\(2 rows\)$`, // sources (s) and sinks (k) have kinds psql does not list
		}},
		{`\dt`, []string{`^ public \| users \| table \| ada$`, `^\(1 row\)$`}},
		{`\dv`, nil}, // "Did not find any relations." goes to stderr
		{`\dm`, []string{`^ public \| tiers \| materialized view \| ada$`}},
		{`\dn`, []string{`^ *List of schemas$`, `^ public \| pg_database_owner$`, `^\(1 row\)$`}},
		{`\l`, []string{`^ shop +\| ada +\| UTF8 +\| C\.UTF-8 \| C\.UTF-8 \| +\| libc +\| *$`}},
		{`\df`, []string{`^ *List of functions$`, `^\(0 rows\)$`}},
		{`\d users`, []string{
			`^ +Table "public\.users"$`,
			`^ id +\| bigint +\| +\| not null \| *$`,
			`^ name +\| character varying \| +\| +\| *$`,
			`^Indexes:$`,
			`^    "users_pkey" PRIMARY KEY, btree \(id\)$`,
		}},
		{`\d tiers`, []string{`^ +Materialized view "public\.tiers"$`, `^ tier +\| character varying \|`, `^ n +\| bigint +\|`}},
		{`\d bids`, []string{`^ +\?s\? "public\.bids"$`, `^ date_time \| timestamp without time zone$`}},
		{`\d tiers_out`, []string{`\?k\? "public\.tiers_out"$`, `^ tier +\| character varying$`}},
		{`\d pg_catalog.pg_class`, []string{`^ +Table "pg_catalog\.pg_class"$`, `^ relkind +\| "char" +\|`, `^ reloptions +\| text\[\] +\|`}},
		{`\d nope`, nil}, // "Did not find any relation named" goes to stderr
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			out, errOut := run(t, tc.command)
			if tc.lines == nil {
				// psql tells on stderr, without an error, that nothing matched.
				if !strings.HasPrefix(errOut, "Did not find any relation") {
					t.Errorf("stderr: %q, stdout: %q", errOut, out)
				}
				return
			}
			if errOut != "" {
				t.Fatalf("psql printed an error:\n%s\nstdout:\n%s", errOut, out)
			}
			checkLines(t, out, tc.lines)
		})
	}

	// \d+ also reads c.reloptions || ARRAY(SELECT 'toast.' || x FROM
	// unnest(tc.reloptions) x), an ARRAY subquery over a set-returning
	// function whose argument is an outer reference.
	for _, tc := range []struct {
		command string
		lines   []string
	}{
		{`\d+ users`, []string{
			`^ +Table "public\.users"$`,
			`^ id +\| bigint +\| +\| not null \| +\| plain +\| +\| +\| *$`,
			`^ name +\| character varying \| +\| +\| +\| extended \|`,
			`^    "users_pkey" PRIMARY KEY, btree \(id\)$`,
			`^Access method: heap$`,
		}},
		{`\d+ tiers`, []string{
			`^ +Materialized view "public\.tiers"$`,
			`^ n +\| bigint +\| +\| +\| +\| plain +\|`,
			`^View definition:$`,
			`SELECT tier, count\(\*\) AS n FROM users GROUP BY tier;$`,
			`^Access method: heap$`,
		}},
	} {
		t.Run(tc.command, func(t *testing.T) {
			out, errOut := run(t, tc.command)
			if errOut != "" {
				t.Fatalf("psql printed an error:\n%s\nstdout:\n%s", errOut, out)
			}
			checkLines(t, out, tc.lines)
		})
	}
}

// checkLines fails unless every pattern matches some line of out.
func checkLines(t *testing.T, out string, patterns []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		found := false
		for _, l := range lines {
			if re.MatchString(l) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no line matches %s in:\n%s", p, out)
		}
	}
}

// TestCatalogThroughDriver reads every system relation with pgx's default
// extended protocol, which takes the types it knows (oid, name, "char",
// text[], ...) in the binary format, and checks the values decode.
func TestCatalogThroughDriver(t *testing.T) {
	connect, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range strings.Split(psqlSchema, ";") {
		if strings.TrimSpace(stmt) != "" {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	rows, err := conn.Query(ctx, `SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 50 {
		t.Fatalf("only %d system relations: %v", len(names), names)
	}
	for _, name := range names {
		rows, err := conn.Query(ctx, "SELECT * FROM "+name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		rows.Close()
	}
	var oid uint32
	var kind string
	if err := conn.QueryRow(ctx, "SELECT oid, relkind FROM pg_class WHERE oid = $1::regclass", "users").Scan(&oid, &kind); err != nil || kind != "r" || oid < 16384 {
		t.Errorf("users: oid %d, relkind %q, %v", oid, kind, err)
	}
}
