-- audit_write.sql - one row of the audit log (024_admins.sql): p_tenant NULL takes the
-- bot's tenant; p_ref, when given, writes the row once (a retried action is audited
-- once). Call it in the statement or transaction of the action it records. The row's
-- id, or NULL when p_ref was already written.
CREATE OR REPLACE FUNCTION audit_write(p_tenant bigint, p_bot bigint, p_source text,
                                       p_actor text, p_action text, p_target text,
                                       p_detail jsonb, p_ref text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t bigint := p_tenant;
    r bigint;
BEGIN
    IF t IS NULL THEN
        SELECT tenant_id INTO t FROM bots WHERE id = p_bot;
    END IF;
    INSERT INTO audit_log (tenant_id, bot_id, source, actor, action, target, detail, ref)
    VALUES (t, p_bot, p_source, p_actor, p_action, p_target, p_detail, p_ref)
    ON CONFLICT (ref) DO NOTHING RETURNING id INTO r;
    RETURN r;
END $$;
