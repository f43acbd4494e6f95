-- latency_percentile.sql - percentile_cont(p) over values given as bins (ascending) and counts
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION latency_percentile(bins numeric[], counts bigint[], p float8)
RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    total bigint := 0; h float8; lo bigint; hi bigint; cum bigint := 0;
    vlo float8; vhi float8;
BEGIN
    IF bins IS NULL OR cardinality(bins) = 0 THEN RETURN NULL; END IF;
    FOR i IN 1 .. cardinality(counts) LOOP total := total + counts[i]; END LOOP;
    IF total <= 0 THEN RETURN NULL; END IF;
    h := p * (total - 1);
    lo := floor(h);
    hi := least(lo + 1, total - 1);
    FOR i IN 1 .. cardinality(bins) LOOP
        cum := cum + counts[i];
        IF vlo IS NULL AND cum > lo THEN vlo := bins[i]; END IF;
        IF cum > hi THEN vhi := bins[i]; EXIT; END IF;
    END LOOP;
    RETURN vlo + (h - lo) * (vhi - vlo);
END $$;
