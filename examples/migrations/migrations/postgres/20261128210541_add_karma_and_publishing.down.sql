-- 20261128210541_add_karma_and_publishing (down, postgres), generated from the entities: review before applying.
-- add column authors.karma
-- add column posts.published
-- add index posts_published_idx on posts

DROP INDEX "posts_published_idx";

ALTER TABLE "authors" DROP COLUMN "karma";

ALTER TABLE "posts" DROP COLUMN "published";
