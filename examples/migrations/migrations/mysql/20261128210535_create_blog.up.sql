-- 20261128210535_create_blog (up, mysql), generated from the entities: review before applying.
-- create table authors
-- create table posts

CREATE TABLE `authors` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `email` VARCHAR(255) NOT NULL,
    `name` LONGTEXT NOT NULL,
    CONSTRAINT `authors_pkey` PRIMARY KEY (`id`),
    CONSTRAINT `authors_email_key` UNIQUE (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `posts` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `author_id` BIGINT NOT NULL,
    `title` LONGTEXT NOT NULL,
    CONSTRAINT `posts_pkey` PRIMARY KEY (`id`),
    INDEX `posts_author_id_fkey` (`author_id`),
    CONSTRAINT `posts_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `authors` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
