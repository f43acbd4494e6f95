-- sd_transitions.sql - senderd's record statement (senderd/record.c) takes the
-- transitions of a group from here: the arrays it is sent, as rows.
--
-- A function for one reason: ROWS 1. The record statement is prepared, planned once for
-- any group; unnest of its array parameters is guessed at 10 rows, and while the
-- statistics call messages small (as they do on a new system, and for a minute after
-- each autoanalyze while traffic grows) the planner then reads every message once for the
-- group rather than look each one up by id (1.5 ms a group over 1,200 messages, more as
-- they grow). With one row it looks them up, whatever the table's size. plpgsql, so
-- that the planner cannot inline it and forget the estimate.
CREATE OR REPLACE FUNCTION sd_transitions(ids bigint[], statuses text[], details text[],
                                          tg_ids bigint[], dues bigint[])
RETURNS TABLE (id bigint, status text, detail text, tg_id bigint, due_ms bigint)
LANGUAGE plpgsql IMMUTABLE ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT * FROM unnest(ids, statuses, details, tg_ids, dues);
END $$;
