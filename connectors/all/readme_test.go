package all

import (
	"os"
	"strings"
	"testing"
)

// The README's option tables are generated from the connectors' declarations;
// this keeps them from drifting apart.
func TestREADMEDocumentsEveryConnectorOption(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Registry().All() {
		if c.NewSource != nil {
			if table := c.OptionsMarkdown(); !strings.Contains(string(readme), table) {
				t.Errorf("README.md lacks the current source option table of connector %q; paste this under its heading:\n\n%s", c.Name, table)
			}
		}
		if c.Sink != nil && len(c.Sink.Options) > 0 {
			if table := c.SinkOptions().OptionsMarkdown(); !strings.Contains(string(readme), table) {
				t.Errorf("README.md lacks the current sink option table of connector %q; paste this under its heading:\n\n%s", c.Name, table)
			}
		}
	}
}
