-- 20261128210541_add_karma_and_publishing (up, postgres), generated from the entities: review before applying.
-- add column authors.karma
-- add column posts.published
-- add index posts_published_idx on posts

ALTER TABLE "authors" ADD COLUMN "karma" BIGINT DEFAULT 0 NOT NULL;

ALTER TABLE "posts" ADD COLUMN "published" BOOLEAN DEFAULT FALSE NOT NULL;

CREATE INDEX "posts_published_idx" ON "posts" ("published");
