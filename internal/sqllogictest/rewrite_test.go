package sqllogictest

import (
	"strings"
	"testing"
)

func TestApplyEdits(t *testing.T) {
	tests := []struct {
		name    string
		content string
		edits   []edit
		want    string
	}{
		{
			name:    "replace a block",
			content: "query I\nS\n----\n1\n2\n\n# after\n",
			edits:   []edit{{start: 3, end: 5, lines: []string{"7"}}},
			want:    "query I\nS\n----\n7\n\n# after\n",
		},
		{
			name:    "insert a marker before the blank line",
			content: "query I\nS\n\nrest\n",
			edits:   []edit{{start: 2, end: 2, addMarker: true, lines: []string{"1"}}},
			want:    "query I\nS\n----\n1\n\nrest\n",
		},
		{
			name:    "insert at the end of a file without a final newline",
			content: "query I\nS",
			edits:   []edit{{start: 2, end: 2, addMarker: true, lines: []string{"1", "2"}}},
			want:    "query I\nS\n----\n1\n2",
		},
		{
			name:    "empty result",
			content: "query I\nS\n----\n1\n",
			edits:   []edit{{start: 3, end: 4}},
			want:    "query I\nS\n----\n",
		},
		{
			name:    "CRLF files get CRLF lines",
			content: "query I\r\nS\r\n----\r\n1\r\n\r\n",
			edits:   []edit{{start: 3, end: 4, lines: []string{"2"}}},
			want:    "query I\r\nS\r\n----\r\n2\r\n\r\n",
		},
		{
			name:    "several edits in any order; a duplicate is applied once",
			content: "A\n----\n1\n\nB\n----\n2\n",
			edits: []edit{
				{start: 6, end: 7, lines: []string{"b"}},
				{start: 2, end: 3, lines: []string{"a"}},
				{start: 6, end: 7, lines: []string{"b"}},
			},
			want: "A\n----\na\n\nB\n----\nb\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := strings.SplitAfter(tt.content, "\n")
			if lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			if got := applyEdits(lines, tt.edits); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
