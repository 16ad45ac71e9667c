-- Users come into being with their first memory or profile; deleting one cascades.
CREATE TABLE users (
  id          VARCHAR(128) PRIMARY KEY,
  created_at  TIMESTAMPTZ  NOT NULL
);

CREATE TABLE memories (
  id           UUID          PRIMARY KEY,
  user_id      VARCHAR(128)  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  category     VARCHAR(32)   NOT NULL,
  content      TEXT          NOT NULL,
  metadata     TEXT          NOT NULL DEFAULT '{}',  -- kept as text: returned exactly as given
  occurred_at  TIMESTAMPTZ,
  created_at   TIMESTAMPTZ   NOT NULL,
  updated_at   TIMESTAMPTZ   NOT NULL
);

-- Serves the snapshot (newest n per category), listings by category, and keyset paging.
CREATE INDEX memories_user_category_created ON memories (user_id, category, created_at DESC, id DESC);
-- Serves listings across all categories.
CREATE INDEX memories_user_created ON memories (user_id, created_at DESC, id DESC);

CREATE TABLE profiles (
  user_id     VARCHAR(128) PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  content     TEXT         NOT NULL,
  version     BIGINT       NOT NULL,
  updated_at  TIMESTAMPTZ  NOT NULL
);
