-- Tombstones of deleted users (JdbcMemoryStore.deleteUser writes one in the deletion's own
-- transaction): the user id and when it was deleted, epoch milliseconds. No memory, profile
-- or conversation text: only what stops work that began before the deletion (a turn waiting
-- to be learned, a session opened before it) from writing for the user afterwards. Work that
-- begins later is a new user's and is not affected, so the id can be used again.
CREATE TABLE deleted_users (
  user_id     VARCHAR(128) PRIMARY KEY,
  deleted_at  BIGINT       NOT NULL
);
