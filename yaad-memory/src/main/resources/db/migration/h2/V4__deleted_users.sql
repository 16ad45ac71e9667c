-- Tombstones of deleted users; see the PostgreSQL migration of the same version.
CREATE TABLE deleted_users (
  user_id     VARCHAR(128) PRIMARY KEY,
  deleted_at  BIGINT       NOT NULL
);
