//! A repository written by hand: `Repository<E>` and the entity's finders are ordinary
//! object-safe traits, so a test double implements them and stands where the generated
//! repository stands (`Arc<dyn PersonRepository>`), `Faulty` included.

use std::sync::{Arc, Mutex};

use repo_runtime::prelude::*;
use repo_runtime::{Faults, Faulty};

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "double_people")]
struct Person {
    #[repo(id, generated)]
    id: i64,
    #[repo(unique)]
    email: String,
    name: String,
}

/// People in a `Vec`, in key order: what a team writes to test code without any database.
#[derive(Default)]
struct Directory {
    people: Mutex<Vec<Person>>,
}

impl Directory {
    fn people(&self) -> std::sync::MutexGuard<'_, Vec<Person>> {
        self.people
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The people `filter` selects, decided as a database would (`Filter::matches`).
    fn matching(&self, filter: &Filter<Person>) -> Result<Vec<Person>, RepoError> {
        let mut matching = Vec::new();
        for person in self.people().iter() {
            if filter.matches(person)? {
                matching.push(person.clone());
            }
        }
        Ok(matching)
    }
}

#[repo_runtime::async_trait]
impl Repository<Person> for Directory {
    async fn insert(&self, new: NewPerson) -> Result<Person, RepoError> {
        let mut people = self.people();
        if people.iter().any(|person| person.email == new.email) {
            return Err(RepoError::Conflict {
                entity: "Person",
                constraint: "double_people_email_key".into(),
                field: Some("email"),
                source: "the address is taken".into(),
            });
        }
        let id = people.last().map_or(1, |last| last.id + 1);
        let person = Person {
            id,
            email: new.email,
            name: new.name,
        };
        people.push(person.clone());
        Ok(person)
    }

    async fn insert_many(&self, new: Vec<NewPerson>) -> Result<Vec<Person>, RepoError> {
        let mut stored = Vec::with_capacity(new.len());
        for person in new {
            stored.push(self.insert(person).await?);
        }
        Ok(stored)
    }

    async fn get(&self, id: i64) -> Result<Person, RepoError> {
        self.find(id).await?.ok_or(RepoError::not_found("Person"))
    }

    async fn find(&self, id: i64) -> Result<Option<Person>, RepoError> {
        Ok(self.people().iter().find(|person| person.id == id).cloned())
    }

    async fn get_many(&self, ids: &[i64]) -> Result<Vec<Person>, RepoError> {
        let people = self.people();
        Ok(ids
            .iter()
            .filter_map(|id| people.iter().find(|person| person.id == *id).cloned())
            .collect())
    }

    async fn list(&self, options: ListOptions<PersonColumn>) -> Result<Vec<Person>, RepoError> {
        let offset = usize::try_from(options.get_offset()).unwrap_or(usize::MAX);
        let limit = options.get_limit().map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        Ok(self
            .people()
            .iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn find_where(
        &self,
        filter: &Filter<Person>,
        options: ListOptions<PersonColumn>,
    ) -> Result<Vec<Person>, RepoError> {
        let matching = self.matching(filter)?;
        let offset = usize::try_from(options.get_offset()).unwrap_or(usize::MAX);
        let limit = options.get_limit().map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        Ok(matching.into_iter().skip(offset).take(limit).collect())
    }

    async fn first_where(
        &self,
        filter: &Filter<Person>,
        options: ListOptions<PersonColumn>,
    ) -> Result<Option<Person>, RepoError> {
        Ok(self.find_where(filter, options.limit(1)).await?.pop())
    }

    async fn find_page(
        &self,
        filter: &Filter<Person>,
        options: ListOptions<PersonColumn>,
        after: Option<&repo_runtime::Cursor>,
    ) -> Result<repo_runtime::KeysetPage<Person>, RepoError> {
        // People are kept in key order, the only order this double lists in.
        let filter = match after {
            Some(cursor) => filter.clone().and(Filter::after(cursor, &options)?),
            None => filter.clone(),
        };
        let mut rows = self.matching(&filter)?;
        let limit = options.get_limit().map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        let next = if rows.len() > limit {
            rows.truncate(limit);
            let last = rows.last().ok_or(RepoError::not_found("Person"))?;
            Some(repo_runtime::Cursor::after_record(last, &options)?)
        } else {
            None
        };
        Ok(repo_runtime::KeysetPage { rows, next })
    }

    fn stream(
        &self,
        filter: &Filter<Person>,
        options: ListOptions<PersonColumn>,
    ) -> repo_runtime::RowStream<Person> {
        let rows = match self.matching(filter) {
            Ok(rows) => rows.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        };
        let limit = options.get_limit().map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        let rows: Vec<_> = rows.into_iter().take(limit).collect();
        Box::pin(futures_util::stream::iter(rows))
    }

    async fn count_where(&self, filter: &Filter<Person>) -> Result<u64, RepoError> {
        Ok(self.matching(filter)?.len() as u64)
    }

    async fn exists_where(&self, filter: &Filter<Person>) -> Result<bool, RepoError> {
        Ok(!self.matching(filter)?.is_empty())
    }

    async fn delete_where(&self, filter: &Filter<Person>) -> Result<u64, RepoError> {
        let doomed: Vec<i64> = self.matching(filter)?.iter().map(|p| p.id).collect();
        self.people().retain(|person| !doomed.contains(&person.id));
        Ok(doomed.len() as u64)
    }

    async fn count(&self) -> Result<u64, RepoError> {
        Ok(self.people().len() as u64)
    }

    async fn exists(&self, id: i64) -> Result<bool, RepoError> {
        Ok(self.find(id).await?.is_some())
    }

    async fn update(&self, entity: &Person) -> Result<Person, RepoError> {
        let mut people = self.people();
        let person = people
            .iter_mut()
            .find(|person| person.id == entity.id)
            .ok_or(RepoError::not_found("Person"))?;
        *person = entity.clone();
        Ok(entity.clone())
    }

    async fn delete(&self, id: i64) -> Result<bool, RepoError> {
        let mut people = self.people();
        let before = people.len();
        people.retain(|person| person.id != id);
        Ok(people.len() < before)
    }

    async fn write(&self, entity: &Person) -> Result<(), RepoError> {
        self.update(entity).await.map(drop)
    }

    async fn remove(&self, entity: &Person) -> Result<(), RepoError> {
        if self.delete(entity.id).await? {
            Ok(())
        } else {
            Err(RepoError::not_found("Person"))
        }
    }

    async fn restore(&self, _id: i64) -> Result<Person, RepoError> {
        Err(RepoError::invalid_input(
            "Person",
            "the directory deletes for good: nothing to restore",
        ))
    }

    async fn purge(&self, id: i64) -> Result<bool, RepoError> {
        self.delete(id).await
    }

    async fn upsert(&self, entity: &Person) -> Result<Person, RepoError> {
        if self.exists(entity.id).await? {
            return self.update(entity).await;
        }
        let mut people = self.people();
        people.push(entity.clone());
        people.sort_by_key(|person| person.id);
        Ok(entity.clone())
    }

    async fn insert_or_ignore(
        &self,
        new: Vec<NewPerson>,
        key: repo_runtime::UniqueKey<Person>,
    ) -> Result<Vec<Person>, RepoError> {
        // Keys are generated: only the address can already be held.
        let mut inserted = Vec::new();
        for person in new {
            if key == Person::BY_EMAIL && self.find_by_email(&person.email).await?.is_some() {
                continue;
            }
            inserted.push(self.insert(person).await?);
        }
        Ok(inserted)
    }

    async fn upsert_on(
        &self,
        new: NewPerson,
        key: repo_runtime::UniqueKey<Person>,
    ) -> Result<Person, RepoError> {
        match self.find_by_email(&new.email).await? {
            Some(held) if key == Person::BY_EMAIL => {
                let person = Person {
                    id: held.id,
                    email: new.email,
                    name: new.name,
                };
                self.update(&person).await
            }
            _ => self.insert(new).await,
        }
    }

    async fn patch(&self, id: i64, patch: PersonPatch) -> Result<Person, RepoError> {
        let mut people = self.people();
        let person = people
            .iter_mut()
            .find(|person| person.id == id)
            .ok_or(RepoError::not_found("Person"))?;
        patch.apply_to(person);
        Ok(person.clone())
    }

    async fn patch_where(
        &self,
        filter: &Filter<Person>,
        patch: PersonPatch,
    ) -> Result<Vec<Person>, RepoError> {
        let mut people = self.people();
        let mut selected = Vec::new();
        for (index, person) in people.iter().enumerate() {
            if filter.matches(person)? {
                selected.push(index);
            }
        }
        // One patch, several rows: each takes what the patch gives (a name, here).
        let mut written = Vec::new();
        for index in selected {
            let person = &mut people[index];
            PersonPatch {
                email: patch.email.clone(),
                name: patch.name.clone(),
            }
            .apply_to(person);
            written.push(person.clone());
        }
        Ok(written)
    }
}

#[repo_runtime::async_trait]
impl PersonRepository for Directory {
    async fn find_by_email(&self, email: &str) -> Result<Option<Person>, RepoError> {
        Ok(self
            .people()
            .iter()
            .find(|person| person.email == email)
            .cloned())
    }
}

/// Application code, written against the trait alone.
async fn rename(
    people: &dyn PersonRepository,
    email: &str,
    name: &str,
) -> Result<Person, RepoError> {
    let person = people
        .find_by_email(email)
        .await?
        .ok_or(RepoError::not_found("Person"))?;
    people
        .update(&Person {
            name: name.to_owned(),
            ..person
        })
        .await
}

/// What `rename` does, whichever repository it is given.
async fn renames_the_person_with_that_address(people: Arc<dyn PersonRepository>) {
    let ada = people
        .insert(NewPerson {
            email: "ada@x.io".into(),
            name: "Ada".into(),
        })
        .await
        .unwrap();
    let renamed = rename(&*people, "ada@x.io", "Ada Lovelace").await.unwrap();
    assert_eq!(
        renamed,
        Person {
            name: "Ada Lovelace".into(),
            ..ada.clone()
        }
    );
    assert_eq!(people.get(ada.id).await.unwrap(), renamed);
    let missing = rename(&*people, "bob@x.io", "Bob").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let taken = people
        .insert(NewPerson {
            email: "ada@x.io".into(),
            name: "Other".into(),
        })
        .await
        .unwrap_err();
    assert!(taken.is_conflict(), "{taken:?}");
    assert_eq!(people.count().await.unwrap(), 1);
    // A patch writes only what it gives, by key or by filter, on the double as in the database.
    let king = PersonPatch {
        name: Some("Ada King".into()),
        ..PersonPatch::default()
    };
    let patched = people.patch(ada.id, king).await.unwrap();
    assert_eq!(
        (patched.email.as_str(), patched.name.as_str()),
        ("ada@x.io", "Ada King")
    );
    let back = PersonPatch {
        name: Some("Ada Lovelace".into()),
        ..PersonPatch::default()
    };
    let written = people
        .patch_where(&Person::EMAIL.eq("ada@x.io"), back)
        .await
        .unwrap();
    assert_eq!(written, std::slice::from_ref(&renamed));
    let missing = people
        .patch(ada.id + 1, PersonPatch::default())
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    // A stream yields what a listing returns.
    let streamed: Vec<Person> =
        futures_util::TryStreamExt::try_collect(people.stream(&Filter::all(), ListOptions::new()))
            .await
            .unwrap();
    assert_eq!(streamed, std::slice::from_ref(&renamed));
    // A keyset page continues after the row its cursor was taken from.
    let first = people
        .find_page(&Filter::all(), ListOptions::new().limit(1), None)
        .await
        .unwrap();
    assert_eq!(first.rows, std::slice::from_ref(&renamed));
    assert!(first.next.is_none(), "one person, one page");
    // Conditional writes: the address decides.
    let created = people
        .insert_or_ignore(
            vec![
                NewPerson {
                    email: "ada@x.io".into(),
                    name: "Twin".into(),
                },
                NewPerson {
                    email: "bob@x.io".into(),
                    name: "Bob".into(),
                },
            ],
            Person::BY_EMAIL,
        )
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].name, "Bob");
    let bob = people
        .upsert_on(
            NewPerson {
                email: "bob@x.io".into(),
                name: "Robert".into(),
            },
            Person::BY_EMAIL,
        )
        .await
        .unwrap();
    assert_eq!((bob.id, bob.name.as_str()), (created[0].id, "Robert"));
    assert!(people.delete(bob.id).await.unwrap());
    // Filters mean the same on the double, which decides them with `Filter::matches`.
    let lovelaces = Person::NAME.ends_with("Lovelace");
    let found = people
        .find_where(&lovelaces, ListOptions::new())
        .await
        .unwrap();
    assert_eq!(found, [renamed]);
    assert_eq!(people.count_where(&!lovelaces.clone()).await.unwrap(), 0);
    assert_eq!(people.delete_where(&lovelaces).await.unwrap(), 1);
    assert!(!people.exists_where(&Filter::all()).await.unwrap());
}

#[tokio::test]
async fn a_hand_written_double_stands_where_the_generated_repository_does() {
    renames_the_person_with_that_address(Arc::new(Directory::default())).await;

    let db = Db::connect("sqlite::memory:").await.unwrap();
    db.create_schema::<Person>().await.unwrap();
    renames_the_person_with_that_address(Arc::new(Person::repository(&db))).await;
}

#[tokio::test]
async fn faulty_wraps_a_hand_written_double_too() {
    let faults = Faults::new().fail_first("update", 1, || RepoError::not_found("Person"));
    let people = Faulty::new(Directory::default(), faults.clone());
    people
        .insert(NewPerson {
            email: "ada@x.io".into(),
            name: "Ada".into(),
        })
        .await
        .unwrap();
    let failed = rename(&people, "ada@x.io", "Ada Lovelace")
        .await
        .unwrap_err();
    assert!(failed.is_not_found());
    assert_eq!(
        rename(&people, "ada@x.io", "Ada L.").await.unwrap().name,
        "Ada L."
    );
    assert_eq!(
        faults.log(),
        [
            "insert",
            "find_by_email",
            "update",
            "find_by_email",
            "update"
        ]
    );
}
