package parser

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	for name, sql := range map[string]string{
		"conjunction": "SELECT * FROM t WHERE " + strings.Repeat("a + 1 = 2 AND ", 10000) + "true",
		"values":      "INSERT INTO t VALUES " + strings.Repeat("(1 + 1, 'x'::text), ", 10000) + "(1, 'y')",
		"valuesU":      "INSERT INTO t VALUES " + strings.Repeat("(1 + 1, 'é'::text), ", 10000) + "(1, 'y')",
		"in list":     "SELECT 1 WHERE 1 IN (" + strings.Repeat("1 + 1, ", 10000) + "1)",
		"case":        "SELECT CASE" + strings.Repeat(" WHEN a = 1 THEN b + 1", 10000) + " END",
		"p3000":  "SELECT " + strings.Repeat("(1 + ", 3000) + "1" + strings.Repeat(")", 3000),
		"p20000":  "SELECT " + strings.Repeat("(1 + ", 20000) + "1" + strings.Repeat(")", 20000),
		"ops":      "SELECT 1" + strings.Repeat("+1", 6000),
	} {
		start := time.Now()
		_, err := Parse(sql)
		fmt.Println(name, time.Since(start), err)
	}
}
