-- Nexmark q7 in its reference form, a join back on the price: the bids that
-- carry the highest price of their 10-second window. Same as RisingWave's and
-- Flink's q7. q7.sql asks the same as a per-window top-1, which is faster.
SELECT b.auction, b.price, b.bidder, b.date_time
FROM bid AS b
JOIN (
    SELECT max(price) AS maxprice, window_end AS date_time
    FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) AS t
    GROUP BY window_end
) AS b1 ON b.price = b1.maxprice
WHERE b.date_time BETWEEN b1.date_time - INTERVAL '10' SECOND AND b1.date_time
