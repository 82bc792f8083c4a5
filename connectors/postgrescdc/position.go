package postgrescdc

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/sluicedb/sluice/connectors"
)

// position is a place in the table's history, as a Position says it:
//
//	lsn:0/16B3748                   streaming: every transaction that
//	                                committed before this LSN is applied
//	snapshot:0/16B3700:["41","x"]   the initial snapshot is in progress
//	                                for a slot created at 0/16B3700; rows
//	                                up to this primary key are applied
//	snapshot:0/16B3700:             the same, before the first row
type position struct {
	lsn      pglogrepl.LSN
	snapshot bool
	key      []string // primary key values, as text; nil before the first row
}

const (
	lsnPrefix      = "lsn:"
	snapshotPrefix = "snapshot:"
)

func (p position) encode() connectors.Position {
	if !p.snapshot {
		return connectors.Position(lsnPrefix + p.lsn.String())
	}
	key := ""
	if p.key != nil {
		b, _ := json.Marshal(p.key) // []string always marshals
		key = string(b)
	}
	return connectors.Position(snapshotPrefix + p.lsn.String() + ":" + key)
}

func parsePosition(pos connectors.Position) (position, error) {
	s := string(pos)
	bad := func() (position, error) {
		return position{}, fmt.Errorf("postgres-cdc: invalid position %q", s)
	}
	switch {
	case strings.HasPrefix(s, lsnPrefix):
		lsn, err := pglogrepl.ParseLSN(s[len(lsnPrefix):])
		if err != nil || lsn == 0 {
			return bad()
		}
		return position{lsn: lsn}, nil
	case strings.HasPrefix(s, snapshotPrefix):
		rest := s[len(snapshotPrefix):]
		l, key, ok := strings.Cut(rest, ":")
		if !ok {
			return bad()
		}
		lsn, err := pglogrepl.ParseLSN(l)
		if err != nil || lsn == 0 {
			return bad()
		}
		p := position{lsn: lsn, snapshot: true}
		if key != "" {
			if err := json.Unmarshal([]byte(key), &p.key); err != nil || len(p.key) == 0 {
				return bad()
			}
		}
		return p, nil
	}
	return bad()
}
