-- Nexmark q3, local item suggestion: the people in Oregon, Idaho or
-- California who sell in category 10, with the auctions they sell there.
-- An equi-join of two unbounded streams (both sides kept in full).
-- Same as RisingWave's q3.
SELECT p.name, p.city, p.state, a.id
FROM auction AS a JOIN person AS p ON a.seller = p.id
WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')
