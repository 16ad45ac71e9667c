-- A key per accepted turn (dev.yaad.agent.learning.TurnBuffer.Turn): a write of turns that
-- committed although the database's answer was lost (it restarted at that moment) is written
-- again, and the key keeps that from becoming a second row. Rows of other kinds, and turns
-- written before this version, have none (NULLs do not collide).
ALTER TABLE agent_outbox ADD COLUMN turn_key VARCHAR(36);
CREATE UNIQUE INDEX agent_outbox_turn_key ON agent_outbox (turn_key);
