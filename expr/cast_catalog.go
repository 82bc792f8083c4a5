package expr

import (
	"strconv"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Casts of the system catalog types and arrays. oid and the reg* types are
// the same unsigned 32-bit number (an int64 in storage), so casts between
// them relabel; a reg* value prints as the name of its object and reads a
// name, which needs the statement's SystemCatalog. Arrays convert element by
// element through their elements' text form.

// isOidLike reports whether t is oid or one of the reg* types.
func isOidLike(t types.T) bool {
	switch t {
	case types.Oid, types.RegProc, types.RegProcedure, types.RegClass, types.RegType, types.RegNamespace:
		return true
	}
	return false
}

// isRegType reports whether t is one of the reg* types.
func isRegType(t types.T) bool { return t != types.Oid && isOidLike(t) }

func isVector(t types.T) bool { return t == types.Int2Vector || t == types.OidVector }

// castNeedsCatalog reports whether the cast reads the SystemCatalog, so that
// Fold must leave it to run time.
func castNeedsCatalog(from, to types.T) bool {
	return (isRegType(from) && to.Physical() == types.Text) || (isRegType(to) && from.Physical() == types.Text)
}

// catalogCast returns the kernel of a cast from or to a system catalog type
// or an array, or ok=false when the general rules of castKernel apply.
// from is never Unknown or Varchar (castKernel maps them to Text).
func catalogCast(from, to types.T) (fn evalFn, ok bool) {
	switch {
	case isRegType(to) && from.Physical() == types.Text:
		return regIn(to), true
	case isRegType(from) && to.Physical() == types.Text && !to.IsArray():
		return regOut(from, to), true
	case isOidLike(from) && isOidLike(to):
		return relabel(to), true
	case isOidLike(to) && from == types.Int8:
		return fixed1(to, func(v int64) (int64, error) {
			if v < 0 || v > 1<<32-1 {
				return 0, pgerror.New(pgerror.NumericValueOutOfRange, "OID out of range")
			}
			return v, nil
		}), true
	case isOidLike(to) && from == types.Int4:
		return fixed1(to, func(v int32) (int64, error) { return int64(uint32(v)), nil }), true
	case isOidLike(to) && from == types.Int2:
		return fixed1(to, func(v int16) (int64, error) { return int64(uint32(int32(v))), nil }), true
	case isOidLike(from) && to == types.Int8:
		return relabel(to), true
	case isOidLike(from) && to == types.Int4:
		return fixed1(to, func(v int64) (int32, error) { return int32(uint32(v)), nil }), true
	case from == types.Name && (to == types.Text || to == types.Varchar):
		return relabel(to), true
	case to == types.Name && from == types.Text:
		return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			return append(dst, types.TruncateName(string(ra.bytes(0, i)))...), false, nil
		}), true
	case from == types.Name && !to.IsCatalog():
		return textIn(to), true
	case (from == types.Char || from == types.PgNodeTree) && (to == types.Text || to == types.Varchar):
		return relabel(to), true
	case from == types.Text && to == types.Char:
		return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			s := ra.bytes(0, i)
			if len(s) == 0 {
				return dst, false, nil
			}
			return append(dst, types.CharText(s[0])...), false, nil
		}), true
	case from == types.Char && to == types.Int4:
		return rowKernel(to, func(ra *rowArgs, i int) (int32, bool, error) {
			return int32(int8(types.CharByte(string(ra.bytes(0, i))))), false, nil
		}), true
	case from == types.Int4 && to == types.Char:
		return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			v := ra.int32(0, i)
			if v < -128 || v > 127 {
				return dst, false, pgerror.New(pgerror.NumericValueOutOfRange, "\"char\" out of range")
			}
			return append(dst, types.CharText(byte(int8(v)))...), false, nil
		}), true
	case (from.IsArray() || isVector(from)) && (to == types.Text || to == types.Varchar):
		// Stored in the form array_out prints.
		return relabel(to), true
	case (from.IsArray() || isVector(from)) && to.IsArray():
		return arrayCoerce(from, to), true
	}
	return nil, false
}

// regOut prints reg* values as regclassout and its siblings do: the name
// of the object, "-" for 0, the number when there is no such object.
func regOut(from, to types.T) evalFn {
	class := regClassOf(from)
	return func(st *evalState, args []vec) (vec, error) {
		var cat SystemCatalog
		if from != types.RegType {
			var err error
			if cat, err = st.systemCatalog(from.String() + " output"); err != nil {
				return vec{}, err
			}
		}
		return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
			oid := ra.int64(0, i)
			if oid == 0 {
				return append(dst, '-'), false, nil
			}
			if from == types.RegType {
				if t, ok := types.FromOID(uint32(oid)); ok && oid != types.OIDJSON {
					return append(dst, t.String()...), false, nil
				}
			} else if name, ok := cat.ObjectName(class, oid); ok {
				return append(dst, name...), false, nil
			}
			return strconv.AppendInt(dst, oid, 10), false, nil
		})(st, args)
	}
}

// regIn reads names (or numbers) into reg* values, as regclassin does.
func regIn(to types.T) evalFn {
	class := regClassOf(to)
	return func(st *evalState, args []vec) (vec, error) {
		cat, err := st.systemCatalog(to.String() + " input")
		if err != nil {
			return vec{}, err
		}
		return rowKernel(to, func(ra *rowArgs, i int) (int64, bool, error) {
			s := string(ra.bytes(0, i))
			if d, err := types.ParseText(s, to); err == nil {
				return d.(int64), false, nil
			}
			oid, err := cat.ObjectOID(class, s)
			return oid, false, err
		})(st, args)
	}
}

// arrayCoerce converts an array (or a vector) element by element through
// the elements' text form: int2vector to smallint[], text[] to name[],
// integer[] to bigint[].
func arrayCoerce(from, to types.T) evalFn {
	elem := to.Elem()
	return textKernel(to, func(ra *rowArgs, i int, dst []byte) ([]byte, bool, error) {
		a, err := types.ParseArray(string(ra.bytes(0, i)), from)
		if err != nil {
			return dst, false, err
		}
		if from.Elem() != elem {
			for j, e := range a.Elems {
				if a.IsNull(j) {
					continue
				}
				d, err := types.ParseText(e, elem)
				if err != nil {
					return dst, false, err
				}
				a.Elems[j] = string(types.AppendDatum(nil, d, elem))
			}
		}
		return a.Append(dst, to), false, nil
	})
}
