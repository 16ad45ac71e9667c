-- Each memory's embedding, written in the same transaction as its text and never
-- recomputed at start-up: little-endian float32 components (384 x 4 = 1,536 bytes for the
-- default model), plus the identity of the model that produced it. NULL for memories
-- written before embeddings or through a path without them; the re-embedding job fills
-- those in and replaces vectors of another model.
ALTER TABLE memories ADD COLUMN embedding BYTEA;
ALTER TABLE memories ADD COLUMN embedding_model VARCHAR(128);
