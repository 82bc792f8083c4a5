-- Nexmark q4, average price per category: the average winning price (the
-- highest bid made while the auction was open) of the auctions of each
-- category. Same as RisingWave's q4.
SELECT q.category, avg(q.final) AS avg
FROM (
    SELECT max(b.price) AS final, a.category
    FROM auction AS a JOIN bid AS b ON a.id = b.auction
    WHERE b.date_time BETWEEN a.date_time AND a.expires
    GROUP BY a.id, a.category
) AS q
GROUP BY q.category
