-- Same shape as the PostgreSQL schema; H2 spells the types differently.
CREATE TABLE users (
  id          VARCHAR(128)              PRIMARY KEY,
  created_at  TIMESTAMP WITH TIME ZONE  NOT NULL
);

CREATE TABLE memories (
  id           UUID                      PRIMARY KEY,
  user_id      VARCHAR(128)              NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  category     VARCHAR(32)               NOT NULL,
  content      VARCHAR(8192)             NOT NULL,
  metadata     VARCHAR(4096)             DEFAULT '{}' NOT NULL,
  occurred_at  TIMESTAMP WITH TIME ZONE,
  created_at   TIMESTAMP WITH TIME ZONE  NOT NULL,
  updated_at   TIMESTAMP WITH TIME ZONE  NOT NULL
);

CREATE INDEX memories_user_category_created ON memories (user_id, category, created_at DESC, id DESC);
CREATE INDEX memories_user_created ON memories (user_id, created_at DESC, id DESC);

CREATE TABLE profiles (
  user_id     VARCHAR(128)              PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  content     VARCHAR(8192)             NOT NULL,
  version     BIGINT                    NOT NULL,
  updated_at  TIMESTAMP WITH TIME ZONE  NOT NULL
);
