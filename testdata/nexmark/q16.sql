-- Nexmark q16, channel statistics per day: q15's figures per channel and
-- day, with the latest minute of the day seen. RisingWave's q16 with the day
-- as CAST(date_time AS DATE), the minute as date_trunc('minute', date_time)
-- instead of to_char (no to_char yet), and FILTER (WHERE c) written as CASE
-- WHEN c THEN x END inside the aggregate (no FILTER yet).
SELECT channel,
    CAST(date_time AS DATE) AS day,
    max(date_trunc('minute', date_time)) AS minute,
    count(*) AS total_bids,
    count(CASE WHEN price < 10000 THEN 1 END) AS rank1_bids,
    count(CASE WHEN price >= 10000 AND price < 1000000 THEN 1 END) AS rank2_bids,
    count(CASE WHEN price >= 1000000 THEN 1 END) AS rank3_bids,
    count(DISTINCT bidder) AS total_bidders,
    count(DISTINCT CASE WHEN price < 10000 THEN bidder END) AS rank1_bidders,
    count(DISTINCT CASE WHEN price >= 10000 AND price < 1000000 THEN bidder END) AS rank2_bidders,
    count(DISTINCT CASE WHEN price >= 1000000 THEN bidder END) AS rank3_bidders,
    count(DISTINCT auction) AS total_auctions,
    count(DISTINCT CASE WHEN price < 10000 THEN auction END) AS rank1_auctions,
    count(DISTINCT CASE WHEN price >= 10000 AND price < 1000000 THEN auction END) AS rank2_auctions,
    count(DISTINCT CASE WHEN price >= 1000000 THEN auction END) AS rank3_auctions
FROM bid
GROUP BY CAST(date_time AS DATE), channel
