-- Nexmark q21, add channel id: every bid of a known channel, or with a
-- channel_id in its URL, with that channel's id. RisingWave's q21 takes the
-- id with (regexp_match(url, '(&|^)channel_id=([^&]*)'))[2]; here it is
-- substring(url FROM '(?:&|^)channel_id=([^&]*)'), which PostgreSQL defines
-- to return the same text.
SELECT auction, bidder, price, channel,
    CASE
        WHEN lower(channel) = 'apple' THEN '0'
        WHEN lower(channel) = 'google' THEN '1'
        WHEN lower(channel) = 'facebook' THEN '2'
        WHEN lower(channel) = 'baidu' THEN '3'
        ELSE substring(url FROM '(?:&|^)channel_id=([^&]*)')
    END AS channel_id
FROM bid
WHERE substring(url FROM '(?:&|^)channel_id=([^&]*)') IS NOT NULL
    OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')
