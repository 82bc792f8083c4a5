package nexmark

// javaRandom is java.util.Random: the 48-bit linear congruential generator
// that the reference Nexmark generator (Apache Beam's, and Flink's after it)
// seeds with each event's id. Reproducing it, down to Java's int32
// arithmetic, makes the events the same as the reference's for the same id.
type javaRandom struct {
	seed int64
}

const (
	javaMultiplier = 0x5DEECE66D
	javaAddend     = 0xB
	javaMask       = 1<<48 - 1
)

func newJavaRandom(seed int64) javaRandom {
	return javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

// next returns the next bits (at most 32) pseudo-random bits.
func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + javaAddend) & javaMask
	return int32(uint64(r.seed) >> (48 - bits))
}

// nextInt returns a value uniform in [0, bound), bound > 0, drawing again
// when the draw falls in the biased tail exactly as Java does.
func (r *javaRandom) nextInt(bound int32) int32 {
	v := r.next(31)
	m := bound - 1
	if bound&m == 0 { // a power of two
		return int32((int64(bound) * int64(v)) >> 31)
	}
	for u := v; ; u = r.next(31) {
		v = u % bound
		if u-v+m >= 0 { // int32 overflow marks the tail
			return v
		}
	}
}

// nextInt32 is Java's nextInt(): 32 bits, possibly negative.
func (r *javaRandom) nextInt32() int32 { return r.next(32) }

// nextLong is Java's nextLong().
func (r *javaRandom) nextLong() int64 {
	return int64(r.next(32))<<32 + int64(r.next(32))
}

// nextDouble is uniform in [0, 1) with 53 bits.
func (r *javaRandom) nextDouble() float64 {
	return float64(int64(r.next(26))<<27+int64(r.next(27))) * (1.0 / (1 << 53))
}
