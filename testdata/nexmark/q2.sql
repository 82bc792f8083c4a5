-- Nexmark q2, selection: the bids on a handful of auctions.
-- RisingWave's form (a list of auction ids) rather than the original
-- auction % 123 = 0, as RisingWave publishes its figures with it.
SELECT auction, price FROM bid
WHERE auction = 1007 OR auction = 1020 OR auction = 2001 OR auction = 2019 OR auction = 2087
