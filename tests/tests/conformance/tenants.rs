//! Tenant scoping (`#[repo(tenant)]`): a handle scoped to a tenant (`db.for_tenant(..)`)
//! reaches that tenant's rows only, by key, by unique key, by filter, through a derived query,
//! a relation, a projection, a page or a stream; inserts write its tenant, and no write
//! reaches or moves another tenant's row. A handle that names no tenant reaches nothing;
//! `db.unscoped()` reaches every tenant's rows and keeps each row in its own.

use futures_util::StreamExt;
use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "tn_projects",
    unique(org_id, slug),
    has_many(tasks = Task::project_id),
    many_to_many(labels = ProjectLabel::project_id, to = label_id),
    port = ProjectQueries
)]
pub struct Project {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(tenant)]
    pub org_id: i64,
    pub slug: String,
    pub name: String,
    #[repo(version)]
    pub version: i32,
}

#[repo_runtime::port]
pub trait ProjectQueries: Send + Sync {
    async fn find_all_by_name_starting_with(&self, prefix: &str)
    -> Result<Vec<Project>, RepoError>;
    async fn find_all_by_id_in(&self, ids: &[i64]) -> Result<Vec<Project>, RepoError>;
    async fn find_all_by_name_not(&self, name: &str, page: Page)
    -> Result<Vec<Project>, RepoError>;
    async fn count_by_name(&self, name: &str) -> Result<u64, RepoError>;
    async fn delete_by_name(&self, name: &str) -> Result<u64, RepoError>;
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tn_tasks")]
pub struct Task {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(tenant)]
    pub org_id: i64,
    #[repo(references = Project)]
    pub project_id: i64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tn_labels")]
pub struct Label {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(tenant)]
    pub org_id: i64,
    pub name: String,
}

/// A link whose key holds its tenant: the key of a row within its tenant.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tn_project_labels")]
pub struct ProjectLabel {
    #[repo(id, tenant)]
    pub org_id: i64,
    #[repo(id)]
    #[repo(references = Project)]
    pub project_id: i64,
    #[repo(id)]
    #[repo(references = Label)]
    pub label_id: i64,
}

/// An aggregate root scoped by tenant, owning children scoped by it too.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tn_boards", owns(cards = Card::board_id))]
pub struct Board {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(tenant)]
    pub org_id: i64,
    pub name: String,
    #[repo(skip)]
    pub cards: Vec<Card>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tn_cards")]
pub struct Card {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(tenant)]
    pub org_id: i64,
    #[repo(references = Board)]
    pub board_id: i64,
    pub title: String,
}

const ACME: i64 = 1;
const GLOBEX: i64 = 2;

async fn create(db: &Db) {
    db.create_schema::<Project>().await.expect("projects");
    db.create_schema::<Task>().await.expect("tasks");
    db.create_schema::<Label>().await.expect("labels");
    db.create_schema::<ProjectLabel>()
        .await
        .expect("project labels");
}

fn project(slug: &str, name: &str) -> NewProject {
    NewProject {
        slug: slug.into(),
        name: name.into(),
    }
}

/// Two tenants with a project each under the same slug, and one more for Acme.
async fn seed(db: &Db) -> (Db, Db, Vec<Project>, Vec<Project>) {
    create(db).await;
    let (acme, globex) = (db.for_tenant(ACME), db.for_tenant(GLOBEX));
    let ours = Project::repository(&acme)
        .insert_many(vec![project("web", "Website"), project("app", "App")])
        .await
        .unwrap();
    let theirs = vec![
        Project::repository(&globex)
            .insert(project("web", "Web shop"))
            .await
            .unwrap(),
    ];
    (acme, globex, ours, theirs)
}

fn ids(projects: &[Project]) -> Vec<i64> {
    projects.iter().map(|project| project.id).collect()
}

pub async fn every_read_sees_only_the_handles_tenant(db: &Db) {
    let (acme, _globex, ours, theirs) = seed(db).await;
    assert!(ours.iter().all(|project| project.org_id == ACME));
    assert_eq!(theirs[0].org_id, GLOBEX);
    let projects = Project::repository(&acme);
    let other = theirs[0].id;

    assert!(projects.get(other).await.unwrap_err().is_not_found());
    assert_eq!(projects.find(other).await.unwrap(), None);
    assert!(!projects.exists(other).await.unwrap());
    assert_eq!(projects.get(ours[0].id).await.unwrap(), ours[0]);
    assert_eq!(projects.count().await.unwrap(), 2);
    assert_eq!(
        ids(&projects.get_many(&[other, ours[1].id]).await.unwrap()),
        [ours[1].id]
    );
    assert_eq!(projects.list(ListOptions::new()).await.unwrap(), ours);
    let everyone = Filter::all();
    assert_eq!(
        projects
            .find_where(&everyone, ListOptions::new())
            .await
            .unwrap(),
        ours
    );
    assert_eq!(
        projects
            .count_where(&Project::SLUG.eq("web"))
            .await
            .unwrap(),
        1
    );
    assert!(!projects.exists_where(&Project::ID.eq(other)).await.unwrap());
    // The unique key holds within each tenant: both have "web".
    let web = projects
        .find_by_org_id_and_slug(GLOBEX, "web")
        .await
        .unwrap();
    assert_eq!(web, None);
    let page = projects
        .find_page(&everyone, ListOptions::new().limit(1), None)
        .await
        .unwrap();
    assert_eq!(ids(&page.rows), [ours[0].id]);
    let streamed: Vec<Project> = projects
        .stream(&everyone, ListOptions::new())
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(streamed, ours);
    let per_slug: Vec<(String, i64)> = projects.count_by(Project::SLUG, &everyone).await.unwrap();
    assert_eq!(per_slug, vec![("app".into(), 1), ("web".into(), 1)]);

    // Derived queries, with a list, a page, a count and a delete.
    assert_eq!(
        ids(&projects.find_all_by_name_starting_with("W").await.unwrap()),
        [ours[0].id]
    );
    assert_eq!(
        ids(&projects
            .find_all_by_id_in(&[other, ours[0].id])
            .await
            .unwrap()),
        [ours[0].id]
    );
    let not_app = projects
        .find_all_by_name_not("App", Page::first(10))
        .await
        .unwrap();
    assert_eq!(ids(&not_app), [ours[0].id]);
    assert_eq!(projects.count_by_name("Web shop").await.unwrap(), 0);
    assert_eq!(projects.delete_by_name("Web shop").await.unwrap(), 0);

    // Every tenant's rows, through the handle that asks for them.
    let all = Project::repository(db.unscoped());
    assert_eq!(all.count().await.unwrap(), 3);
    assert_eq!(all.get(other).await.unwrap(), theirs[0]);
    assert_eq!(all.count_where(&Project::SLUG.eq("web")).await.unwrap(), 2);
    assert_eq!(
        ids(&all.find_all_by_id_in(&[other, ours[0].id]).await.unwrap()),
        [ours[0].id, other]
    );
    assert_eq!(
        all.find_by_org_id_and_slug(GLOBEX, "web").await.unwrap(),
        Some(theirs[0].clone())
    );
    assert_eq!(all.count_by_name("Web shop").await.unwrap(), 1);
}

pub async fn no_write_reaches_another_tenants_row(db: &Db) {
    let (acme, globex, ours, theirs) = seed(db).await;
    let projects = Project::repository(&acme);
    let stored_theirs = || async {
        Project::repository(&globex)
            .get(theirs[0].id)
            .await
            .unwrap()
    };
    let mut forged = theirs[0].clone();
    forged.name = "Taken over".into();

    assert!(projects.update(&forged).await.unwrap_err().is_not_found());
    assert!(projects.write(&forged).await.unwrap_err().is_not_found());
    assert!(projects.remove(&forged).await.unwrap_err().is_not_found());
    assert!(!projects.delete(forged.id).await.unwrap());
    let patch = ProjectPatch {
        name: Some("Taken over".into()),
        ..ProjectPatch::default()
    };
    assert!(
        projects
            .patch(forged.id, patch)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let everything = Project::ID.eq(forged.id);
    let patch = ProjectPatch {
        name: Some("Taken over".into()),
        ..ProjectPatch::default()
    };
    assert!(
        projects
            .patch_where(&everything, patch)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(projects.delete_where(&everything).await.unwrap(), 0);
    // The key is taken by a row this handle does not see: a conflict, not an update.
    let error = projects.upsert(&forged).await.unwrap_err();
    assert!(error.is_conflict(), "{error:?}");
    assert_eq!(stored_theirs().await, theirs[0]);

    // A row of ours that claims another tenant stays ours: the tenant is never written.
    let mut moved = ours[0].clone();
    moved.org_id = GLOBEX;
    moved.name = "Moved".into();
    let updated = projects.update(&moved).await.unwrap();
    assert_eq!((updated.org_id, updated.name.as_str()), (ACME, "Moved"));
    let upserted = projects.upsert(&updated.clone()).await.unwrap();
    assert_eq!(upserted.org_id, ACME);
    assert_eq!(Project::repository(&globex).count().await.unwrap(), 1);

    // Unique keys within a tenant: the other's slug is free here, ours is not.
    let inserted = projects
        .insert_or_ignore(
            vec![project("new", "New"), project("web", "Again")],
            Project::BY_ORG_ID_AND_SLUG,
        )
        .await
        .unwrap();
    assert_eq!(inserted.len(), 1);
    let upserted = projects
        .upsert_on(project("web", "Website 2"), Project::BY_ORG_ID_AND_SLUG)
        .await
        .unwrap();
    assert_eq!((upserted.id, upserted.org_id), (ours[0].id, ACME));
    assert_eq!(stored_theirs().await.name, "Web shop");

    // An unscoped handle writes a stored row in its own tenant, and inserts none.
    let all = Project::repository(db.unscoped());
    let mut renamed = stored_theirs().await;
    renamed.name = "Renamed by an admin".into();
    let written = all.update(&renamed).await.unwrap();
    assert_eq!(written.org_id, GLOBEX);
    let error = all.insert(project("ops", "Ops")).await.unwrap_err();
    assert!(error.to_string().contains("for_tenant"), "{error}");
    assert!(all.delete(ours[1].id).await.unwrap());
    assert_eq!(all.count().await.unwrap(), 3);
}

pub async fn a_handle_without_a_tenant_reaches_nothing(db: &Db) {
    let (_acme, _globex, ours, _theirs) = seed(db).await;
    let projects = Project::repository(db);
    for error in [
        projects.get(ours[0].id).await.unwrap_err(),
        projects.count().await.unwrap_err(),
        projects.list(ListOptions::new()).await.unwrap_err(),
        projects.insert(project("x", "X")).await.unwrap_err(),
        projects.update(&ours[0]).await.unwrap_err(),
        projects
            .find_by_org_id_and_slug(ACME, "web")
            .await
            .unwrap_err(),
        projects.count_by_name("App").await.unwrap_err(),
    ] {
        assert!(error.to_string().contains("scoped by tenant"), "{error}");
    }
    // A tenant of another type than the field's is refused too.
    let error = Project::repository(db.for_tenant("acme".to_owned()))
        .count()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("String"), "{error}");
    assert_eq!(Project::repository(db.unscoped()).count().await.unwrap(), 3);
}

pub async fn relations_stay_inside_the_tenant(db: &Db) {
    let (acme, globex, ours, theirs) = seed(db).await;
    let task = |project_id: i64, title: &str| NewTask {
        project_id,
        title: title.into(),
    };
    Task::repository(&acme)
        .insert(task(ours[0].id, "ours"))
        .await
        .unwrap();
    // A task of Globex's that names Acme's project: the reference does not cross the scope.
    let stray = Task::repository(&globex)
        .insert(task(ours[0].id, "stray"))
        .await
        .unwrap();
    Task::repository(&globex)
        .insert(task(theirs[0].id, "theirs"))
        .await
        .unwrap();
    let labels = Label::repository(&acme);
    let urgent = labels
        .insert(NewLabel {
            name: "urgent".into(),
        })
        .await
        .unwrap();
    let foreign = Label::repository(&globex)
        .insert(NewLabel {
            name: "foreign".into(),
        })
        .await
        .unwrap();
    ProjectLabel::repository(&acme)
        .insert_many(vec![
            NewProjectLabel {
                project_id: ours[0].id,
                label_id: urgent.id,
            },
            NewProjectLabel {
                project_id: ours[0].id,
                label_id: foreign.id,
            },
        ])
        .await
        .unwrap();
    ProjectLabel::repository(&globex)
        .insert(NewProjectLabel {
            project_id: ours[1].id,
            label_id: foreign.id,
        })
        .await
        .unwrap();

    let tasks = Project::TASKS.load(&acme, &ours).await.unwrap();
    let titles = |rows: &[Task]| rows.iter().map(|t| t.title.clone()).collect::<Vec<_>>();
    assert_eq!(titles(&tasks[0]), ["ours"]);
    assert!(tasks[1].is_empty());
    assert_eq!(
        Project::TASKS
            .count(&acme, &ours, Filter::all())
            .await
            .unwrap(),
        [1, 0]
    );
    let stray_parent = Task::PROJECT
        .load(&globex, std::slice::from_ref(&stray))
        .await
        .unwrap();
    assert_eq!(stray_parent, [None]);
    let linked = Project::LABELS.load(&acme, &ours).await.unwrap();
    let names = |rows: &[Label]| rows.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    // The link to Globex's label reaches nothing; Globex's link to our project ties nothing.
    assert_eq!(names(&linked[0]), ["urgent"]);
    assert!(linked[1].is_empty());
    let with_tasks = Project::repository(&acme)
        .find_where(&Project::TASKS.has(Filter::all()), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(ids(&with_tasks), [ours[0].id]);
    let stray_title = Project::repository(&acme)
        .count_where(&Project::TASKS.has(Task::TITLE.eq("stray")))
        .await
        .unwrap();
    assert_eq!(stray_title, 0);
    let unscoped = db.unscoped();
    let everything = Project::LABELS.load(&unscoped, &ours).await.unwrap();
    assert_eq!(names(&everything[0]), ["urgent", "foreign"]);
    assert_eq!(names(&everything[1]), ["foreign"]);
}

pub async fn an_aggregate_stays_in_its_tenant(db: &Db) {
    db.create_schema::<Board>().await.expect("boards");
    db.create_schema::<Card>().await.expect("cards");
    let (acme, globex) = (db.for_tenant(ACME), db.for_tenant(GLOBEX));
    let card = |title: &str| Card {
        id: 0,
        org_id: 0,
        board_id: 0,
        title: title.into(),
    };
    let boards = Board::repository(&acme);
    let mut board = boards
        .insert(NewBoard {
            name: "plan".into(),
            cards: vec![card("one"), card("two")],
        })
        .await
        .unwrap();
    assert!(board.cards.iter().all(|card| card.org_id == ACME));
    assert_eq!(boards.get(board.id).await.unwrap(), board);

    let theirs = Board::repository(&globex);
    assert!(theirs.get(board.id).await.unwrap_err().is_not_found());
    assert!(theirs.update(&board).await.unwrap_err().is_not_found());
    assert!(!theirs.delete(board.id).await.unwrap());
    assert_eq!(Card::repository(&globex).count().await.unwrap(), 0);

    board.cards.remove(0);
    board.cards.push(card("three"));
    let saved = boards.update(&board).await.unwrap();
    let titles: Vec<&str> = saved.cards.iter().map(|card| card.title.as_str()).collect();
    assert_eq!(titles, ["two", "three"]);
    assert!(saved.cards.iter().all(|card| card.org_id == ACME));
    assert!(boards.delete(board.id).await.unwrap());
    assert_eq!(Card::repository(&acme).count().await.unwrap(), 0);
}
