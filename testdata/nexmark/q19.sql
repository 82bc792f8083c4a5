-- Nexmark q19, auction Top-10 price: the ten highest bids of each auction.
-- Same as RisingWave's q19 (which outputs the rank too).
SELECT *
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
    FROM bid
) AS t
WHERE rank_number <= 10
