package cqltest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a gocql session to srv; proto 0 lets the driver negotiate.
func connect(t *testing.T, srv *Server, proto int, auth gocql.Authenticator) *gocql.Session {
	t.Helper()
	cluster := gocql.NewCluster(srv.Addr())
	cluster.ProtoVersion = proto
	cluster.Timeout = 5 * time.Second
	cluster.ConnectTimeout = 5 * time.Second
	cluster.Authenticator = auth
	cluster.Consistency = gocql.LocalQuorum
	port := srv.ln.Addr().(interface{ String() string })
	_ = port
	cluster.Port = srv.port()
	sess, err := cluster.CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	return sess
}

func (s *Server) port() int {
	var p int
	fmt.Sscan(s.Addr()[len("127.0.0.1:"):], &p)
	return p
}

func TestGocqlRoundTrip(t *testing.T) {
	srv := Start(t, Options{})
	// The driver reads the schema when it connects (and again, a second
	// after a schema event): ks.t exists before, ks.u is created through
	// the driver.
	if err := srv.Exec(`CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
		CREATE TABLE ks.t (p int, c text, v bigint, l frozen<list<int>>, d decimal, PRIMARY KEY ((p), c))`); err != nil {
		t.Fatal(err)
	}
	// proto 0: the driver offers v5 first and must fall back to v4.
	sess := connect(t, srv, 0, nil)
	ctx := testContext(t)
	for _, q := range []string{
		"CREATE TABLE ks.u (k text PRIMARY KEY, m map<text, int>)",
		"INSERT INTO ks.u (k, m) VALUES ('a', {'x': 1, 'y': 2})",
	} {
		if err := sess.Query(q).ExecContext(ctx); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sess.Query("INSERT INTO ks.t (p, c, v, l, d) VALUES (?, ?, ?, ?, 1.25)", 1, "a", int64(10), []int{1, 2}).ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	b := sess.Batch(gocql.UnloggedBatch)
	b.Query("INSERT INTO ks.t (p, c, v, l) VALUES (?, ?, ?, ?)", 1, "b", int64(20), []int{3})
	b.Query("INSERT INTO ks.t (p, c, v) VALUES (?, ?, ?)", 2, "a", int64(30))
	b.Query("DELETE FROM ks.t WHERE p = ? AND c = ?", 2, "a") // same timestamp: the delete wins
	if err := b.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sess.Query("INSERT INTO ks.t (p, c, v) VALUES (3, 'x', 7)").ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	iter := sess.Query("SELECT p, c, v, l FROM ks.t WHERE p = ?", 1).WithContext(ctx).Iter()
	var (
		p   int
		c   string
		v   int64
		l   []int
		got []string
	)
	for iter.Scan(&p, &c, &v, &l) {
		got = append(got, fmt.Sprintln(p, c, v, l))
	}
	if err := iter.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 a 10 [1 2]\n", "1 b 20 [3]\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows of partition 1: %q, want %q", got, want)
	}
	rows, err := srv.Rows("ks", "t")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rows); n != len(want)+1 {
		t.Errorf("%d rows in ks.t: %v", n, rows)
	} else if d := rows[0]["d"]; fmt.Sprint(d) != "1.25" {
		t.Errorf("decimal read back as %v", d)
	}

	var m map[string]int
	if err := sess.Query("SELECT m FROM ks.u WHERE k = 'a'").WithContext(ctx).Scan(&m); err != nil || len(m) != 2 || m["y"] != 2 {
		t.Errorf("map read back as %v, %v", m, err)
	}

	// Paging through a full scan.
	iter = sess.Query("SELECT * FROM ks.t").PageSize(1).WithContext(ctx).Iter()
	if n := iter.NumRows(); n != 1 {
		t.Errorf("first page of %d rows", n)
	}
	all, err := iter.SliceMap()
	if err != nil || len(all) != len(rows) {
		t.Errorf("paged scan: %d rows, %v; want %d", len(all), err, len(rows))
	}

	// Errors come back with their codes.
	err = sess.Query("INSERT INTO ks.t (p, v) VALUES (?, ?)", 1, int64(1)).ExecContext(ctx)
	var re gocql.RequestError
	if !errors.As(err, &re) || re.Code() != ErrInvalid {
		t.Errorf("insert without a clustering key: %v", err)
	}
	err = sess.Query("SELECT * FROM ks.nope").ExecContext(ctx)
	if !errors.As(err, &re) || re.Code() != ErrInvalid {
		t.Errorf("unknown table: %v", err)
	}
	err = sess.Query("UPDATE ks.t SET v = 1 WHERE p = 1 AND c = 'a'").ExecContext(ctx)
	if !errors.As(err, &re) || re.Code() != ErrSyntax {
		t.Errorf("unsupported statement: %v", err)
	}

	// The driver's schema metadata comes from system_schema.
	md, err := sess.KeyspaceMetadata("ks")
	if err != nil {
		t.Fatal(err)
	}
	tm, ok := md.Tables["t"]
	if !ok || len(tm.PartitionKey) != 1 || tm.PartitionKey[0].Name != "p" || len(tm.ClusteringColumns) != 1 || tm.ClusteringColumns[0].Name != "c" {
		t.Errorf("table metadata: %+v", tm)
	}

	// Injected failures come back as the asked error, with nothing applied.
	srv.FailWrites(1, ErrWriteTimeout)
	err = sess.Query("INSERT INTO ks.t (p, c, v) VALUES (?, ?, ?)", 9, "z", int64(1)).ExecContext(ctx)
	var wt *gocql.RequestErrWriteTimeout
	if !errors.As(err, &wt) {
		t.Errorf("injected write timeout: %v (%T)", err, err)
	}
	srv.FailWrites(1, ErrUnavailable)
	err = sess.Query("INSERT INTO ks.t (p, c, v) VALUES (?, ?, ?)", 9, "z", int64(1)).ExecContext(ctx)
	var ua *gocql.RequestErrUnavailable
	if !errors.As(err, &ua) {
		t.Errorf("injected unavailable: %v (%T)", err, err)
	}
	rows2, _ := srv.Rows("ks", "t")
	if len(rows2) != len(rows) {
		t.Errorf("a failed write changed the table: %v", rows2)
	}
}

func TestAuthentication(t *testing.T) {
	srv := Start(t, Options{Username: "cassandra", Password: "secret"})
	sess := connect(t, srv, 4, gocql.PasswordAuthenticator{Username: "cassandra", Password: "secret"})
	if err := sess.Query("SELECT * FROM system.local").Exec(); err != nil {
		t.Fatal(err)
	}
	cluster := gocql.NewCluster(srv.Addr())
	cluster.Port = srv.port()
	cluster.ProtoVersion = 4
	cluster.Authenticator = gocql.PasswordAuthenticator{Username: "cassandra", Password: "wrong"}
	if s, err := cluster.CreateSession(); err == nil {
		s.Close()
		t.Error("a wrong password was accepted")
	}
}

func TestVint(t *testing.T) {
	for _, x := range []int64{0, 1, -1, 63, 64, -64, -65, 1 << 20, -(1 << 40), 1<<63 - 1, -1 << 63} {
		b := appendVint(nil, x)
		got, n, err := readVint(b)
		if err != nil || got != x || n != len(b) {
			t.Errorf("vint %d: %x → %d, %d, %v", x, b, got, n, err)
		}
	}
}
