package sqllogictest

import (
	"os"
	"sort"
	"strings"
)

// edit replaces the expected block of one query record, lines [start, end) of
// its file, with what the server returned.
type edit struct {
	start, end int
	// addMarker inserts the `----` line first, for a record that had none.
	addMarker bool
	lines     []string // without terminators
}

// writeEdits writes every file that has edits. Files are written only at the
// end of a run so that line numbers stay valid while records run.
func (r *runner) writeEdits() {
	for file, edits := range r.edits {
		info, err := os.Stat(file.path)
		if err != nil {
			r.t.Errorf("sqllogictest: rewrite: %v", err)
			continue
		}
		content := applyEdits(file.lines, edits)
		if err := os.WriteFile(file.path, []byte(content), info.Mode().Perm()); err != nil {
			r.t.Errorf("sqllogictest: rewrite %s: %v", file.path, err)
			continue
		}
		r.t.Logf("sqllogictest: rewrote %d expected result(s) in %s", len(edits), file.path)
	}
}

// applyEdits splices edits into lines (each with its terminator) and returns
// the new content. Lines outside the edits are kept byte for byte; new lines
// take the file's line terminator.
func applyEdits(lines []string, edits []edit) string {
	newline := "\n"
	if len(lines) > 0 && strings.HasSuffix(lines[0], "\r\n") {
		newline = "\r\n"
	}
	endsWithNewline := len(lines) == 0 || strings.HasSuffix(lines[len(lines)-1], "\n")

	sorted := append([]edit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].start < sorted[j].start })

	var out []string
	pos := 0
	for _, e := range sorted {
		if e.start < pos {
			// A file included twice yields the same edit twice; keep the first.
			continue
		}
		out = append(out, lines[pos:e.start]...)
		if e.addMarker {
			out = append(out, resultsMarker+newline)
		}
		for _, l := range e.lines {
			out = append(out, l+newline)
		}
		pos = e.end
	}
	out = append(out, lines[pos:]...)

	var b strings.Builder
	for i, l := range out {
		b.WriteString(l)
		// Only the file's last line may lack a terminator; an edit may have
		// put something after it.
		if i < len(out)-1 && !strings.HasSuffix(l, "\n") {
			b.WriteString(newline)
		}
	}
	content := b.String()
	if !endsWithNewline {
		content = strings.TrimSuffix(content, newline)
	}
	return content
}
