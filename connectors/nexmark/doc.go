// Package nexmark is the nexmark source connector: the Person, Auction and
// Bid events of the Nexmark benchmark, generated as the reference generator
// (Apache Beam's sdks/java/testing/nexmark, and the Flink nexmark project
// after it) generates them, in RisingWave's column names.
//
//	CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT,
//	    channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR)
//	WITH (connector = 'nexmark', nexmark.table.type = 'Bid',
//	      nexmark.event.rate = '10000');
//
// The declared columns choose which fields are produced, by name, in any
// order: Person(id, name, email_address, credit_card, city, state, date_time,
// extra), Auction(id, item_name, description, initial_bid, reserve,
// date_time, expires, seller, category, extra) and Bid(auction, bidder,
// price, channel, url, date_time, extra). Ids and prices are BIGINT, strings
// VARCHAR or TEXT, times TIMESTAMP (or TIMESTAMPTZ).
//
// # The generator
//
// Events have ids 0, 1, 2, ...; in every 50 consecutive ids the first is a
// person, the next three are auctions and the other 46 are bids. Person and
// auction numbers follow from the id (the first person and the first auction
// are 1000), and the event time of id n is base time + n/rate (the base time
// is fixed, 2015-07-15 00:00:00 UTC, so that runs are repeatable). Everything
// else is drawn from a java.util.Random seeded with the id, reproduced here
// bit for bit, with the reference's rules and defaults: sellers, bidders and
// auctions are "hot" (the first of the latest batch of 100) with probability
// 3/4, 3/4 and 1/2, and otherwise one of the 1000 latest people or 100
// latest auctions (or up to 10 ahead); 5 categories 10..14; prices
// log-uniform between 1 and 10^6 dollars, in cents; an auction lasts on
// average until 100 more auctions have been created; the extra fields pad
// events to average sizes of 200 (person), 500 (auction) and 100 (bid)
// bytes. Bids have Flink's channel and url: one of four hot channels (Google,
// Facebook, Baidu, Apple) half of the time, otherwise one of 10000
// "channel-N" with its own URL.
//
// With nexmark.seed = 0 the events are the reference's for the same ids,
// except for the URLs, which the reference draws from an unseeded generator
// and which here depend on the channel alone. Flink's bid generator adds the
// first person id to the bidder twice; this generator, like Beam's and
// RisingWave's, does not.
//
// # Splits, positions, out-of-order events
//
// A source produces the events of one type. Split i of n takes the events of
// that type numbered i, i+n, i+2n, ... (numbered within the type), so the
// splits of a Bid source share the bids and each keeps the 1:3:46 timeline.
// The position of a split is the number of its events generated so far;
// because an event depends only on its id, a split reopened at a position
// continues exactly. nexmark.max.events bounds the event ids (of all types):
// a Bid source with max.events = 50 produces the 46 bids among ids 0..49.
//
// As in the reference's outOfOrderGroupSize, a split may emit its events out
// of order: with nexmark.out.of.order.group.size = g, its row m is the event
// of row (m/g)*g + (m*953)%g, so event times go back and forth within each
// group of g rows while every event is still produced once.
//
// # Pacing
//
// Events are emitted on a wall-clock schedule: nexmark.event.rate events per
// second across the three types and all splits (a Bid source emits 46 of
// every 50), or one every nexmark.min.event.gap.in.ns nanoseconds, which is
// RisingWave's name for the same thing. A batch waits for about 10 ms worth
// of events; a reader that is read too slowly falls behind its schedule and
// catches up as fast as it is read, never dropping events. A rate of 0 (or a
// gap of 0) generates as fast as events are read.
package nexmark
