-- retention_walk.sql - delete up to p_batch old rows of p_table, found by walking it in
-- p_order (an indexed column that grows with time: its identity, or its time) from the
-- oldest: a row whose p_time is before p_cut and for which p_done (an SQL condition on
-- the row) holds is taken, a row not done is stepped over, and the walk ends at the first
-- row of p_cut or later. So a batch costs the rows it takes plus the old rows not done,
-- never the young part of the table. p_key names the rows deleted. Returns how many
-- went. Called by retention_delete with its own constant arguments.
CREATE OR REPLACE FUNCTION retention_walk(p_table text, p_key text, p_order text,
                                          p_time text, p_done text, p_cut timestamptz,
                                          p_batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    keys text[] := '{}';
    n bigint;
BEGIN
    FOR r IN EXECUTE format('SELECT %I::text AS k, %I AS t, (%s) AS done FROM %I ORDER BY %I',
                            p_key, p_time, p_done, p_table, p_order) LOOP
        EXIT WHEN r.t >= p_cut OR cardinality(keys) >= p_batch;
        IF r.done THEN
            keys := keys || r.k;
        END IF;
    END LOOP;
    EXECUTE format('DELETE FROM %I WHERE %I::text = ANY($1)', p_table, p_key) USING keys;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
