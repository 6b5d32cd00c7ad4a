//! The policies hold over random sequences of every write a repository has, on SQLite,
//! PostgreSQL, MariaDB and the in-memory store: no write succeeds on a stale version (and a
//! refused one changes nothing), every write that succeeds moves the version on by one, and
//! timestamps only move forward (`created_at` never moves while the row lives); no read
//! returns a row a soft delete marked unless asked, and unique keys hold among the rows that
//! live; no operation under one tenant returns, counts or changes a row of another.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use repo_runtime::chrono::{DateTime, Utc};
use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "versioned_notes")]
pub(crate) struct Note {
    #[repo(id)]
    pub(crate) slug: String,
    pub(crate) body: String,
    #[repo(version)]
    pub(crate) version: i32,
    #[repo(created_at)]
    pub(crate) created_at: DateTime<Utc>,
    #[repo(updated_at)]
    pub(crate) updated_at: DateTime<Utc>,
}

const SLUGS: [&str; 3] = ["a", "b", "c"];

/// Which copy of a row the client writes with: the one it read last, or an older one.
#[derive(Debug, Clone, Copy)]
enum Copy {
    Latest,
    Oldest,
}

#[derive(Debug, Clone)]
enum Step {
    Insert(usize),
    Read(usize),
    Update(usize, Copy),
    Upsert(usize, Copy),
    Patch(usize, Option<Copy>),
    Remove(usize, Copy),
    Delete(usize),
    PatchAll,
}

fn step() -> impl Strategy<Value = Step> {
    let slug = 0..SLUGS.len();
    let copy = prop_oneof![Just(Copy::Latest), Just(Copy::Oldest)];
    prop_oneof![
        slug.clone().prop_map(Step::Insert),
        slug.clone().prop_map(Step::Read),
        (slug.clone(), copy.clone()).prop_map(|(i, c)| Step::Update(i, c)),
        (slug.clone(), copy.clone()).prop_map(|(i, c)| Step::Upsert(i, c)),
        (slug.clone(), proptest::option::of(copy.clone())).prop_map(|(i, c)| Step::Patch(i, c)),
        (slug.clone(), copy).prop_map(|(i, c)| Step::Remove(i, c)),
        slug.prop_map(Step::Delete),
        Just(Step::PatchAll),
    ]
}

/// What the client holds of one row: every copy it read, oldest first.
#[derive(Default)]
struct Held {
    copies: Vec<Note>,
}

impl Held {
    fn copy(&self, which: Copy) -> Option<&Note> {
        match which {
            Copy::Latest => self.copies.last(),
            Copy::Oldest => self.copies.first(),
        }
    }
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Checks a write's outcome: it succeeds exactly when the copy's version is the stored one
/// (moving the version on by one, `updated_at` forward, `created_at` kept), and a refused
/// write is `StaleVersion` (or `NotFound`, the row gone) and leaves the row as it was.
fn judge(
    step: &Step,
    before: Option<&Note>,
    copy_version: Option<i32>,
    outcome: Result<Option<Note>, RepoError>,
    after: Option<&Note>,
) -> Result<(), TestCaseError> {
    let fresh = match (before, copy_version) {
        (Some(stored), Some(version)) => stored.version == version,
        (Some(_), None) => true,
        (None, _) => false,
    };
    match outcome {
        Ok(written) => {
            let Some(stored) = before else {
                // An insert (or an upsert of a row that was gone) starts the row at 1.
                let Some(row) = after else {
                    return Err(fail(format!("{step:?}: succeeded but no row is stored")));
                };
                if row.version != 1 || row.created_at != row.updated_at {
                    return Err(fail(format!("{step:?}: a new row is {row:?}")));
                }
                return Ok(());
            };
            if !fresh {
                return Err(fail(format!(
                    "{step:?}: a write with version {copy_version:?} succeeded on {stored:?}"
                )));
            }
            if let (Some(written), Some(row)) = (written, after) {
                if &written != row {
                    return Err(fail(format!(
                        "{step:?}: returned {written:?}, stored {row:?}"
                    )));
                }
                if row.version != stored.version + 1
                    || row.created_at != stored.created_at
                    || row.updated_at < stored.updated_at
                {
                    return Err(fail(format!("{step:?}: {stored:?} became {row:?}")));
                }
            }
            Ok(())
        }
        Err(error) => {
            let refused = error.is_stale_version() && before.is_some() && !fresh
                || error.is_not_found() && before.is_none();
            if !refused {
                return Err(fail(format!(
                    "{step:?}: {error:?} on {before:?} with version {copy_version:?}"
                )));
            }
            if before != after {
                return Err(fail(format!(
                    "{step:?}: a refused write changed {before:?} into {after:?}"
                )));
            }
            Ok(())
        }
    }
}

async fn run(db: &Db, steps: &[Step]) -> Result<(), TestCaseError> {
    let notes = Note::repository(db);
    notes
        .delete_where(&Filter::all())
        .await
        .map_err(|error| fail(format!("{error:?}")))?;
    let mut held: Vec<Held> = SLUGS.iter().map(|_| Held::default()).collect();
    for step in steps {
        let slug_of = |index: usize| SLUGS[index].to_owned();
        let stored = |index: usize| {
            let notes = notes.clone();
            async move { notes.find(slug_of(index)).await }
        };
        let index = match step {
            Step::Insert(i)
            | Step::Read(i)
            | Step::Update(i, _)
            | Step::Upsert(i, _)
            | Step::Patch(i, _)
            | Step::Remove(i, _)
            | Step::Delete(i) => Some(*i),
            Step::PatchAll => None,
        };
        let Some(index) = index else {
            let before: Vec<Note> = notes.list(ListOptions::new()).await.unwrap_or_default();
            let patch = NotePatch {
                body: Some("all".into()),
                ..NotePatch::default()
            };
            let written = notes
                .patch_where(&Filter::all(), patch)
                .await
                .map_err(|error| fail(format!("{error:?}")))?;
            for (old, new) in before.iter().zip(&written) {
                judge(step, Some(old), None, Ok(Some(new.clone())), Some(new))?;
            }
            continue;
        };
        let before = stored(index).await.map_err(|e| fail(format!("{e:?}")))?;
        let copy_of = |which: Copy| held[index].copy(which).cloned();
        let (copy_version, outcome): (Option<i32>, Result<Option<Note>, RepoError>) = match step {
            Step::Insert(_) => {
                let new = NewNote {
                    slug: slug_of(index),
                    body: "new".into(),
                };
                match notes.insert(new).await {
                    Ok(row) => (None, Ok(Some(row))),
                    // Already there: a conflict, which changes nothing.
                    Err(error) if error.is_conflict() && before.is_some() => continue,
                    Err(error) => return Err(fail(format!("{step:?}: {error:?}"))),
                }
            }
            Step::Read(_) => {
                if let Some(row) = &before {
                    held[index].copies.push(row.clone());
                }
                continue;
            }
            Step::Update(_, which) | Step::Upsert(_, which) | Step::Remove(_, which) => {
                let Some(mut copy) = copy_of(*which) else {
                    continue;
                };
                copy.body = format!("{step:?}");
                let version = Some(copy.version);
                let outcome = match step {
                    Step::Update(..) => notes.update(&copy).await.map(Some),
                    Step::Upsert(..) => notes.upsert(&copy).await.map(Some),
                    _ => notes.remove(&copy).await.map(|()| None),
                };
                (version, outcome)
            }
            Step::Patch(_, which) => {
                let expected = match which {
                    Some(which) => match copy_of(*which) {
                        Some(copy) => Some(copy.version),
                        None => continue,
                    },
                    None => None,
                };
                let patch = NotePatch {
                    body: Some("patched".into()),
                    expected_version: expected,
                };
                (expected, notes.patch(slug_of(index), patch).await.map(Some))
            }
            Step::Delete(_) => {
                notes
                    .delete(slug_of(index))
                    .await
                    .map_err(|e| fail(format!("{e:?}")))?;
                held[index].copies.clear();
                continue;
            }
            Step::PatchAll => continue,
        };
        let after = stored(index).await.map_err(|e| fail(format!("{e:?}")))?;
        if matches!(step, Step::Upsert(..)) && before.is_none() {
            // An upsert of a row that is gone inserts it anew, whatever the copy's version.
            judge(step, None, None, outcome, after.as_ref())?;
        } else if matches!(step, Step::Remove(..)) {
            match (&outcome, &after) {
                (Ok(_), Some(row)) => {
                    return Err(fail(format!("{step:?}: removed, yet {row:?} is stored")));
                }
                (Ok(_), None) => {
                    judge(step, before.as_ref(), copy_version, Ok(None), None)?;
                }
                (Err(_), _) => judge(step, before.as_ref(), copy_version, outcome, after.as_ref())?,
            }
        } else {
            judge(step, before.as_ref(), copy_version, outcome, after.as_ref())?;
        }
        if after.is_none() {
            held[index].copies.clear();
        }
    }
    Ok(())
}

#[test]
fn no_write_succeeds_on_a_stale_version_and_time_moves_forward() {
    repo_tests::sequences_on_every_backend::<Note, _>(
        "policy_properties",
        repo_tests::proptest_cases(),
        proptest::collection::vec(step(), 1..30),
        run,
    );
}

/// A soft-deleted entity with a unique key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "binned_entries")]
pub(crate) struct Entry {
    #[repo(id, generated)]
    pub(crate) id: i64,
    #[repo(unique)]
    pub(crate) code: String,
    pub(crate) note: String,
    #[repo(deleted_at)]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
}

const CODES: [&str; 3] = ["x", "y", "z"];

#[derive(Debug, Clone)]
enum Bin {
    Insert(usize),
    Delete(usize),
    DeleteWhere(usize),
    Restore(usize),
    Purge(usize),
    Update(usize),
    Patch(usize),
}

fn bin_step() -> impl Strategy<Value = Bin> {
    let code = 0..CODES.len();
    // Rows are picked by position among those ever inserted, past the end too.
    let row = 0..6usize;
    prop_oneof![
        code.clone().prop_map(Bin::Insert),
        row.clone().prop_map(Bin::Delete),
        code.prop_map(Bin::DeleteWhere),
        row.clone().prop_map(Bin::Restore),
        row.clone().prop_map(Bin::Purge),
        row.clone().prop_map(Bin::Update),
        row.prop_map(Bin::Patch),
    ]
}

/// What the database must hold: each row ever inserted and not purged, and whether a delete
/// marked it.
#[derive(Default)]
struct Model {
    rows: BTreeMap<i64, (String, bool)>,
    inserted: Vec<i64>,
}

impl Model {
    fn live_holder(&self, code: &str) -> Option<i64> {
        self.rows
            .iter()
            .find(|(_, (held, deleted))| held == code && !deleted)
            .map(|(id, _)| *id)
    }

    fn pick(&self, index: usize) -> i64 {
        self.inserted
            .get(index)
            .copied()
            .unwrap_or(1_000 + index as i64)
    }
}

fn wrong<T: std::fmt::Debug>(step: &Bin, got: T) -> TestCaseError {
    fail(format!("{step:?}: {got:?}"))
}

/// Every read agrees with the model: the rows that live, and with `with_deleted` all of them.
async fn reads_agree(db: &Db, model: &Model, step: &Bin) -> Result<(), TestCaseError> {
    let entries = Entry::repository(db);
    let err = |error: RepoError| wrong(step, error);
    let live: Vec<i64> = model
        .rows
        .iter()
        .filter(|(_, (_, deleted))| !deleted)
        .map(|(id, _)| *id)
        .collect();
    let listed: Vec<i64> = entries
        .list(ListOptions::new())
        .await
        .map_err(err)?
        .iter()
        .map(|row| row.id)
        .collect();
    if listed != live {
        return Err(fail(format!("{step:?}: list {listed:?}, live {live:?}")));
    }
    let counted = entries.count().await.map_err(err)?;
    let by_keys = entries.get_many(&model.inserted).await.map_err(err)?;
    if counted != live.len() as u64 || by_keys.iter().map(|r| r.id).collect::<Vec<_>>() != live {
        return Err(fail(format!(
            "{step:?}: count {counted}, by keys {by_keys:?}"
        )));
    }
    for id in &model.inserted {
        let found = entries.find(*id).await.map_err(err)?;
        if found.is_some() != live.contains(id) {
            return Err(fail(format!("{step:?}: find({id}) = {found:?}")));
        }
    }
    for code in CODES {
        let found = entries.find_by_code(code).await.map_err(err)?;
        if found.map(|row| row.id) != model.live_holder(code) {
            return Err(fail(format!("{step:?}: find_by_code({code})")));
        }
    }
    let everything = entries
        .find_where(&Filter::all().with_deleted(), ListOptions::new())
        .await
        .map_err(err)?;
    let seen: BTreeMap<i64, (String, bool)> = everything
        .into_iter()
        .map(|row| (row.id, (row.code, row.deleted_at.is_some())))
        .collect();
    if seen != model.rows {
        return Err(fail(format!(
            "{step:?}: with deleted {seen:?}, model {:?}",
            model.rows
        )));
    }
    Ok(())
}

async fn run_bin(db: &Db, steps: &[Bin]) -> Result<(), TestCaseError> {
    let entries = Entry::repository(db);
    for id in entries
        .find_where(&Filter::all().with_deleted(), ListOptions::new())
        .await
        .map_err(|error| fail(format!("{error:?}")))?
        .iter()
        .map(|row| row.id)
    {
        entries
            .purge(id)
            .await
            .map_err(|error| fail(format!("{error:?}")))?;
    }
    let mut model = Model::default();
    for step in steps {
        match *step {
            Bin::Insert(code) => {
                let new = NewEntry {
                    code: CODES[code].to_owned(),
                    note: String::new(),
                };
                match (entries.insert(new).await, model.live_holder(CODES[code])) {
                    (Ok(row), None) => {
                        model.rows.insert(row.id, (row.code, false));
                        model.inserted.push(row.id);
                    }
                    (Err(error), Some(_)) if error.is_conflict() => {}
                    (got, _) => return Err(wrong(step, got)),
                }
            }
            Bin::Delete(index) => {
                let id = model.pick(index);
                let lives = model.rows.get(&id).is_some_and(|(_, deleted)| !deleted);
                let deleted = entries.delete(id).await.map_err(|e| wrong(step, e))?;
                if deleted != lives {
                    return Err(wrong(step, deleted));
                }
                if let Some(row) = model.rows.get_mut(&id) {
                    row.1 = true;
                }
            }
            Bin::DeleteWhere(code) => {
                let marked = entries
                    .delete_where(&Entry::CODE.eq(CODES[code]))
                    .await
                    .map_err(|e| wrong(step, e))?;
                let expected = u64::from(model.live_holder(CODES[code]).is_some());
                if marked != expected {
                    return Err(wrong(step, marked));
                }
                for (held, deleted) in model.rows.values_mut() {
                    if held == CODES[code] {
                        *deleted = true;
                    }
                }
            }
            Bin::Restore(index) => {
                let id = model.pick(index);
                let got = entries.restore(id).await;
                match (model.rows.get(&id).cloned(), got) {
                    (Some((code, true)), Ok(row)) if model.live_holder(&code).is_none() => {
                        if row.deleted_at.is_some() {
                            return Err(wrong(step, row));
                        }
                        model.rows.insert(id, (code, false));
                    }
                    (Some((code, true)), Err(error))
                        if error.is_conflict() && model.live_holder(&code).is_some() => {}
                    (None | Some((_, false)), Err(error)) if error.is_not_found() => {}
                    (_, got) => return Err(wrong(step, got)),
                }
            }
            Bin::Purge(index) => {
                let id = model.pick(index);
                let purged = entries.purge(id).await.map_err(|e| wrong(step, e))?;
                if purged != model.rows.remove(&id).is_some() {
                    return Err(wrong(step, purged));
                }
            }
            Bin::Update(index) | Bin::Patch(index) => {
                let id = model.pick(index);
                let lives = model.rows.get(&id).is_some_and(|(_, deleted)| !deleted);
                let got = if matches!(step, Bin::Update(_)) {
                    let (code, _) = model.rows.get(&id).cloned().unwrap_or_default();
                    let row = Entry {
                        id,
                        code,
                        note: "updated".into(),
                        deleted_at: None,
                    };
                    entries.update(&row).await
                } else {
                    let patch = EntryPatch {
                        note: Some("patched".into()),
                        ..EntryPatch::default()
                    };
                    entries.patch(id, patch).await
                };
                match (got, lives) {
                    (Ok(row), true) if row.deleted_at.is_none() => {}
                    (Err(error), false) if error.is_not_found() => {}
                    (got, _) => return Err(wrong(step, got)),
                }
            }
        }
        reads_agree(db, &model, step).await?;
    }
    Ok(())
}

#[test]
fn no_read_returns_a_deleted_row_unless_asked() {
    repo_tests::sequences_on_every_backend::<Entry, _>(
        "soft_delete_properties",
        repo_tests::proptest_cases(),
        proptest::collection::vec(bin_step(), 1..25),
        run_bin,
    );
}

/// An entity scoped by tenant, with a unique key within each tenant.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tenant_docs", unique(team, title))]
pub(crate) struct Doc {
    #[repo(id, generated)]
    pub(crate) id: i64,
    #[repo(tenant)]
    pub(crate) team: i64,
    pub(crate) title: String,
    pub(crate) body: String,
}

const TEAMS: [i64; 2] = [7, 8];
const TITLES: [&str; 3] = ["p", "q", "r"];

/// One operation, under one of the teams. A `usize` beyond the titles picks a stored row of
/// either team, by position among every row.
#[derive(Debug, Clone)]
enum Scoped {
    Insert(usize),
    InsertMany,
    InsertOrIgnore(usize),
    UpsertOn(usize),
    Get(usize),
    GetMany,
    Update(usize),
    Write(usize),
    Upsert(usize),
    Patch(usize),
    PatchWhere(usize),
    Remove(usize),
    Delete(usize),
    DeleteWhere(usize),
    List,
    CountWhere(usize),
}

fn scoped_step() -> impl Strategy<Value = (usize, Scoped)> {
    let title = 0..TITLES.len();
    let row = 0..8usize;
    let op = prop_oneof![
        title.clone().prop_map(Scoped::Insert),
        Just(Scoped::InsertMany),
        title.clone().prop_map(Scoped::InsertOrIgnore),
        title.clone().prop_map(Scoped::UpsertOn),
        row.clone().prop_map(Scoped::Get),
        Just(Scoped::GetMany),
        row.clone().prop_map(Scoped::Update),
        row.clone().prop_map(Scoped::Write),
        row.clone().prop_map(Scoped::Upsert),
        row.clone().prop_map(Scoped::Patch),
        title.clone().prop_map(Scoped::PatchWhere),
        row.clone().prop_map(Scoped::Remove),
        row.prop_map(Scoped::Delete),
        title.clone().prop_map(Scoped::DeleteWhere),
        Just(Scoped::List),
        title.prop_map(Scoped::CountWhere),
    ];
    (0..TEAMS.len(), op)
}

fn new_doc(title: usize, body: &str) -> NewDoc {
    NewDoc {
        title: TITLES[title].into(),
        body: body.into(),
    }
}

/// What an operation returned, its rows for the check that they are all the team's; a
/// refusal (not found, a key taken) returns none.
fn returned<T>(
    step: &(usize, Scoped),
    outcome: Result<T, RepoError>,
    rows: impl FnOnce(T) -> Vec<Doc>,
) -> Result<Vec<Doc>, TestCaseError> {
    match outcome {
        Ok(value) => Ok(rows(value)),
        Err(error) if error.is_not_found() || error.is_conflict() => Ok(Vec::new()),
        Err(error) => Err(fail(format!("{step:?}: {error:?}"))),
    }
}

async fn run_scoped(db: &Db, steps: &[(usize, Scoped)]) -> Result<(), TestCaseError> {
    let every = Doc::repository(db.unscoped());
    let all = |every: SqlDocRepository| async move {
        every
            .list(ListOptions::new())
            .await
            .map_err(|error| fail(format!("{error:?}")))
    };
    every
        .delete_where(&Filter::all())
        .await
        .map_err(|error| fail(format!("{error:?}")))?;
    for step in steps {
        let (team_index, op) = step;
        let team = TEAMS[*team_index];
        let docs = Doc::repository(db.for_tenant(team));
        let before = all(every.clone()).await?;
        let pick = |index: usize| before.get(index % before.len().max(1)).cloned();
        let theirs = |rows: &[Doc]| -> Vec<Doc> {
            rows.iter()
                .filter(|doc| doc.team != team)
                .cloned()
                .collect()
        };
        let one = |doc: Doc| vec![doc];
        let rows = match op {
            Scoped::Insert(title) => {
                returned(step, docs.insert(new_doc(*title, "new")).await, one)?
            }
            Scoped::InsertMany => {
                let news = vec![new_doc(0, "many"), new_doc(1, "many")];
                returned(step, docs.insert_many(news).await, |rows| rows)?
            }
            Scoped::InsertOrIgnore(title) => {
                let news = vec![new_doc(*title, "ignored")];
                returned(
                    step,
                    docs.insert_or_ignore(news, Doc::BY_TEAM_AND_TITLE).await,
                    |rows| rows,
                )?
            }
            Scoped::UpsertOn(title) => returned(
                step,
                docs.upsert_on(new_doc(*title, "upserted"), Doc::BY_TEAM_AND_TITLE)
                    .await,
                one,
            )?,
            Scoped::Get(row) => match pick(*row) {
                Some(doc) => returned(step, docs.find(doc.id).await, |found| {
                    found.into_iter().collect()
                })?,
                None => Vec::new(),
            },
            Scoped::GetMany => {
                let ids: Vec<i64> = before.iter().map(|doc| doc.id).collect();
                returned(step, docs.get_many(&ids).await, |rows| rows)?
            }
            Scoped::Update(row)
            | Scoped::Write(row)
            | Scoped::Upsert(row)
            | Scoped::Remove(row) => {
                let Some(mut doc) = pick(*row) else { continue };
                doc.body = "changed".into();
                match op {
                    Scoped::Update(_) => returned(step, docs.update(&doc).await, one)?,
                    Scoped::Write(_) => returned(step, docs.write(&doc).await, |()| Vec::new())?,
                    Scoped::Upsert(_) => returned(step, docs.upsert(&doc).await, one)?,
                    _ => returned(step, docs.remove(&doc).await, |()| Vec::new())?,
                }
            }
            Scoped::Patch(row) => {
                let Some(doc) = pick(*row) else { continue };
                let patch = DocPatch {
                    body: Some("patched".into()),
                    ..DocPatch::default()
                };
                returned(step, docs.patch(doc.id, patch).await, one)?
            }
            Scoped::PatchWhere(title) => {
                let patch = DocPatch {
                    body: Some("patched all".into()),
                    ..DocPatch::default()
                };
                let filter = Doc::TITLE.eq(TITLES[*title]);
                returned(step, docs.patch_where(&filter, patch).await, |rows| rows)?
            }
            Scoped::Delete(row) => {
                let Some(doc) = pick(*row) else { continue };
                returned(step, docs.delete(doc.id).await, |_| Vec::new())?
            }
            Scoped::DeleteWhere(title) => {
                let filter = Doc::TITLE.eq(TITLES[*title]);
                returned(step, docs.delete_where(&filter).await, |_| Vec::new())?
            }
            Scoped::List => returned(step, docs.list(ListOptions::new()).await, |rows| rows)?,
            Scoped::CountWhere(title) => {
                let filter = Doc::TITLE.ne(TITLES[*title]);
                let counted = docs
                    .count_where(&filter)
                    .await
                    .map_err(|error| fail(format!("{step:?}: {error:?}")))?;
                let expected = before
                    .iter()
                    .filter(|doc| doc.team == team && doc.title != TITLES[*title])
                    .count() as u64;
                if counted != expected {
                    return Err(fail(format!("{step:?}: counted {counted}, not {expected}")));
                }
                Vec::new()
            }
        };
        if let Some(stray) = rows.iter().find(|doc| doc.team != team) {
            return Err(fail(format!("{step:?}: returned {stray:?}")));
        }
        let after = all(every.clone()).await?;
        if theirs(&before) != theirs(&after) {
            return Err(fail(format!(
                "{step:?}: changed the other team's rows {:?} into {:?}",
                theirs(&before),
                theirs(&after)
            )));
        }
        let ours: Vec<Doc> = after
            .iter()
            .filter(|doc| doc.team == team)
            .cloned()
            .collect();
        let seen = docs
            .list(ListOptions::new())
            .await
            .map_err(|error| fail(format!("{error:?}")))?;
        let counted = docs
            .count()
            .await
            .map_err(|error| fail(format!("{error:?}")))?;
        if seen != ours || counted != ours.len() as u64 {
            return Err(fail(format!(
                "{step:?}: the team sees {seen:?} ({counted}), it holds {ours:?}"
            )));
        }
    }
    Ok(())
}

#[test]
fn no_operation_under_one_tenant_touches_another() {
    repo_tests::sequences_on_every_backend::<Doc, _>(
        "tenant_properties",
        repo_tests::proptest_cases(),
        proptest::collection::vec(scoped_step(), 1..30),
        run_scoped,
    );
}
