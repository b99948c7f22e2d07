-- Commits send the bytea values of a column as one binary blob plus their
-- lengths instead of a bytea[] parameter, which node-postgres would send as
-- hex text (over twice the bytes, built as JS strings). This splits the blob
-- back into the array, in order; a negative length stands for NULL.
CREATE FUNCTION talus.split_bytea(blob bytea, lens int4[]) RETURNS bytea[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(CASE WHEN l < 0 THEN NULL ELSE substring(blob FROM o FOR l) END ORDER BY n), '{}')
  FROM (
    SELECT n, l, (1 + coalesce(sum(greatest(l, 0)) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::int4 AS o
    FROM unnest(lens) WITH ORDINALITY AS t(l, n)
  ) parts
$$;
