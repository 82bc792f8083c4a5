-- Nexmark q7 as a per-window top-1: the bids that carry the highest price of
-- their 10-second window, ties kept (RANK). RisingWave publishes this form as
-- q7-rewrite. It needs no join: the Top-N keeps, per open window, only the
-- bids at its highest price, and frees a window's state once the watermark
-- closes it. It differs from q7's join in one corner: a bid at exactly a
-- window's end belongs to the next window only.
SELECT auction, price, bidder, date_time
FROM (
    SELECT auction, price, bidder, date_time,
           RANK() OVER (PARTITION BY window_start ORDER BY price DESC) AS price_rank
    FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) AS t
) AS ranked
WHERE price_rank = 1
