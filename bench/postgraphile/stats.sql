-- The dashboard's statistics as PostGraphile computed columns (Client.stats, Campaign.stats).
-- The bench creates these in the bench database; the figures follow adstudio's: completed jobs,
-- actual ledger spend, and the average actual spend of a completed job.
DROP FUNCTION IF EXISTS client_stats(client);
DROP FUNCTION IF EXISTS campaign_stats(campaign);
DROP TYPE IF EXISTS bench_client_stats;
DROP TYPE IF EXISTS bench_campaign_stats;
DROP TYPE IF EXISTS bench_money;

CREATE TYPE bench_money AS (amount text, currency text);
CREATE TYPE bench_client_stats AS (
  campaign_count integer, video_count integer, total_spend bench_money
);
CREATE TYPE bench_campaign_stats AS (
  video_count integer, total_spend bench_money, average_cost bench_money
);

CREATE FUNCTION client_stats(c client) RETURNS bench_client_stats
LANGUAGE sql STABLE AS $$
  SELECT
    (SELECT count(*) FROM campaign WHERE campaign.client_id = c.id)::integer,
    (SELECT count(*) FROM job WHERE job.client_id = c.id AND job.status = 'completed')::integer,
    ROW((SELECT coalesce(sum(amount), 0) FROM cost_entry
         WHERE cost_entry.client_id = c.id AND cost_entry.kind = 'actual')::text,
        'USD')::bench_money
$$;

CREATE FUNCTION campaign_stats(c campaign) RETURNS bench_campaign_stats
LANGUAGE sql STABLE AS $$
  SELECT videos.n,
    ROW((SELECT coalesce(sum(amount), 0) FROM cost_entry
         WHERE cost_entry.campaign_id = c.id AND cost_entry.kind = 'actual')::text,
        'USD')::bench_money,
    ROW(CASE WHEN videos.n = 0 THEN '0.00' ELSE (done.spend / videos.n)::text END,
        'USD')::bench_money
  FROM
    (SELECT count(*)::integer AS n FROM job
     WHERE job.campaign_id = c.id AND job.status = 'completed') AS videos,
    (SELECT coalesce(sum(cost_entry.amount), 0) AS spend
     FROM cost_entry JOIN job ON job.id = cost_entry.job_id
     WHERE job.campaign_id = c.id AND job.status = 'completed'
       AND cost_entry.kind = 'actual') AS done
$$;
