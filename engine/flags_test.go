package engine_test

import "flag"

var rewrite = flag.Bool("rewrite", false, "rewrite the expected results of testdata/sql/*.slt")
