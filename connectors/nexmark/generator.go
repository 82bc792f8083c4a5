package nexmark

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
)

// The generator's parameters: the defaults of the reference's
// NexmarkConfiguration and its generator constants.
const (
	personProportion  = 1
	auctionProportion = 3
	bidProportion     = 46
	proportionTotal   = personProportion + auctionProportion + bidProportion

	firstPersonID   = 1000
	firstAuctionID  = 1000
	firstCategoryID = 10
	numCategories   = 5

	numActivePeople     = 1000 // people considered for bids and auctions
	numInFlightAuctions = 100  // auctions considered for bids
	personIDLead        = 10   // ids a little ahead of the last person...
	auctionIDLead       = 10   // ...and auction, as if events were reordered

	// An auction has a hot seller, and a bid a hot auction or bidder, with
	// probability 1 - 1/ratio.
	hotSellersRatio = 4
	hotAuctionRatio = 2
	hotBiddersRatio = 4
	hotChannelRatio = 2
	// The hot auction (seller, bidder) is the first of the last batch of
	// this many auctions (people).
	hotBatch = 100

	avgPersonBytes  = 200
	avgAuctionBytes = 500
	avgBidBytes     = 100

	numChannels     = 10_000
	minStringLength = 3

	// defaultBaseTime is the event time of event 0, 2015-07-15 00:00:00 UTC
	// in milliseconds, as in RisingWave, so that the data is the same on
	// every run.
	defaultBaseTime = 1_436_918_400_000
	// defaultEventRate spaces event times when events are generated as fast
	// as possible.
	defaultEventRate = 10_000
)

var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannel = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// tableType is the kind of event a source produces.
type tableType uint8

const (
	tablePerson tableType = iota
	tableAuction
	tableBid
)

// proportion and offset place a type's events in each block of
// proportionTotal event ids: persons first, then auctions, then bids.
func (t tableType) proportion() int64 {
	return [...]int64{personProportion, auctionProportion, bidProportion}[t]
}

func (t tableType) offset() int64 {
	return [...]int64{0, personProportion, personProportion + auctionProportion}[t]
}

// extraField is the position of the type's extra column.
func (t tableType) extraField() int {
	return [...]int{personExtra, auctionExtra, bidExtra}[t]
}

// eventID returns the id (the global event number) of the j-th event of
// type t.
func (t tableType) eventID(j int64) int64 {
	p := t.proportion()
	return j/p*proportionTotal + t.offset() + j%p
}

// Field positions in event.ints / event.strs, per table.
const (
	personID, personName, personEmail, personCard, personCity, personState, personTime, personExtra = 0, 1, 2, 3, 4, 5, 6, 7

	auctionID, auctionItem, auctionDesc, auctionInitial, auctionReserve, auctionTime, auctionExpires,
	auctionSeller, auctionCategory, auctionExtra = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9

	bidAuction, bidBidder, bidPrice, bidChannel, bidURL, bidTime, bidExtra = 0, 1, 2, 3, 4, 5, 6
)

// event is one generated event: integer fields (ids, prices, times in
// milliseconds) and string fields, by field position. Strings point into the
// generator's scratch buffer and are valid until the next event.
type event struct {
	ints [10]int64
	strs [10][]byte
}

// generator produces the events of the Nexmark benchmark. The content of an
// event is a function of its id alone: its random draws come from a
// java.util.Random seeded with the id (mixed with the source's seed), as in
// the reference.
type generator struct {
	baseTime  int64 // ms
	eventRate int64 // events per second of event time
	seedMix   int64
	hotURLs   [][]byte
	// The name and URL of each non-hot channel, made when first drawn:
	// they depend only on the channel, and making a URL draws a dozen
	// random numbers.
	channelNames, channelURLs [][]byte
	// skipExtra leaves the extra column empty: no view reads it.
	skipExtra bool
	r         javaRandom
	buf       []byte
}

func newGenerator(baseTime, eventRate, seed int64) *generator {
	g := &generator{baseTime: baseTime, eventRate: eventRate}
	if seed != 0 {
		g.seedMix = seed * -0x61c8864680b583eb // a large odd constant spreads small seeds
	}
	for i := range hotChannel {
		r := newJavaRandom(int64(numChannels + i))
		g.hotURLs = append(g.hotURLs, appendBaseURL(nil, &r))
	}
	return g
}

// timestamp is the event time, in milliseconds, of the event with id n:
// events are evenly spaced at eventRate from baseTime.
func (g *generator) timestamp(n int64) int64 {
	us := n/g.eventRate*1_000_000 + n%g.eventRate*1_000_000/g.eventRate
	return g.baseTime + us/1000
}

func (g *generator) begin(id int64) {
	g.r = newJavaRandom(id ^ g.seedMix)
	g.buf = g.buf[:0]
}

// person generates the Person event with id n.
func (g *generator) person(n int64, e *event) {
	g.begin(n)
	r := &g.r
	e.ints[personID] = lastPersonID(n) + firstPersonID

	start := len(g.buf)
	g.buf = append(g.buf, firstNames[r.nextInt(int32(len(firstNames)))]...)
	g.buf = append(g.buf, ' ')
	g.buf = append(g.buf, lastNames[r.nextInt(int32(len(lastNames)))]...)
	e.strs[personName] = g.buf[start:]

	start = len(g.buf)
	g.appendString(7, ' ')
	g.buf = append(g.buf, '@')
	g.appendString(5, ' ')
	g.buf = append(g.buf, ".com"...)
	e.strs[personEmail] = g.buf[start:]

	start = len(g.buf)
	for i := 0; i < 4; i++ {
		if i > 0 {
			g.buf = append(g.buf, ' ')
		}
		v := r.nextInt(10000)
		g.buf = append(g.buf, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	e.strs[personCard] = g.buf[start:]

	e.strs[personCity] = g.literal(usCities[r.nextInt(int32(len(usCities)))])
	e.strs[personState] = g.literal(usStates[r.nextInt(int32(len(usStates)))])

	size := 8 + len(e.strs[personName]) + len(e.strs[personEmail]) + len(e.strs[personCard]) +
		len(e.strs[personCity]) + len(e.strs[personState])
	e.strs[personExtra] = g.extra(size, avgPersonBytes)
	e.ints[personTime] = g.timestamp(n)
}

// auction generates the Auction event with id n.
func (g *generator) auction(n int64, e *event) {
	g.begin(n)
	r := &g.r
	ts := g.timestamp(n)
	e.ints[auctionID] = lastAuctionID(n) + firstAuctionID

	var seller int64
	if r.nextInt(hotSellersRatio) > 0 {
		seller = lastPersonID(n) / hotBatch * hotBatch
	} else {
		seller = g.nextPersonID(n)
	}
	e.ints[auctionSeller] = seller + firstPersonID
	e.ints[auctionCategory] = firstCategoryID + int64(r.nextInt(numCategories))
	initial := g.price()
	e.ints[auctionInitial] = initial
	e.ints[auctionExpires] = ts + g.auctionLength(n, ts)
	e.strs[auctionItem] = g.appendString(20, ' ')
	e.strs[auctionDesc] = g.appendString(100, ' ')
	e.ints[auctionReserve] = initial + g.price()
	size := 8 + len(e.strs[auctionItem]) + len(e.strs[auctionDesc]) + 8 + 8 + 8 + 8 + 8
	e.strs[auctionExtra] = g.extra(size, avgAuctionBytes)
	e.ints[auctionTime] = ts
}

// bid generates the Bid event with id n.
func (g *generator) bid(n int64, e *event) {
	g.begin(n)
	r := &g.r
	var auction int64
	if r.nextInt(hotAuctionRatio) > 0 {
		auction = lastAuctionID(n) / hotBatch * hotBatch
	} else {
		auction = g.nextAuctionID(n)
	}
	e.ints[bidAuction] = auction + firstAuctionID

	var bidder int64
	if r.nextInt(hotBiddersRatio) > 0 {
		// The second person of the batch, so that hot bidders are not
		// also the hot sellers.
		bidder = lastPersonID(n)/hotBatch*hotBatch + 1
	} else {
		bidder = g.nextPersonID(n)
	}
	e.ints[bidBidder] = bidder + firstPersonID
	e.ints[bidPrice] = g.price()

	if r.nextInt(hotChannelRatio) > 0 {
		i := r.nextInt(int32(len(hotChannel)))
		e.strs[bidChannel] = g.literal(hotChannel[i])
		e.strs[bidURL] = g.hotURLs[i]
	} else {
		c := r.nextInt(numChannels)
		if g.channelURLs == nil {
			g.channelNames, g.channelURLs = make([][]byte, numChannels), make([][]byte, numChannels)
		}
		if g.channelURLs[c] == nil {
			g.channelNames[c] = strconv.AppendInt([]byte("channel-"), int64(c), 10)
			g.channelURLs[c] = appendChannelURL(nil, c)
		}
		e.strs[bidChannel] = g.channelNames[c]
		e.strs[bidURL] = g.channelURLs[c]
	}
	e.strs[bidExtra] = g.extra(8+8+8+8, avgBidBytes)
	e.ints[bidTime] = g.timestamp(n)
}

// lastPersonID is the id (from 0) of the last person generated at or before
// event n.
func lastPersonID(n int64) int64 {
	epoch, offset := n/proportionTotal, n%proportionTotal
	if offset >= personProportion {
		offset = personProportion - 1
	}
	return epoch*personProportion + offset
}

// lastAuctionID is the id (from 0) of the last auction generated at or
// before event n.
func lastAuctionID(n int64) int64 {
	epoch, offset := n/proportionTotal, n%proportionTotal
	switch {
	case offset < personProportion:
		epoch--
		offset = auctionProportion - 1
	case offset >= personProportion+auctionProportion:
		offset = auctionProportion - 1
	default:
		offset -= personProportion
	}
	return epoch*auctionProportion + offset
}

// nextPersonID picks one of the active people, or one a little ahead.
func (g *generator) nextPersonID(n int64) int64 {
	people := lastPersonID(n) + 1
	active := min(people, numActivePeople)
	return people - active + g.nextLong(active+personIDLead)
}

// nextAuctionID picks one of the auctions likely still open, or one a
// little ahead.
func (g *generator) nextAuctionID(n int64) int64 {
	maxID := lastAuctionID(n)
	minID := max(maxID-numInFlightAuctions, 0)
	return minID + g.nextLong(maxID-minID+1+auctionIDLead)
}

// auctionLength is a random duration in milliseconds whose average is the
// time until numInFlightAuctions more auctions have been generated.
func (g *generator) auctionLength(n, ts int64) int64 {
	ahead := int64(numInFlightAuctions * proportionTotal / auctionProportion)
	horizon := g.timestamp(n+ahead) - ts
	return 1 + g.nextLong(max(horizon*2, 1))
}

// nextLong is uniform in [0, n) (the reference's LongGenerator).
func (g *generator) nextLong(n int64) int64 {
	if n < math.MaxInt32 {
		return int64(g.r.nextInt(int32(n)))
	}
	v := g.r.nextLong() % n
	if v < 0 {
		v = -v
	}
	return v
}

// price is log-uniform between 1 and 10^6 (times 100: cents).
func (g *generator) price() int64 {
	return javaRound(math.Pow(10, g.r.nextDouble()*6) * 100)
}

// javaRound is Java's Math.round for the positive values used here.
func javaRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }

// literal copies s into the scratch buffer.
func (g *generator) literal(s string) []byte {
	start := len(g.buf)
	g.buf = append(g.buf, s...)
	return g.buf[start:]
}

// appendString appends a random string of lower-case letters and special
// characters, 3 to maxLength-1 long before trimming spaces, and returns it.
func (g *generator) appendString(maxLength int32, special byte) []byte {
	start := len(g.buf)
	g.buf = appendRandomString(g.buf, &g.r, maxLength, special)
	return g.buf[start:]
}

func appendRandomString(dst []byte, r *javaRandom, maxLength int32, special byte) []byte {
	start := len(dst)
	for n := minStringLength + r.nextInt(maxLength-minStringLength); n > 0; n-- {
		if r.nextInt(13) == 0 {
			dst = append(dst, special)
		} else {
			dst = append(dst, byte('a'+r.nextInt(26)))
		}
	}
	// Java's String.trim: drop the spaces at both ends.
	s := dst[start:]
	lead := 0
	for lead < len(s) && s[lead] == ' ' {
		lead++
	}
	end := len(s)
	for end > lead && s[end-1] == ' ' {
		end--
	}
	copy(s, s[lead:end])
	return dst[:start+end-lead]
}

// extra is a padding string such that size plus its length averages
// average: the reference's nextExtra.
func (g *generator) extra(size, average int) []byte {
	if g.skipExtra {
		return nil
	}
	start := len(g.buf)
	if size > average {
		return g.buf[start:]
	}
	average -= size
	delta := int(javaRound(float64(average) * 0.2))
	n := average - delta
	if delta != 0 {
		n += int(g.r.nextInt(int32(2 * delta)))
	}
	// Six letters per 31-bit draw, lowest digit in base 26 first. Java's
	// remainder of a negative int is negative, which gives letters below
	// 'a'; kept, to match the reference byte for byte.
	g.buf = slices.Grow(g.buf, n)
	out := g.buf[start : start+n]
	// Whole draws go three letters at a time through a table: truncated
	// division composes, so the low three digits of rnd are those of
	// rnd % 26³ and the next three those of rnd / 26³.
	full := n - n%6
	for i := 0; i < full; i += 6 {
		rnd := g.r.nextInt32()
		copy(out[i:i+3], letterTriples[rnd%triple+triple-1][:])
		copy(out[i+3:i+6], letterTriples[rnd/triple%triple+triple-1][:])
	}
	if full < n {
		rnd := g.r.nextInt32()
		for i := full; i < n; i++ {
			out[i] = byte('a' + rnd%26)
			rnd /= 26
		}
	}
	g.buf = g.buf[:start+n]
	return out
}

// triple is 26³: three letters' worth of a draw.
const triple = 26 * 26 * 26

// letterTriples[v+triple-1], for v in (-triple, triple), are the three
// letters of v, lowest digit first, as extra writes them one by one.
var letterTriples = func() (t [2*triple - 1][3]byte) {
	for v := int32(-triple + 1); v < triple; v++ {
		d := v
		for k := range 3 {
			t[v+triple-1][k] = byte('a' + d%26)
			d /= 26
		}
	}
	return t
}()

// appendBaseURL appends a URL of three random path segments.
func appendBaseURL(dst []byte, r *javaRandom) []byte {
	dst = append(dst, "https://www.nexmark.com/"...)
	for i := 0; i < 3; i++ {
		dst = appendRandomString(dst, r, 5, '_')
		dst = append(dst, '/')
	}
	return append(dst, "item.htm?query=1"...)
}

// appendChannelURL appends the URL of the non-hot channel c. It depends on c
// alone (the reference caches one URL per channel, drawn at first use).
func appendChannelURL(dst []byte, c int32) []byte {
	r := newJavaRandom(int64(c))
	dst = appendBaseURL(dst, &r)
	if r.nextInt(10) > 0 {
		// Math.abs(Integer.reverse(c)), overflow included.
		v := int32(bits.Reverse32(uint32(c)))
		if v < 0 && v != math.MinInt32 {
			v = -v
		}
		dst = append(dst, "&channel_id="...)
		dst = strconv.AppendInt(dst, int64(v), 10)
	}
	return dst
}
