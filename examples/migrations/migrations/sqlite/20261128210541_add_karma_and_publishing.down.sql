-- 20261128210541_add_karma_and_publishing (down, sqlite), generated from the entities: review before applying.
-- add column authors.karma
-- add column posts.published
-- add index posts_published_idx on posts

CREATE TABLE "_repo_rebuild_authors" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "authors_email_key" UNIQUE ("email")
);

INSERT INTO "_repo_rebuild_authors" ("id", "email", "name") SELECT "id", "email", "name" FROM "authors";

DROP TABLE "authors";

ALTER TABLE "_repo_rebuild_authors" RENAME TO "authors";

CREATE TABLE "_repo_rebuild_posts" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "author_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "authors" ("id") ON DELETE CASCADE
);

INSERT INTO "_repo_rebuild_posts" ("id", "author_id", "title") SELECT "id", "author_id", "title" FROM "posts";

DROP TABLE "posts";

ALTER TABLE "_repo_rebuild_posts" RENAME TO "posts";
