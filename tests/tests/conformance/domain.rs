//! A repository that speaks a domain type (`#[repo(domain = ...)]`): the domain module below
//! knows nothing of persistence; the record maps to it field by field, converting where the
//! types differ, and domain validation failures come back as `InvalidInput` naming the field.

use repo_runtime::chrono::{DateTime, TimeZone, Utc};
use repo_runtime::prelude::*;
use repo_runtime::{ListOptions, Order};

/// The domain layer: plain types, no database dependency.
pub mod model {
    use repo_runtime::chrono::{DateTime, Utc};

    /// A customer as the application sees it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Customer {
        pub id: i64,
        pub email: Email,
        pub name: String,
        pub tier: Tier,
        pub joined: DateTime<Utc>,
    }

    /// A validated e-mail address.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Email(String);

    impl Email {
        /// Accepts text with one `@` between non-empty parts.
        pub fn parse(text: &str) -> Result<Email, String> {
            match text.split_once('@') {
                Some((user, host)) if !user.is_empty() && !host.is_empty() => {
                    Ok(Email(text.to_owned()))
                }
                _ => Err(format!("`{text}` is not an e-mail address")),
            }
        }

        /// The address.
        pub fn as_str(&self) -> &str {
            &self.0
        }
    }

    /// A pricing tier; `Legacy` customers can no longer be written.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Tier {
        Free,
        Pro,
        Legacy,
    }
}

use model::{Customer, Email, Tier};

/// E-mail addresses are stored as text and validated on the way back.
pub mod email_text {
    use super::Email;

    pub fn to_domain(text: String) -> Result<Email, String> {
        Email::parse(&text)
    }

    pub fn from_domain(email: &Email) -> Result<String, std::convert::Infallible> {
        Ok(email.as_str().to_owned())
    }
}

/// Tiers are stored as text; `Legacy` is refused.
pub mod tier_text {
    use super::Tier;

    pub fn to_domain(text: String) -> Result<Tier, String> {
        match text.as_str() {
            "free" => Ok(Tier::Free),
            "pro" => Ok(Tier::Pro),
            other => Err(format!("unknown tier `{other}`")),
        }
    }

    pub fn from_domain(tier: &Tier) -> Result<String, &'static str> {
        match tier {
            Tier::Free => Ok("free".into()),
            Tier::Pro => Ok("pro".into()),
            Tier::Legacy => Err("legacy tiers can no longer be stored"),
        }
    }
}

/// The persistence record of [`Customer`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "customers", domain = model::Customer)]
pub struct CustomerRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique, domain_with = email_text)]
    pub email: String,
    #[repo(domain_field = name)]
    pub full_name: String,
    #[repo(index, domain_with = tier_text)]
    pub tier: String,
    pub joined: DateTime<Utc>,
}

fn customer(n: i64, tier: Tier) -> Customer {
    Customer {
        id: 0,
        email: Email::parse(&format!("c{n}@example.com")).unwrap(),
        name: format!("Customer {n}"),
        tier,
        joined: Utc.timestamp_opt(1_700_000_000 + n, 250_000).unwrap(),
    }
}

pub async fn repository_speaks_the_domain_type(db: &Db) {
    db.create_schema::<CustomerRecord>().await.unwrap();
    let customers: std::sync::Arc<dyn CustomerRepository> =
        std::sync::Arc::new(CustomerRecord::repository(db));
    let alice = customers.insert(customer(1, Tier::Pro)).await.unwrap();
    assert_ne!(alice.id, 0, "the generated key replaces the domain's");
    assert_eq!(
        alice,
        Customer {
            id: alice.id,
            ..customer(1, Tier::Pro)
        }
    );
    assert_eq!(customers.get(alice.id).await.unwrap(), alice);
    assert_eq!(
        customers.find_by_email("c1@example.com").await.unwrap(),
        Some(alice.clone())
    );
    let more = customers
        .insert_many(vec![customer(2, Tier::Free), customer(3, Tier::Pro)])
        .await
        .unwrap();
    assert_eq!(more.len(), 2);
    let renamed = Customer {
        name: "Alice A.".into(),
        tier: Tier::Free,
        ..alice.clone()
    };
    assert_eq!(customers.update(&renamed).await.unwrap(), renamed);
    let listed = customers
        .list(ListOptions::new().order_by(CustomerRecordColumn::FullName, Order::Desc))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Customer 3", "Customer 2", "Alice A."]
    );
    let ids: Vec<i64> = more.iter().map(|c| c.id).collect();
    assert_eq!(customers.get_many(&ids).await.unwrap(), more);
    assert!(customers.delete(more[0].id).await.unwrap());
    assert_eq!(customers.count().await.unwrap(), 2);
}

pub async fn a_domain_value_that_cannot_be_stored_is_invalid_input_and_writes_nothing(db: &Db) {
    db.create_schema::<CustomerRecord>().await.unwrap();
    let customers = CustomerRecord::repository(db);
    let error = customers
        .insert(customer(1, Tier::Legacy))
        .await
        .unwrap_err();
    match &error {
        RepoError::InvalidInput { entity, message } => {
            assert_eq!(*entity, "CustomerRecord");
            assert!(message.contains("field `tier`"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let batch = customers
        .insert_many(vec![customer(2, Tier::Free), customer(3, Tier::Legacy)])
        .await
        .unwrap_err();
    assert!(matches!(batch, RepoError::InvalidInput { .. }), "{batch:?}");
    assert_eq!(customers.count().await.unwrap(), 0, "nothing was written");
}

pub async fn stored_data_failing_domain_validation_is_invalid_input_naming_the_field(db: &Db) {
    db.create_schema::<CustomerRecord>().await.unwrap();
    let records = CustomerRecord::repository(db);
    let stored = records.insert(customer(1, Tier::Pro)).await.unwrap();
    // Another program wrote an address the domain refuses.
    assert!(
        crate::mapping::raw_execute(db, "UPDATE customers SET email = 'not an address'")
            .await
            .is_none()
    );
    let error = records.get(stored.id).await.unwrap_err();
    match &error {
        RepoError::InvalidInput { message, .. } => {
            assert!(message.contains("field `email`"), "{message}");
            assert!(message.contains("not an e-mail address"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // The conversions are also plain TryFrom both ways.
    let record = CustomerRecord::try_from(customer(9, Tier::Free)).unwrap();
    assert_eq!(record.tier, "free");
    assert_eq!(Customer::try_from(record).unwrap(), customer(9, Tier::Free));
}
