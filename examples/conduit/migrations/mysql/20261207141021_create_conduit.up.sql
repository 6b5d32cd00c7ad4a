-- 20261207141021_create_conduit (up, mysql), generated from the entities: review before applying.
-- create table tags
-- create table users
-- create table articles
-- create table article_tags
-- create table comments
-- create table favorites
-- create table follows

CREATE TABLE `tags` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `name` VARCHAR(255) NOT NULL,
    CONSTRAINT `tags_pkey` PRIMARY KEY (`id`),
    CONSTRAINT `tags_name_key` UNIQUE (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `users` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `username` VARCHAR(255) NOT NULL,
    `email` VARCHAR(255) NOT NULL,
    `password_hash` LONGTEXT NOT NULL,
    `bio` LONGTEXT,
    `image` LONGTEXT,
    CONSTRAINT `users_pkey` PRIMARY KEY (`id`),
    CONSTRAINT `users_email_key` UNIQUE (`email`),
    CONSTRAINT `users_username_key` UNIQUE (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `articles` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `slug` VARCHAR(255) NOT NULL,
    `author_id` BIGINT NOT NULL,
    `title` LONGTEXT NOT NULL,
    `description` LONGTEXT NOT NULL,
    `body` LONGTEXT NOT NULL,
    `created_at` DATETIME(6) NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    CONSTRAINT `articles_pkey` PRIMARY KEY (`id`),
    CONSTRAINT `articles_slug_key` UNIQUE (`slug`),
    INDEX `articles_author_id_idx` (`author_id`),
    INDEX `articles_created_at_idx` (`created_at`),
    INDEX `articles_author_id_fkey` (`author_id`),
    CONSTRAINT `articles_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `article_tags` (
    `article_id` BIGINT NOT NULL,
    `tag_id` BIGINT NOT NULL,
    CONSTRAINT `article_tags_pkey` PRIMARY KEY (`article_id`, `tag_id`),
    INDEX `article_tags_tag_id_idx` (`tag_id`),
    INDEX `article_tags_article_id_fkey` (`article_id`),
    INDEX `article_tags_tag_id_fkey` (`tag_id`),
    CONSTRAINT `article_tags_article_id_fkey` FOREIGN KEY (`article_id`) REFERENCES `articles` (`id`) ON DELETE CASCADE,
    CONSTRAINT `article_tags_tag_id_fkey` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `comments` (
    `id` BIGINT AUTO_INCREMENT NOT NULL,
    `article_id` BIGINT NOT NULL,
    `author_id` BIGINT NOT NULL,
    `body` LONGTEXT NOT NULL,
    `created_at` DATETIME(6) NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    CONSTRAINT `comments_pkey` PRIMARY KEY (`id`),
    INDEX `comments_article_id_idx` (`article_id`),
    INDEX `comments_article_id_fkey` (`article_id`),
    INDEX `comments_author_id_fkey` (`author_id`),
    CONSTRAINT `comments_article_id_fkey` FOREIGN KEY (`article_id`) REFERENCES `articles` (`id`) ON DELETE CASCADE,
    CONSTRAINT `comments_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `favorites` (
    `user_id` BIGINT NOT NULL,
    `article_id` BIGINT NOT NULL,
    CONSTRAINT `favorites_pkey` PRIMARY KEY (`user_id`, `article_id`),
    INDEX `favorites_article_id_idx` (`article_id`),
    INDEX `favorites_article_id_fkey` (`article_id`),
    INDEX `favorites_user_id_fkey` (`user_id`),
    CONSTRAINT `favorites_article_id_fkey` FOREIGN KEY (`article_id`) REFERENCES `articles` (`id`) ON DELETE CASCADE,
    CONSTRAINT `favorites_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `follows` (
    `follower_id` BIGINT NOT NULL,
    `followee_id` BIGINT NOT NULL,
    CONSTRAINT `follows_pkey` PRIMARY KEY (`follower_id`, `followee_id`),
    INDEX `follows_followee_id_idx` (`followee_id`),
    INDEX `follows_followee_id_fkey` (`followee_id`),
    INDEX `follows_follower_id_fkey` (`follower_id`),
    CONSTRAINT `follows_followee_id_fkey` FOREIGN KEY (`followee_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
    CONSTRAINT `follows_follower_id_fkey` FOREIGN KEY (`follower_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
