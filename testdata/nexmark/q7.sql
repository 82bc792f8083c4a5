-- Nexmark q7, highest bid: the bids that carry the highest price of their
-- 10-second window, ties kept (RANK), written as a per-window top-1 (the form
-- RisingWave publishes as q7-rewrite). It needs no join: the Top-N keeps, per
-- open window, only the bids at its highest price, and frees a window's state
-- once the watermark closes it. The reference form, a join back on the price,
-- is q7_join.sql; the two differ in one corner: its BETWEEN also gives a bid
-- at exactly a window's end to that window, here it belongs to the next one.
SELECT auction, price, bidder, date_time
FROM (
    SELECT auction, price, bidder, date_time,
           RANK() OVER (PARTITION BY window_start ORDER BY price DESC) AS price_rank
    FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) AS t
) AS ranked
WHERE price_rank = 1
