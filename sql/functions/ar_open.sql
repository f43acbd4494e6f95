-- ar_open.sql - whether office hours are open at p_at in time zone p_tz: on one of p_days
-- (ISO, 1 = Monday) from p_opens to p_closes; closes <= opens runs past midnight into
-- the next day (the day it began counts), closes = opens is the whole day.
CREATE OR REPLACE FUNCTION ar_open(p_tz text, p_days smallint[], p_opens time, p_closes time,
                                   p_at timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_opens = p_closes THEN extract(isodow FROM l)::smallint = ANY(p_days)
        WHEN p_opens < p_closes THEN extract(isodow FROM l)::smallint = ANY(p_days)
             AND l::time >= p_opens AND l::time < p_closes
        ELSE (extract(isodow FROM l)::smallint = ANY(p_days) AND l::time >= p_opens)
             OR (extract(isodow FROM l - interval '1 day')::smallint = ANY(p_days)
                 AND l::time < p_closes)
    END
      FROM (SELECT p_at AT TIME ZONE p_tz AS l) x
$$;
