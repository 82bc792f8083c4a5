-- Nexmark q17, auction statistics per day: bids in three price ranges and
-- the lowest, highest, average and total price, per auction and day.
-- RisingWave's q17 with the day as CAST(date_time AS DATE) (no to_char yet)
-- and FILTER (WHERE c) written as CASE WHEN c THEN 1 END (no FILTER yet).
SELECT auction,
    CAST(date_time AS DATE) AS day,
    count(*) AS total_bids,
    count(CASE WHEN price < 10000 THEN 1 END) AS rank1_bids,
    count(CASE WHEN price >= 10000 AND price < 1000000 THEN 1 END) AS rank2_bids,
    count(CASE WHEN price >= 1000000 THEN 1 END) AS rank3_bids,
    min(price) AS min_price,
    max(price) AS max_price,
    avg(price) AS avg_price,
    sum(price) AS sum_price
FROM bid
GROUP BY CAST(date_time AS DATE), auction
