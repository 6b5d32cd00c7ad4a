//! The HTTP API of the RealWorld specification on axum: JSON in and out, `Authorization:
//! Token <jwt>` for the current user, errors as `{"errors": {"field": ["message"]}}`.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use repo_runtime::chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use crate::application::{
    ArticlePage, ArticleQuery, ArticleView, CommentView, Conduit, ConduitError, Draft, Edit,
    Profile, ProfileUpdate, Registration,
};
use conduit_domain::User;

/// How long a token is valid.
const TOKEN_LIFETIME_SECONDS: i64 = 60 * 60 * 24 * 30;

/// Signs and checks the API's tokens (HS256).
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user's number.
    sub: i64,
    /// Expiry, in seconds since the epoch.
    exp: i64,
}

impl Tokens {
    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Tokens {
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A token naming `user`.
    pub fn issue(&self, user: i64) -> Result<String, ConduitError> {
        let claims = Claims {
            sub: user,
            exp: Utc::now().timestamp() + TOKEN_LIFETIME_SECONDS,
        };
        jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)
            .map_err(|error| ConduitError::Invalid("token", error.to_string()))
    }

    /// The user a valid token names.
    pub fn check(&self, token: &str) -> Result<i64, ConduitError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &Validation::default())
            .map(|data| data.claims.sub)
            .map_err(|_| ConduitError::Unauthorized)
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct Api {
    conduit: Conduit,
    tokens: Arc<Tokens>,
}

/// The API's routes under `/api`, with request tracing and permissive CORS.
pub fn router(conduit: Conduit, tokens: Tokens) -> Router {
    let api = Api {
        conduit,
        tokens: Arc::new(tokens),
    };
    let routes = Router::new()
        .route("/users", post(register))
        .route("/users/login", post(login))
        .route("/user", get(current_user).put(update_user))
        .route("/profiles/{username}", get(profile))
        .route("/profiles/{username}/follow", post(follow).delete(unfollow))
        .route("/articles", get(list_articles).post(create_article))
        .route("/articles/feed", get(feed))
        .route(
            "/articles/{slug}",
            get(article).put(update_article).delete(delete_article),
        )
        .route(
            "/articles/{slug}/favorite",
            post(favorite).delete(unfavorite),
        )
        .route("/articles/{slug}/comments", get(comments).post(add_comment))
        .route(
            "/articles/{slug}/comments/{id}",
            axum::routing::delete(delete_comment),
        )
        .route("/tags", get(tags))
        .with_state(api);
    Router::new()
        .nest("/api", routes)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::cors::CorsLayer::permissive())
}

impl IntoResponse for ConduitError {
    fn into_response(self) -> Response {
        let (status, field, message) = match &self {
            ConduitError::Unauthorized => (StatusCode::UNAUTHORIZED, "credentials", "invalid"),
            ConduitError::Forbidden => (StatusCode::FORBIDDEN, "user", "not allowed"),
            ConduitError::NotFound(what) => (StatusCode::NOT_FOUND, *what, "not found"),
            ConduitError::Invalid(field, why) => {
                (StatusCode::UNPROCESSABLE_ENTITY, *field, why.as_str())
            }
            ConduitError::Taken(field) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                *field,
                "has already been taken",
            ),
            ConduitError::Storage(error) => {
                tracing::error!(%error, "storage failed");
                let status = match error.is_transient() {
                    true => StatusCode::SERVICE_UNAVAILABLE,
                    false => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, "server", "failed")
            }
        };
        let body = json!({ "errors": { field: [message] } });
        (status, Json(body)).into_response()
    }
}

/// The current user, from a valid token; `401` without one.
struct Viewer(i64);

/// The current user if a valid token is given; anonymous without a token, `401` with a bad one.
struct MaybeViewer(Option<i64>);

impl FromRequestParts<Api> for MaybeViewer {
    type Rejection = ConduitError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, ConduitError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(MaybeViewer(None));
        };
        let value = value.to_str().map_err(|_| ConduitError::Unauthorized)?;
        let token = value
            .strip_prefix("Token ")
            .or_else(|| value.strip_prefix("Bearer "))
            .ok_or(ConduitError::Unauthorized)?;
        api.tokens
            .check(token.trim())
            .map(|id| MaybeViewer(Some(id)))
    }
}

impl FromRequestParts<Api> for Viewer {
    type Rejection = ConduitError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, ConduitError> {
        match MaybeViewer::from_request_parts(parts, api).await? {
            MaybeViewer(Some(id)) => Ok(Viewer(id)),
            MaybeViewer(None) => Err(ConduitError::Unauthorized),
        }
    }
}

/// A JSON body whose rejection is the API's `422`.
struct Body<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ConduitError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ConduitError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ConduitError::Invalid("body", rejection.body_text())),
        }
    }
}

/// A field that may be absent (left alone), `null` (cleared) or a value.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Deserialize)]
struct UserEnvelope<T> {
    user: T,
}

#[derive(Deserialize)]
struct NewUserJson {
    username: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct LoginJson {
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct UpdateUserJson {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    image: Option<Option<String>>,
}

#[derive(Deserialize)]
struct ArticleEnvelope<T> {
    article: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewArticleJson {
    title: String,
    description: String,
    body: String,
    #[serde(default)]
    tag_list: Vec<String>,
}

#[derive(Deserialize)]
struct UpdateArticleJson {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
}

#[derive(Deserialize)]
struct CommentEnvelope {
    comment: NewCommentJson,
}

#[derive(Deserialize)]
struct NewCommentJson {
    body: String,
}

#[derive(Deserialize)]
struct ListParams {
    tag: Option<String>,
    author: Option<String>,
    favorited: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Deserialize)]
struct PageParams {
    limit: Option<u32>,
    offset: Option<u32>,
}

fn user_json(user: &User, token: String) -> serde_json::Value {
    json!({ "user": {
        "email": user.email,
        "token": token,
        "username": user.username,
        "bio": user.bio,
        "image": user.image,
    }})
}

fn profile_json(profile: &Profile) -> serde_json::Value {
    json!({
        "username": profile.username,
        "bio": profile.bio,
        "image": profile.image,
        "following": profile.following,
    })
}

fn article_json(view: &ArticleView) -> serde_json::Value {
    let article = &view.article;
    json!({
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "tagList": view.tags,
        "createdAt": timestamp(&article.created_at),
        "updatedAt": timestamp(&article.updated_at),
        "favorited": view.favorited,
        "favoritesCount": view.favorites_count,
        "author": profile_json(&view.author),
    })
}

fn comment_json(view: &CommentView) -> serde_json::Value {
    let comment = &view.comment;
    json!({
        "id": comment.id,
        "createdAt": timestamp(&comment.created_at),
        "updatedAt": timestamp(&comment.updated_at),
        "body": comment.body,
        "author": profile_json(&view.author),
    })
}

fn page_json(page: &ArticlePage) -> Json<serde_json::Value> {
    let articles: Vec<_> = page.articles.iter().map(article_json).collect();
    Json(json!({ "articles": articles, "articlesCount": page.total }))
}

type Answer = Result<Json<serde_json::Value>, ConduitError>;

async fn register(
    State(api): State<Api>,
    Body(body): Body<UserEnvelope<NewUserJson>>,
) -> Result<(StatusCode, Json<serde_json::Value>), ConduitError> {
    let registration = Registration {
        username: body.user.username,
        email: body.user.email,
        password: body.user.password,
    };
    let user = api.conduit.register(registration).await?;
    let token = api.tokens.issue(user.id)?;
    Ok((StatusCode::CREATED, Json(user_json(&user, token))))
}

async fn login(State(api): State<Api>, Body(body): Body<UserEnvelope<LoginJson>>) -> Answer {
    let user = api
        .conduit
        .login(&body.user.email, &body.user.password)
        .await?;
    Ok(Json(user_json(&user, api.tokens.issue(user.id)?)))
}

async fn current_user(State(api): State<Api>, Viewer(id): Viewer) -> Answer {
    let user = api.conduit.user(id).await?;
    Ok(Json(user_json(&user, api.tokens.issue(user.id)?)))
}

async fn update_user(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Body(body): Body<UserEnvelope<UpdateUserJson>>,
) -> Answer {
    let update = ProfileUpdate {
        email: body.user.email,
        username: body.user.username,
        password: body.user.password,
        bio: body.user.bio,
        image: body.user.image,
    };
    let user = api.conduit.update_user(id, update).await?;
    Ok(Json(user_json(&user, api.tokens.issue(user.id)?)))
}

async fn profile(
    State(api): State<Api>,
    MaybeViewer(viewer): MaybeViewer,
    Path(username): Path<String>,
) -> Answer {
    let profile = api.conduit.profile(&username, viewer).await?;
    Ok(Json(json!({ "profile": profile_json(&profile) })))
}

async fn follow(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(username): Path<String>,
) -> Answer {
    let profile = api.conduit.follow(id, &username).await?;
    Ok(Json(json!({ "profile": profile_json(&profile) })))
}

async fn unfollow(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(username): Path<String>,
) -> Answer {
    let profile = api.conduit.unfollow(id, &username).await?;
    Ok(Json(json!({ "profile": profile_json(&profile) })))
}

async fn list_articles(
    State(api): State<Api>,
    MaybeViewer(viewer): MaybeViewer,
    Query(params): Query<ListParams>,
) -> Answer {
    let query = ArticleQuery {
        tag: params.tag,
        author: params.author,
        favorited: params.favorited,
        followed_by: None,
        limit: params.limit,
        offset: params.offset,
    };
    Ok(page_json(&api.conduit.articles(&query, viewer).await?))
}

async fn feed(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Query(params): Query<PageParams>,
) -> Answer {
    let query = ArticleQuery {
        followed_by: Some(id),
        limit: params.limit,
        offset: params.offset,
        ..ArticleQuery::default()
    };
    Ok(page_json(&api.conduit.articles(&query, Some(id)).await?))
}

async fn article(
    State(api): State<Api>,
    MaybeViewer(viewer): MaybeViewer,
    Path(slug): Path<String>,
) -> Answer {
    let view = api.conduit.article(&slug, viewer).await?;
    Ok(Json(json!({ "article": article_json(&view) })))
}

async fn create_article(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Body(body): Body<ArticleEnvelope<NewArticleJson>>,
) -> Result<(StatusCode, Json<serde_json::Value>), ConduitError> {
    let draft = Draft {
        title: body.article.title,
        description: body.article.description,
        body: body.article.body,
        tags: body.article.tag_list,
    };
    let view = api.conduit.publish(id, draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "article": article_json(&view) })),
    ))
}

async fn update_article(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(slug): Path<String>,
    Body(body): Body<ArticleEnvelope<UpdateArticleJson>>,
) -> Answer {
    let edit = Edit {
        title: body.article.title,
        description: body.article.description,
        body: body.article.body,
    };
    let view = api.conduit.edit(id, &slug, edit).await?;
    Ok(Json(json!({ "article": article_json(&view) })))
}

async fn delete_article(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(slug): Path<String>,
) -> Result<StatusCode, ConduitError> {
    api.conduit.delete(id, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn favorite(State(api): State<Api>, Viewer(id): Viewer, Path(slug): Path<String>) -> Answer {
    let view = api.conduit.favorite(id, &slug).await?;
    Ok(Json(json!({ "article": article_json(&view) })))
}

async fn unfavorite(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(slug): Path<String>,
) -> Answer {
    let view = api.conduit.unfavorite(id, &slug).await?;
    Ok(Json(json!({ "article": article_json(&view) })))
}

async fn comments(
    State(api): State<Api>,
    MaybeViewer(viewer): MaybeViewer,
    Path(slug): Path<String>,
) -> Answer {
    let comments = api.conduit.comments(&slug, viewer).await?;
    let comments: Vec<_> = comments.iter().map(comment_json).collect();
    Ok(Json(json!({ "comments": comments })))
}

async fn add_comment(
    State(api): State<Api>,
    Viewer(id): Viewer,
    Path(slug): Path<String>,
    Body(body): Body<CommentEnvelope>,
) -> Answer {
    let view = api.conduit.comment(id, &slug, &body.comment.body).await?;
    Ok(Json(json!({ "comment": comment_json(&view) })))
}

async fn delete_comment(
    State(api): State<Api>,
    Viewer(user): Viewer,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<StatusCode, ConduitError> {
    api.conduit.uncomment(user, &slug, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn tags(State(api): State<Api>) -> Answer {
    Ok(Json(json!({ "tags": api.conduit.tags().await? })))
}
