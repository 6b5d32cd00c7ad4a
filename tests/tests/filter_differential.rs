//! Filters built at run time against every backend at once: random trees of every operator
//! (and / or / not, empty and 10,000-value lists, text with SQL's metacharacters, a NUL)
//! and through a relation (`EXISTS` on rows that link to them, or to nothing)
//! select, count, test, group, walk in keyset pages, patch (rolled back) and delete on SQLite,
//! PostgreSQL, MariaDB and the in-memory store, and every backend must answer as SQLite does:
//! the same rows in the same order, or an error of the same kind.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use repo_runtime::Field;
use repo_runtime::prelude::*;
use repo_tests::{Backend, TestDb};

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "filter_items")]
pub(crate) struct Item {
    #[repo(id, generated)]
    pub(crate) id: i64,
    #[repo(index)]
    pub(crate) name: String,
    pub(crate) note: Option<String>,
    pub(crate) score: i64,
}

/// Rows that point at items, or at none (`NULL`, or an id no item has): what filters through a
/// relation follow.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "filter_marks")]
pub(crate) struct Mark {
    #[repo(id, generated)]
    pub(crate) id: i64,
    pub(crate) item_id: Option<i64>,
    pub(crate) label: String,
}

/// Texts that SQL and `LIKE` treat specially, and near-duplicates that only case or accents
/// tell apart. Not trailing spaces: MariaDB's `utf8mb4_bin` pads (`'ann' = 'ann '` holds
/// there), a difference of the server's collation that filters do not hide.
const TEXTS: [&str; 13] = [
    "ann",
    "Ann",
    "anna",
    "a%n",
    "a_n",
    "a!n",
    "%",
    "_",
    "it's",
    "x\"y",
    "back\\slash",
    "",
    "ånn",
];

/// The rows every backend holds.
fn rows() -> Vec<NewItem> {
    TEXTS
        .iter()
        .enumerate()
        .map(|(i, name)| NewItem {
            name: (*name).to_owned(),
            note: match i % 3 {
                0 => None,
                1 => Some(TEXTS[(i * 5) % TEXTS.len()].to_owned()),
                _ => Some(String::new()),
            },
            score: i64::try_from(i % 7).unwrap_or(0) - 3,
        })
        .collect()
}

/// The scores of a filter's rows, aggregated.
#[derive(Debug, PartialEq, Projection)]
#[repo(entity = Item)]
struct Scores {
    #[repo(count)]
    rows: i64,
    #[repo(sum = score)]
    total: Option<i64>,
    #[repo(max = score)]
    best: Option<i64>,
}

/// The marks every backend holds: the items' keys are 1 to 13 on every backend.
fn marks() -> Vec<NewMark> {
    (0..20)
        .map(|i: i64| NewMark {
            item_id: match i % 5 {
                0 => None,
                4 => Some(100 + i),
                _ => Some(1 + (i * 3) % 13),
            },
            label: TEXTS[(i as usize * 7) % TEXTS.len()].to_owned(),
        })
        .collect()
}

/// A filter as data, so that a failing case prints what it was.
#[derive(Debug, Clone)]
enum Tree {
    /// Items some mark links to by `item_id`, among the marks whose label meets the test.
    Marked(Op, String),
    /// Items whose score some mark holds in `item_id`: a link by a non-key column.
    ScoreMarked(Op, String),
    Name(Op, String),
    Note(Op, String),
    Score(Op, i64),
    ScoreBetween(i64, i64),
    NameIn(Vec<String>),
    NameNotIn(Vec<String>),
    ScoreIn(Vec<i64>),
    /// A list longer than any backend takes as placeholders of one statement would be, were
    /// it not one array on PostgreSQL.
    ScoreInMany(i64),
    NoteIsNull,
    NoteIsNotNull,
    All(Vec<Tree>),
    Any(Vec<Tree>),
    Not(Box<Tree>),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    StartsWith,
    EndsWith,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(TEXTS.to_vec()).prop_map(String::from),
        1 => Just("a\0n".to_owned()),
        1 => "[a-c%_!']{0,3}",
    ]
}

fn text_op() -> impl Strategy<Value = Op> {
    proptest::sample::select(vec![
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::Contains,
        Op::StartsWith,
        Op::EndsWith,
    ])
}

fn number_op() -> impl Strategy<Value = Op> {
    proptest::sample::select(vec![Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le])
}

fn leaf() -> impl Strategy<Value = Tree> {
    prop_oneof![
        4 => (text_op(), text()).prop_map(|(op, text)| Tree::Name(op, text)),
        4 => (text_op(), text()).prop_map(|(op, text)| Tree::Note(op, text)),
        4 => (number_op(), -4i64..5).prop_map(|(op, n)| Tree::Score(op, n)),
        2 => (-4i64..5, -4i64..5).prop_map(|(low, high)| Tree::ScoreBetween(low, high)),
        2 => proptest::collection::vec(text(), 0..4).prop_map(Tree::NameIn),
        2 => proptest::collection::vec(text(), 0..4).prop_map(Tree::NameNotIn),
        2 => proptest::collection::vec(-4i64..5, 0..4).prop_map(Tree::ScoreIn),
        1 => Just(Tree::NoteIsNull),
        1 => Just(Tree::NoteIsNotNull),
        1 => (-4i64..5).prop_map(Tree::ScoreInMany),
        2 => (text_op(), text()).prop_map(|(op, text)| Tree::Marked(op, text)),
        1 => (text_op(), text()).prop_map(|(op, text)| Tree::ScoreMarked(op, text)),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Tree::All),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Tree::Any),
            inner.prop_map(|tree| Tree::Not(Box::new(tree))),
        ]
    })
}

fn text_filter<E>(field: Field<E, String>, op: Op, text: &str) -> Filter<E> {
    match op {
        Op::Eq => field.eq(text),
        Op::Ne => field.ne(text),
        Op::Gt => field.gt(text),
        Op::Ge => field.ge(text),
        Op::Lt => field.lt(text),
        Op::Le => field.le(text),
        Op::Contains => field.contains(text),
        Op::StartsWith => field.starts_with(text),
        Op::EndsWith => field.ends_with(text),
    }
}

fn filter(tree: &Tree) -> Filter<Item> {
    match tree {
        Tree::Name(op, text) => text_filter(Item::NAME, *op, text),
        Tree::Note(op, text) => text_filter(Item::NOTE, *op, text),
        Tree::Score(op, n) => match op {
            Op::Eq => Item::SCORE.eq(*n),
            Op::Ne => Item::SCORE.ne(*n),
            Op::Gt => Item::SCORE.gt(*n),
            Op::Ge => Item::SCORE.ge(*n),
            Op::Lt => Item::SCORE.lt(*n),
            _ => Item::SCORE.le(*n),
        },
        Tree::ScoreBetween(low, high) => Item::SCORE.between(*low, *high),
        Tree::NameIn(names) => Item::NAME.is_in(names),
        Tree::NameNotIn(names) => Item::NAME.not_in(names),
        Tree::ScoreIn(scores) => Item::SCORE.is_in(scores),
        Tree::ScoreInMany(score) => Item::SCORE.is_in((100..10_099).chain([*score])),
        Tree::Marked(op, text) => {
            Item::ID.exists_in(Mark::ITEM_ID, text_filter(Mark::LABEL, *op, text))
        }
        Tree::ScoreMarked(op, text) => {
            Item::SCORE.exists_in(Mark::ITEM_ID, text_filter(Mark::LABEL, *op, text))
        }
        Tree::NoteIsNull => Item::NOTE.is_null(),
        Tree::NoteIsNotNull => Item::NOTE.is_not_null(),
        Tree::All(trees) => Filter::all_of(trees.iter().map(filter)),
        Tree::Any(trees) => Filter::any_of(trees.iter().map(filter)),
        Tree::Not(tree) => !filter(tree),
    }
}

/// What a backend answered: the rows' names in key order and their count, or the error's
/// kind.
async fn answer(db: &Db, filter: &Filter<Item>) -> String {
    let items = Item::repository(db);
    let by_key = ListOptions::new().asc(ItemColumn::Id);
    let rows = items.find_where(filter, by_key).await;
    let count = items.count_where(filter).await;
    let exists = items.exists_where(filter).await;
    match (rows, count, exists) {
        (Ok(rows), Ok(count), Ok(exists)) => {
            let names: Vec<String> = rows.into_iter().map(|item| item.name).collect();
            format!("{names:?}, count {count}, exists {exists}")
        }
        (rows, count, exists) => format!(
            "errors: {:?} {:?} {:?}",
            rows.err().map(|e| e.kind()),
            count.err().map(|e| e.kind()),
            exists.err().map(|e| e.kind())
        ),
    }
}

/// What a backend answered beyond whole rows: counts per score, aggregates, every keyset
/// page by score, and the rows a patch wrote (rolled back), or the error's kind.
async fn derived_answer(db: &Db, filter: &Filter<Item>) -> String {
    let items = Item::repository(db);
    let per_score: Result<std::collections::BTreeMap<i64, i64>, _> =
        items.count_by(Item::SCORE, filter).await;
    let scores: Result<Vec<Scores>, _> = items.project(filter, ListOptions::new()).await;
    let mut walked = Vec::new();
    let mut after: Option<repo_runtime::Cursor> = None;
    let order = ListOptions::new().desc(ItemColumn::Score).limit(3);
    let walk = loop {
        match items.find_page(filter, order.clone(), after.as_ref()).await {
            Ok(page) => {
                walked.extend(page.rows.into_iter().map(|item| item.name));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break Ok(walked),
                }
            }
            Err(error) => break Err(error),
        }
    };
    // Patched inside a transaction rolled back: the next case sees the rows as they were.
    let patched = async {
        let tx = db.begin().await?;
        let patch = ItemPatch {
            note: Some(Some("patched".into())),
            ..ItemPatch::default()
        };
        let written = Item::repository(&tx).patch_where(filter, patch).await;
        tx.rollback().await?;
        let written: Vec<(String, Option<String>)> = written?
            .into_iter()
            .map(|item| (item.name, item.note))
            .collect();
        Ok::<_, RepoError>(written)
    }
    .await;
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        per_score.map_err(|e| e.kind()),
        scores.map_err(|e| e.kind()),
        walk.map_err(|e| e.kind()),
        patched.map_err(|e| e.kind())
    )
}

#[test]
fn every_backend_selects_what_sqlite_selects_for_any_filter() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let databases: Vec<(Backend, TestDb)> = runtime.block_on(async {
        let databases = repo_tests::every_backend("filter_differential").await;
        for (_, test) in &databases {
            test.db.create_schema::<Item>().await.expect("schema");
            test.db.create_schema::<Mark>().await.expect("schema");
            Item::repository(&test.db)
                .insert_many(rows())
                .await
                .expect("rows");
            Mark::repository(&test.db)
                .insert_many(marks())
                .await
                .expect("marks");
        }
        databases
    });
    let mut runner = TestRunner::new(Config {
        cases: repo_tests::proptest_cases(),
        ..Config::default()
    });
    let differences = runner.run(&tree(), |tree| {
        runtime.block_on(async {
            let filter = filter(&tree);
            let (_, reference) = &databases[0];
            let expected = format!(
                "{}\n{}",
                answer(&reference.db, &filter).await,
                derived_answer(&reference.db, &filter).await
            );
            for (backend, test) in &databases[1..] {
                let actual = format!(
                    "{}\n{}",
                    answer(&test.db, &filter).await,
                    derived_answer(&test.db, &filter).await
                );
                if actual != expected {
                    return Err(TestCaseError::fail(format!(
                        "{backend:?} differs from SQLite:\n  sqlite: {expected}\n  \
                             {backend:?}: {actual}"
                    )));
                }
            }
            Ok(())
        })
    });
    // Deletes too: each backend deletes what it selected, and keeps the rest.
    let answers = runtime.block_on(async {
        let doomed = Item::NAME.contains("n").and(!Item::NOTE.is_null());
        let mut answers = Vec::new();
        for (_, test) in &databases {
            let items = Item::repository(&test.db);
            let deleted = items.delete_where(&doomed).await.expect("delete");
            let rest = answer(&test.db, &Filter::all()).await;
            answers.push(format!("deleted {deleted}, then {rest}"));
        }
        answers
    });
    // Closed on the runtime their connections live on, before a failed assertion drops (and
    // removes) them from another, which would wait for them forever.
    runtime.block_on(async {
        for (_, test) in &databases {
            test.db.close().await;
        }
    });
    differences.unwrap();
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:#?}"
    );
}
