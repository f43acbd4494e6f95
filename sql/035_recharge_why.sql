-- 035_recharge_why.sql - bd_recharge_link takes the reason a recharge failed as a
-- catalog name and its arguments (sql/functions/bd_recharge_link.sql), worded by billingd
-- in the user's language; its form that took the words goes.
DROP FUNCTION IF EXISTS bd_recharge_link(bigint, text, text, text);
