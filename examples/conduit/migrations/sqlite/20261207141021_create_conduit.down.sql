-- 20261207141021_create_conduit (down, sqlite), generated from the entities: review before applying.
-- create table tags
-- create table users
-- create table articles
-- create table article_tags
-- create table comments
-- create table favorites
-- create table follows

DROP TABLE "follows";

DROP TABLE "favorites";

DROP TABLE "comments";

DROP TABLE "article_tags";

DROP TABLE "articles";

DROP TABLE "users";

DROP TABLE "tags";
