//! SeaORM, as its guides write it: entities from `DeriveEntityModel`, `ActiveModel` inserts,
//! `find_by_id`, the data loader for a page's children; one connection in its pool.

use repo_benches::{NewUser, User};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, LoaderTrait, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::{PARENTS, Stack};

mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: String,
        pub name: String,
        pub bio: Option<String>,
        pub score: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// SeaORM's connection (its sqlx pool, of one connection).
pub struct SeaOrm(DatabaseConnection);

impl SeaOrm {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> SeaOrm {
        let mut options = ConnectOptions::new(url.replacen("mariadb:", "mysql:", 1));
        options
            .max_connections(crate::pool_size())
            .min_connections(1)
            .test_before_acquire(false)
            .sqlx_logging(false);
        SeaOrm(Database::connect(options).await.expect("connect"))
    }
}

fn active(new: &NewUser) -> user::ActiveModel {
    user::ActiveModel {
        email: Set(new.email.clone()),
        name: Set(new.name.clone()),
        bio: Set(new.bio.clone()),
        score: Set(new.score),
        ..Default::default()
    }
}

impl Stack for SeaOrm {
    async fn insert_one(&mut self, new: &NewUser) -> i64 {
        user::Entity::insert(active(new))
            .exec(&self.0)
            .await
            .expect("insert")
            .last_insert_id
    }

    async fn insert_many(&mut self, news: &[NewUser]) -> usize {
        let transaction = self.0.begin().await.expect("begin");
        user::Entity::insert_many(news.iter().map(active))
            .exec(&transaction)
            .await
            .expect("insert_many");
        transaction.commit().await.expect("commit");
        news.len()
    }

    async fn find_by_id(&mut self, id: i64) -> usize {
        let found = user::Entity::find_by_id(id)
            .one(&self.0)
            .await
            .expect("find");
        usize::from(found.is_some())
    }

    async fn select(&mut self, limit: i64) -> usize {
        user::Entity::find()
            .order_by_asc(user::Column::Id)
            .limit(u64::try_from(limit).unwrap_or(0))
            .all(&self.0)
            .await
            .expect("select")
            .len()
    }

    async fn update_one(&mut self, user: &User) -> usize {
        let changes = user::ActiveModel {
            email: Set(user.email.clone()),
            name: Set(user.name.clone()),
            bio: Set(user.bio.clone()),
            score: Set(user.score),
            ..Default::default()
        };
        user::Entity::update_many()
            .set(changes)
            .filter(user::Column::Id.eq(user.id))
            .exec(&self.0)
            .await
            .expect("update")
            .rows_affected as usize
    }

    async fn users_with_posts(&mut self) -> usize {
        let users = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .limit(PARENTS as u64)
            .all(&self.0)
            .await
            .expect("page");
        let posts = users.load_many(post::Entity, &self.0).await.expect("posts");
        posts.iter().map(Vec::len).sum()
    }
}
