package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testfs"
	"github.com/sluicedb/sluice/internal/testserver"
	"github.com/sluicedb/sluice/storage"
)

// On a full disk checkpoints fail with an error that says so while views
// go on; once space is back the next checkpoint writes what the failed ones
// could not, and a restart from it is exact.
func TestFullDiskStopsCheckpointsAndLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := filepath.Join(testfs.Small(t, "160m"), "data")
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	events := outOfOrderEvents(17, 4000)
	opts := engine.Options{Connectors: all.Registry(), DataDir: dataDir, CheckpointInterval: time.Hour}

	writeJSONLines(t, path, events[:1000], false)
	first := testserver.StartWith(t, opts)
	conn := connect(t, ctx, first)
	createRecoveryPipeline(t, conn, path)
	waitForSource(t, ctx, conn, "events", 1000)
	exec(t, conn, "FLUSH")
	if err := first.Engine.Checkpoint(ctx); err != nil {
		t.Fatalf("checkpoint before the disk is full: %v", err)
	}

	counted := func() int {
		t.Helper()
		n, err := strconv.Atoi(queryText(t, ctx, conn, "SELECT sum(n) FROM totals")[0][0])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	countedBefore := counted()

	filler := filepath.Join(filepath.Dir(dataDir), "filler")
	testfs.Fill(t, filler)
	for _, part := range [][2]int{{1000, 2000}, {2000, 2500}} {
		from, upTo := part[0], part[1]
		writeJSONLines(t, path, events[from:upTo], true)
		waitForSource(t, ctx, conn, "events", int64(upTo))
		exec(t, conn, "FLUSH")
		err := first.Engine.Checkpoint(ctx)
		if !errors.Is(err, storage.ErrDiskFull) {
			t.Fatalf("checkpoint on a full disk: %v, want a disk-full error", err)
		}
	}
	if st := first.Engine.Checkpoints(); st.Failed < 2 || st.LastError == "" {
		t.Errorf("checkpoint status %+v: the failures should show", st)
	}
	// The views went on meanwhile.
	if got := counted(); got <= countedBefore {
		t.Fatalf("totals counted %d events on a full disk, no more than the %d before it: the views stopped", got, countedBefore)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	writeJSONLines(t, path, events[2500:3000], true)
	waitForSource(t, ctx, conn, "events", 3000)
	exec(t, conn, "FLUSH")
	if err := first.Engine.Checkpoint(ctx); err != nil {
		t.Fatalf("checkpoint once space is back: %v", err)
	}
	// After it, events that only the source holds, then a stop that takes
	// no checkpoint.
	writeJSONLines(t, path, events[3000:], true)
	waitForSource(t, ctx, conn, "events", 4000)
	conn.Close(ctx)
	first.Stop()

	second := testserver.StartWith(t, opts)
	conn = connect(t, ctx, second)
	waitForSource(t, ctx, conn, "events", 1000) // read again: those after the checkpoint
	exec(t, conn, "FLUSH")
	reference := testserver.Start(t, all.Registry())
	ref := connect(t, ctx, reference)
	createRecoveryPipeline(t, ref, path)
	waitForSource(t, ctx, ref, "events", 4000)
	exec(t, ref, "FLUSH")
	for _, v := range recoveryViews {
		q := "SELECT * FROM " + v.name + " ORDER BY " + v.order
		compareRows(t, v.name+" after a full disk and a restart", queryText(t, ctx, conn, q), queryText(t, ctx, ref, q))
	}
}
