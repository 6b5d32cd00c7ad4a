//! Foreign keys: a row must refer to an existing row, and deleting the referred row cascades,
//! sets `NULL` or is refused, as each key says.

use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "teams")]
pub struct Team {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "players")]
pub struct Player {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Team, on_delete = "set_null")]
    pub team_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "badges")]
pub struct Badge {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Player, on_delete = "cascade")]
    pub player_id: i64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "contracts")]
pub struct Contract {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Team)]
    pub team_id: i64,
    pub cents: i64,
}

async fn create(db: &Db) {
    db.create_schema::<Team>().await.unwrap();
    db.create_schema::<Player>().await.unwrap();
    db.create_schema::<Badge>().await.unwrap();
    db.create_schema::<Contract>().await.unwrap();
}

pub async fn foreign_keys_refuse_orphans_and_cascade_set_null_or_refuse_deletes(db: &Db) {
    create(db).await;
    let (teams, players, badges, contracts) = (
        Team::repository(db),
        Player::repository(db),
        Badge::repository(db),
        Contract::repository(db),
    );
    let orphan = players
        .insert(NewPlayer {
            team_id: Some(404),
            name: "nobody's".into(),
        })
        .await;
    assert!(
        matches!(
            orphan,
            Err(RepoError::ForeignKey {
                entity: "Player",
                ..
            })
        ),
        "{orphan:?}"
    );
    assert_eq!(players.count().await.unwrap(), 0);

    let reds = teams
        .insert(NewTeam {
            name: "reds".into(),
        })
        .await
        .unwrap();
    let blues = teams
        .insert(NewTeam {
            name: "blues".into(),
        })
        .await
        .unwrap();
    let ann = players
        .insert(NewPlayer {
            team_id: Some(reds.id),
            name: "Ann".into(),
        })
        .await
        .unwrap();
    let free = players
        .insert(NewPlayer {
            team_id: None,
            name: "Free".into(),
        })
        .await
        .unwrap();
    let medal = badges
        .insert(NewBadge {
            player_id: ann.id,
            title: "medal".into(),
        })
        .await
        .unwrap();
    contracts
        .insert(NewContract {
            team_id: blues.id,
            cents: 100,
        })
        .await
        .unwrap();

    // A contract refers to the blues without an action: deleting them is refused, whole.
    let refused = teams.delete(blues.id).await;
    assert!(
        matches!(refused, Err(RepoError::ForeignKey { .. })),
        "{refused:?}"
    );
    assert!(teams.exists(blues.id).await.unwrap());

    // Players of the deleted reds stay, without a team.
    assert!(teams.delete(reds.id).await.unwrap());
    assert_eq!(
        players.get(ann.id).await.unwrap(),
        Player {
            team_id: None,
            ..ann.clone()
        }
    );
    assert_eq!(players.get(free.id).await.unwrap(), free);

    // A deleted player's badges go with them.
    assert_eq!(badges.get(medal.id).await.unwrap(), medal);
    assert!(players.delete(ann.id).await.unwrap());
    assert_eq!(badges.count().await.unwrap(), 0);

    // An update may not point at a missing row either.
    let moved = players
        .update(&Player {
            team_id: Some(404),
            ..free.clone()
        })
        .await;
    assert!(
        matches!(moved, Err(RepoError::ForeignKey { .. })),
        "{moved:?}"
    );
    assert_eq!(players.get(free.id).await.unwrap(), free);
}
