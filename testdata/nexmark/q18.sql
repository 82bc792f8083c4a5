-- Nexmark q18, find last bid: each bidder's last bid on each auction (a
-- deduplication: the newest bid per (bidder, auction)). RisingWave's q18
-- orders by date_time only; bids of one bidder on one auction can share a
-- date_time, and PostgreSQL picks any of them, so the ORDER BY here adds the
-- other columns to make the answer one (Sluice breaks ties by the whole row
-- anyway).
SELECT auction, bidder, price, channel, url, date_time
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC, price DESC, channel, url) AS rank_number
    FROM bid
) AS t
WHERE rank_number <= 1
