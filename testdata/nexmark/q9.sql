-- Nexmark q9, winning bids: for each auction, the highest bid placed while it
-- was open. Same as RisingWave's q9: a join of auctions and bids on the
-- auction id, bids within the auction's open period, then a top-1 per
-- auction (ties broken by the whole row; PostgreSQL leaves them unspecified).
SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category,
       auction, bidder, price, bid_date_time
FROM (
    SELECT a.*, b.auction, b.bidder, b.price, b.date_time AS bid_date_time,
           ROW_NUMBER() OVER (PARTITION BY a.id ORDER BY b.price DESC, b.date_time ASC) AS rownum
    FROM auction a
    JOIN bid b ON a.id = b.auction
    WHERE b.date_time BETWEEN a.date_time AND a.expires
) AS t
WHERE rownum <= 1
