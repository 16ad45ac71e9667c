-- Each memory's embedding, written with it; see the PostgreSQL migration for the format.
ALTER TABLE memories ADD COLUMN embedding VARBINARY(65536);
ALTER TABLE memories ADD COLUMN embedding_model VARCHAR(128);
