-- 051_due_cursor.sql - the claims' walk chat by chat goes on where it last stopped.
--
-- sd_due (senderd) and wh_due (webhookd) look for chats' heads chat by chat when a
-- backlog of a few chats fills their window. The walk started at a random place, and
-- not every chat could be a start: senderd's start was a string of digits, after every
-- group's '-100...' id, so a bot's groups past the first 4n + 64 were never reached
-- while the backlog lasted; webhookd's was the chat of a random waiting update, mostly
-- the busy chats. Now the caller passes where its last walk stopped, and the walk wraps
-- round: the functions take one argument more (the files in sql/functions/ hold them).
DROP FUNCTION IF EXISTS sd_due(bigint[], int[]);
DROP FUNCTION IF EXISTS wh_due(int);
