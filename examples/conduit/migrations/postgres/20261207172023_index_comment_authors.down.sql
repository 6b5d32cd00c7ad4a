-- 20261207172023_index_comment_authors (down, postgres), generated from the entities: review before applying.
-- add index comments_author_id_idx on comments

DROP INDEX "comments_author_id_idx";
