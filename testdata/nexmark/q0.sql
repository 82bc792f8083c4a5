-- Nexmark q0, pass-through: every bid, unchanged. Measures the cost of
-- reading and moving events without computing anything.
-- Same as RisingWave's q0.
SELECT auction, bidder, price, date_time FROM bid
