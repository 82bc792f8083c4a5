package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain lets a test run this binary's main as a child process, so that
// recovery is tested against a process killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startChild runs `sluice serve` on dataDir as a child process and waits
// until it accepts connections.
func startChild(t *testing.T, dataDir string, flags ...string) (*exec.Cmd, string) {
	t.Helper()
	pgAddr := freeAddr(t)
	args := append([]string{"serve", "--pg-listen", pgAddr, "--http-listen", freeAddr(t), "--data-dir", dataDir, "--log-level", "warn"}, flags...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SLUICE_TEST_RUN_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), "postgres://u@"+pgAddr+"/d?sslmode=disable")
		if err == nil {
			conn.Close(context.Background())
			return cmd, pgAddr
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a child process's port: no event to await
	}
}

func TestAcknowledgedStateSurvivesSIGKILL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	events := dir + "/events.jsonl"
	var lines strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&lines, `{"k": %d, "v": %d}`+"\n", i%4, i)
	}
	if err := os.WriteFile(events, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	child, addr := startChild(t, dir+"/data")
	conn, err := pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"CREATE TABLE users (id INT PRIMARY KEY, name TEXT)",
		"INSERT INTO users VALUES (1, 'ada'), (2, 'bob'), (3, 'cy')",
		"UPDATE users SET name = 'bo' WHERE id = 2",
		"DELETE FROM users WHERE id = 3",
		"CREATE TABLE log (msg TEXT)",
		"INSERT INTO log VALUES ('first'), ('second')",
		"CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users",
		"CREATE SOURCE ev (k INT, v BIGINT) WITH (connector = 'file', path = '" + events + "') FORMAT PLAIN ENCODE JSON",
		"CREATE MATERIALIZED VIEW per_k AS SELECT k, count(*) AS n, sum(v) AS total FROM ev GROUP BY k",
		"CREATE TABLE dropped (x INT)",
		"DROP TABLE dropped",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)
	if err := child.Process.Kill(); err != nil { // SIGKILL: no clean shutdown
		t.Fatal(err)
	}
	_ = child.Wait()

	_, addr = startChild(t, dir+"/data")
	conn, err = pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The rows of sql joined by "; " (query is kill_test.go's).
	rowsOf := func(sql string) string { return strings.Join(query(t, ctx, conn, sql), "; ") }
	if got, want := rowsOf("SELECT * FROM users ORDER BY id"), "1 ada; 2 bo"; got != want {
		t.Errorf("users = %q, want %q", got, want)
	}
	if got, want := rowsOf("SELECT * FROM log"), "first; second"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	if got, want := rowsOf("SELECT * FROM user_count"), "2"; got != want {
		t.Errorf("user_count = %q, want %q", got, want)
	}
	// The view over the file is rebuilt from the file.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := rowsOf("SELECT * FROM per_k ORDER BY k")
		if got == "0 25 1200; 1 25 1225; 2 25 1250; 3 25 1275" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("per_k = %q after recovery", got)
		}
		time.Sleep(20 * time.Millisecond) // the file is re-read: poll for the result
	}
	if got := rowsOf("SELECT count(*) FROM (SELECT 1) x"); got != "1" {
		t.Fatal(got)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE dropped (x INT)"); err != nil {
		t.Errorf("a table dropped before the crash came back: %v", err)
	}
	// A second instance on the same directory is refused clearly.
	second := exec.Command(os.Args[0], "serve", "--pg-listen", freeAddr(t), "--http-listen", freeAddr(t), "--data-dir", dir+"/data")
	second.Env = append(os.Environ(), "SLUICE_TEST_RUN_MAIN=1")
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another Sluice") {
		t.Errorf("a second Sluice on the same data directory: err %v, output:\n%s", err, out)
	}
}
