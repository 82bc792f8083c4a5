package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A write that succeeds replaces the file; one that fails leaves the old
// file as it was and no temporary file behind.
func TestWriteReplacesWholeOrNotAtAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "marker")
	write := func(s string, err error) error {
		return Write(path, 0o644, func(w io.Writer) error {
			if _, werr := io.WriteString(w, s); werr != nil {
				return werr
			}
			return err
		})
	}
	if err := write("first", nil); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("broken")
	if err := write("second", broken); !errors.Is(err, broken) {
		t.Fatalf("a failing fill: got %v, want it back", err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "first" {
		t.Fatalf("after a failed write the file holds %q (%v), want the first", got, err)
	}
	if _, err := os.Stat(path + TmpSuffix); !os.IsNotExist(err) {
		t.Fatalf("the temporary file is left behind: %v", err)
	}
	if err := write("second", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second" {
		t.Fatalf("the file holds %q, want the second", got)
	}
}
