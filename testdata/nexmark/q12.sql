-- Nexmark q12, processing-time windows: bids per bidder in 10-second
-- windows of processing time (p_time, a column AS PROCTIME() of the bid
-- source: the time Sluice read the bid). Same as RisingWave's q12. Its
-- windows depend on when the bids were read, so the check against PostgreSQL
-- compares what does not: each bidder's bids over all windows.
-- compare: SELECT bidder, sum(bid_count)::bigint AS bids FROM q12 GROUP BY bidder
-- oracle: SELECT bidder, count(*) AS bids FROM bid GROUP BY bidder
SELECT bidder, count(*) AS bid_count, window_start, window_end
FROM TUMBLE(bid, p_time, INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end
