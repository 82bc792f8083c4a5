-- Nexmark q1, currency conversion: every bid with its price converted from
-- dollars to euros (price * 0.908).
-- Same as RisingWave's q1.
SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid
