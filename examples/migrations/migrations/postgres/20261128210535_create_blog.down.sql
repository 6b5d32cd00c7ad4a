-- 20261128210535_create_blog (down, postgres), generated from the entities: review before applying.
-- create table authors
-- create table posts

DROP TABLE "posts";

DROP TABLE "authors";
