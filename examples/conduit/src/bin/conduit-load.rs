//! A load test of a running Conduit service, on loopback, bounded in clients and time:
//! `conduit-load [--url http://127.0.0.1:3000/api] [--clients 50] [--seconds 30]`.
//!
//! Each client is a registered user. Until the time is up they read (90 %: the newest
//! articles, articles by tag, the feed, one article, its comments) and write (10 %: a
//! favourite, a comment, a new article). Afterwards every article's favourites count and
//! comments are checked against what the clients wrote, and the run prints its throughput
//! and latency percentiles. It fails on any error response or any mismatch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

type Http = Client<HttpConnector, Full<Bytes>>;

/// Where and how hard to load.
struct Settings {
    url: String,
    clients: usize,
    duration: Duration,
}

impl Settings {
    fn from_args() -> Result<Settings, String> {
        let mut settings = Settings {
            url: "http://127.0.0.1:3000/api".into(),
            clients: 50,
            duration: Duration::from_secs(30),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--url" => settings.url = value,
                "--clients" => settings.clients = value.parse().map_err(|e| format!("{e}"))?,
                "--seconds" => {
                    settings.duration =
                        Duration::from_secs(value.parse().map_err(|e| format!("{e}"))?)
                }
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        Ok(settings)
    }
}

/// One request's answer.
struct Answer {
    status: StatusCode,
    body: Value,
}

/// A client of the API, as one user.
#[derive(Clone)]
struct Api {
    http: Http,
    url: Arc<str>,
    token: Option<Arc<str>>,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Token {token}"));
        }
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let body = match bytes.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&bytes).map_err(|e| format!("{method} {path}: {e}"))?,
        };
        Ok(Answer { status, body })
    }

    /// The call, failing unless it succeeded.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let answer = self.call(method.clone(), path, body).await?;
        match answer.status.is_success() {
            true => Ok(answer.body),
            false => Err(format!(
                "{method} {path}: {} {}",
                answer.status, answer.body
            )),
        }
    }
}

/// A small, seeded generator: the mix is random but each run's is the same.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % sides
    }
}

/// What one client did.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    favorites: BTreeSet<String>,
    comments: BTreeMap<String, u64>,
    created: Vec<String>,
}

const TAGS: [&str; 4] = ["rust", "databases", "http", "load"];

async fn client(api: Api, slugs: Arc<Vec<String>>, seed: u64, deadline: Instant) -> Tally {
    let mut dice = Dice(seed | 1);
    let mut tally = Tally::default();
    let mut written = 0u64;
    while Instant::now() < deadline {
        let slug = &slugs[dice.roll(slugs.len())];
        let roll = dice.roll(100);
        let started = Instant::now();
        let outcome = match roll {
            0..30 => api
                .ok(Method::GET, "/articles?limit=20", None)
                .await
                .map(drop),
            30..45 => {
                let tag = TAGS[dice.roll(TAGS.len())];
                let path = format!("/articles?tag={tag}&limit=20");
                api.ok(Method::GET, &path, None).await.map(drop)
            }
            45..60 => api
                .ok(Method::GET, "/articles/feed?limit=20", None)
                .await
                .map(drop),
            60..80 => api
                .ok(Method::GET, &format!("/articles/{slug}"), None)
                .await
                .map(drop),
            80..90 => {
                let path = format!("/articles/{slug}/comments");
                api.ok(Method::GET, &path, None).await.map(drop)
            }
            90..94 => {
                let path = format!("/articles/{slug}/favorite");
                let done = api.ok(Method::POST, &path, None).await.map(drop);
                if done.is_ok() {
                    tally.favorites.insert(slug.clone());
                }
                done
            }
            94..98 => {
                let path = format!("/articles/{slug}/comments");
                let body = json!({ "comment": { "body": format!("comment {seed}-{written}") } });
                let done = api.ok(Method::POST, &path, Some(body)).await.map(drop);
                if done.is_ok() {
                    *tally.comments.entry(slug.clone()).or_default() += 1;
                }
                done
            }
            _ => {
                let tag = TAGS[dice.roll(TAGS.len())];
                let body = json!({ "article": {
                    "title": format!("Load {seed} {written}"),
                    "description": "written under load",
                    "body": "Lorem ipsum dolor sit amet.",
                    "tagList": [tag],
                }});
                match api.ok(Method::POST, "/articles", Some(body)).await {
                    Ok(created) => {
                        let slug = created["article"]["slug"].as_str().unwrap_or_default();
                        tally.created.push(slug.to_owned());
                        Ok(())
                    }
                    Err(error) => Err(error),
                }
            }
        };
        tally.latencies.push(started.elapsed());
        written += 1;
        if let Err(error) = outcome {
            tally.errors.push(error);
        }
    }
    tally
}

async fn register(api: &Api, name: &str) -> Result<Api, String> {
    let body = json!({ "user": {
        "username": name, "email": format!("{name}@load.example"), "password": "load-test",
    }});
    let user = api.ok(Method::POST, "/users", Some(body)).await?;
    let token = user["user"]["token"].as_str().ok_or("no token")?;
    Ok(Api {
        token: Some(token.into()),
        ..api.clone()
    })
}

fn percentile(sorted: &[Duration], per_cent: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * per_cent / 100.0).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conduit-load: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = Settings::from_args()?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(settings.clients)
        .build(connector);
    let anonymous = Api {
        http,
        url: settings.url.as_str().into(),
        token: None,
    };
    // Setup: a user per client, each following the next, and two articles each.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let mut users = Vec::new();
    for client in 0..settings.clients {
        users.push(register(&anonymous, &format!("load{run}x{client}")).await?);
    }
    let mut slugs = Vec::new();
    for (client, api) in users.iter().enumerate() {
        let next = format!("load{run}x{}", (client + 1) % settings.clients);
        api.ok(Method::POST, &format!("/profiles/{next}/follow"), None)
            .await?;
        for article in 0..2 {
            let body = json!({ "article": {
                "title": format!("Seed {run} {client} {article}"),
                "description": "the load test's own",
                "body": "Lorem ipsum dolor sit amet.",
                "tagList": [TAGS[(client + article) % TAGS.len()], "load"],
            }});
            let created = api.ok(Method::POST, "/articles", Some(body)).await?;
            let slug = created["article"]["slug"].as_str().ok_or("no slug")?;
            slugs.push(slug.to_owned());
        }
    }
    let slugs = Arc::new(slugs);

    let started = Instant::now();
    let deadline = started + settings.duration;
    let tasks: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, api)| {
            tokio::spawn(client(
                api.clone(),
                slugs.clone(),
                0x9e37_79b9 * (n as u64 + 1),
                deadline,
            ))
        })
        .collect();
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();

    let mut latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let errors: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
    let requests = latencies.len();
    println!(
        "{} clients, {:.1} s: {requests} requests, {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors",
        settings.clients,
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        errors.len(),
    );
    for error in errors.iter().take(5) {
        eprintln!("  {error}");
    }

    // Nothing lost: each article's favourites are the clients who favourited it, its
    // comments those they wrote, and every article written is there.
    let mut problems = Vec::new();
    let created: usize = tallies.iter().map(|t| t.created.len()).sum();
    let comments_written: u64 = tallies.iter().flat_map(|t| t.comments.values()).sum();
    for slug in slugs.iter() {
        let expected_favorites = tallies
            .iter()
            .filter(|t| t.favorites.contains(slug))
            .count() as u64;
        let expected_comments: u64 = tallies.iter().filter_map(|t| t.comments.get(slug)).sum();
        let article = anonymous
            .ok(Method::GET, &format!("/articles/{slug}"), None)
            .await?;
        let favorites = article["article"]["favoritesCount"]
            .as_u64()
            .unwrap_or(u64::MAX);
        if favorites != expected_favorites {
            problems.push(format!(
                "{slug}: {favorites} favourites, {expected_favorites} written"
            ));
        }
        let comments = anonymous
            .ok(Method::GET, &format!("/articles/{slug}/comments"), None)
            .await?;
        let comments = comments["comments"].as_array().map_or(0, Vec::len) as u64;
        if comments != expected_comments {
            problems.push(format!(
                "{slug}: {comments} comments, {expected_comments} written"
            ));
        }
    }
    for slug in tallies.iter().flat_map(|t| &t.created) {
        let found = anonymous
            .call(Method::GET, &format!("/articles/{slug}"), None)
            .await?;
        if found.status != StatusCode::OK {
            problems.push(format!("{slug}: created, then {}", found.status));
        }
    }
    println!(
        "checked: {} articles, {} favourites, {comments_written} comments, {created} articles written under load",
        slugs.len(),
        tallies.iter().map(|t| t.favorites.len()).sum::<usize>(),
    );
    for problem in problems.iter().take(10) {
        eprintln!("  {problem}");
    }
    match (errors.is_empty(), problems.is_empty()) {
        (true, true) => Ok(()),
        _ => Err(format!(
            "{} errors, {} mismatches",
            errors.len(),
            problems.len()
        )),
    }
}
