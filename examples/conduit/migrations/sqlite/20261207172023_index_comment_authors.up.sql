-- 20261207172023_index_comment_authors (up, sqlite), generated from the entities: review before applying.
-- add index comments_author_id_idx on comments

CREATE INDEX "comments_author_id_idx" ON "comments" ("author_id");
