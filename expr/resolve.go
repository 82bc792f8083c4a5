package expr

import (
	"strings"

	"github.com/sluicedb/sluice/types"
)

// overload is one signature of an operator or function in the catalog.
type overload struct {
	args []types.T
	ret  types.T
	// calc, when set, are the types the kernel computes in; the compiler
	// widens arguments to them first. Cross-type operators such as
	// int2 + int8 exist (so that resolution picks what PostgreSQL picks)
	// but compute as int8 + int8.
	calc []types.T
	// kernel builds the evaluator of a call; see kernelBuilder.
	kernel kernelBuilder
	// stable marks functions whose value depends on the statement (now());
	// they are never folded into constants.
	stable bool
	// nonStrict marks functions that see NULL arguments; every other
	// function returns NULL when an argument is NULL without being called.
	nonStrict bool
}

// selectOverload picks the overload that PostgreSQL would pick for argument
// types in, following func_select_candidate (and binary_oper_exact for
// operators): exact match, then the candidates reachable by implicit casts
// narrowed by exact matches, preferred types, the categories of untyped
// literals and finally the known type of the other arguments. It returns nil
// and ambiguous=false when nothing matches, nil and ambiguous=true when
// several candidates survive.
func selectOverload(cands []*overload, in []types.T, binaryOperator bool) (best *overload, ambiguous bool) {
	var sized []*overload
	for _, c := range cands {
		if len(c.args) == len(in) {
			sized = append(sized, c)
		}
	}
	for _, c := range sized {
		if equalTypes(c.args, in) {
			return c, false
		}
	}
	// An untyped literal facing a typed operand is first assumed to be of
	// that type.
	if binaryOperator && len(in) == 2 {
		l, r := in[0], in[1]
		if isUntyped(l) && !isUntyped(r) {
			l = r
		} else if isUntyped(r) && !isUntyped(l) {
			r = l
		}
		for _, c := range sized {
			if c.args[0] == l && c.args[1] == r {
				return c, false
			}
		}
	}

	var cs []*overload
	for _, c := range sized {
		ok := true
		for i, t := range in {
			if !canCoerce(t, c.args[i], coerceImplicit) {
				ok = false
				break
			}
		}
		if ok {
			cs = append(cs, c)
		}
	}
	if len(cs) <= 1 {
		if len(cs) == 1 {
			return cs[0], false
		}
		return nil, false
	}

	// Most exact matches among the typed arguments.
	cs = keepBest(cs, func(c *overload) int {
		n := 0
		for i, t := range in {
			if !isUntyped(t) && c.args[i] == t {
				n++
			}
		}
		return n
	})
	if len(cs) == 1 {
		return cs[0], false
	}
	// Then exact matches or preferred types of the argument's own category
	// where a conversion is needed.
	cs = keepBest(cs, func(c *overload) int {
		n := 0
		for i, t := range in {
			if isUntyped(t) {
				continue
			}
			inCat, _ := categoryOf(t)
			cat, pref := categoryOf(c.args[i])
			if c.args[i] == t || (pref && cat == inCat) {
				n++
			}
		}
		return n
	})
	if len(cs) == 1 {
		return cs[0], false
	}

	// Untyped literals: choose a category per position (string wins, else
	// the one category every candidate agrees on) and keep the candidates
	// of that category, preferring its preferred type.
	hasUnknown, allKnownSame, known := false, true, types.T(0)
	for _, t := range in {
		if isUntyped(t) {
			hasUnknown = true
		} else if known == 0 {
			known = t
		} else if known != t {
			allKnownSame = false
		}
	}
	if hasUnknown {
		resolved := true
		slotCat := make([]category, len(in))
		slotPref := make([]bool, len(in))
		for i, t := range in {
			if !isUntyped(t) {
				continue
			}
			conflict := false
			for k, c := range cs {
				cat, pref := categoryOf(c.args[i])
				switch {
				case k == 0:
					slotCat[i], slotPref[i] = cat, pref
				case cat == slotCat[i]:
					slotPref[i] = slotPref[i] || pref
				case cat == catString:
					slotCat[i], slotPref[i] = cat, pref
				default:
					conflict = true // unless a string candidate turns up
				}
			}
			if conflict && slotCat[i] != catString {
				resolved = false
				break
			}
		}
		if resolved {
			var kept []*overload
			for _, c := range cs {
				keep := true
				for i, t := range in {
					if !isUntyped(t) {
						continue
					}
					cat, pref := categoryOf(c.args[i])
					if cat != slotCat[i] || (slotPref[i] && !pref) {
						keep = false
					}
				}
				if keep {
					kept = append(kept, c)
				}
			}
			if len(kept) > 0 {
				cs = kept
			}
			if len(cs) == 1 {
				return cs[0], false
			}
		}
		// Last resort: the untyped literals take the type of the typed
		// arguments when those all agree.
		if known != 0 && allKnownSame {
			var kept []*overload
			for _, c := range cs {
				keep := true
				for i, t := range in {
					if isUntyped(t) && !canCoerce(known, c.args[i], coerceImplicit) {
						keep = false
					}
				}
				if keep {
					kept = append(kept, c)
				}
			}
			if len(kept) == 1 {
				return kept[0], false
			}
		}
	}
	return nil, true
}

// keepBest keeps the candidates with the highest score.
func keepBest(cs []*overload, score func(*overload) int) []*overload {
	best := -1
	var kept []*overload
	for _, c := range cs {
		switch s := score(c); {
		case s > best:
			best, kept = s, append(kept[:0:0], c)
		case s == best:
			kept = append(kept, c)
		}
	}
	return kept
}

func equalTypes(a, b []types.T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isUntyped reports whether t is the type of an untyped literal or a bare
// NULL, which PostgreSQL both treat as unknown during resolution.
func isUntyped(t types.T) bool { return t == types.Unknown || t == types.Null }

// typeList renders argument types as PostgreSQL prints them in "function
// f(integer, text) does not exist".
func typeList(ts []types.T) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(typeName(t))
	}
	return b.String()
}
