-- 20261128210535_create_blog (up, sqlite), generated from the entities: review before applying.
-- create table authors
-- create table posts

CREATE TABLE "authors" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "authors_email_key" UNIQUE ("email")
);

CREATE TABLE "posts" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "author_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "authors" ("id") ON DELETE CASCADE
);
