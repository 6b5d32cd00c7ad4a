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

    /// A postal address: a value object of the domain.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PostalAddress {
        pub lines: Vec<String>,
        pub country: String,
    }

    /// A supplier, located at an address.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Supplier {
        pub id: i64,
        pub name: String,
        pub address: PostalAddress,
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

/// The stored form of a postal address: at most two lines.
#[derive(Debug, Clone, PartialEq, Embeddable)]
pub struct AddressRecord {
    pub line1: String,
    pub line2: Option<String>,
    pub country: String,
}

/// Addresses with more than two lines cannot be stored.
pub mod postal {
    use super::AddressRecord;
    use super::model::PostalAddress;

    pub fn to_domain(record: AddressRecord) -> Result<PostalAddress, std::convert::Infallible> {
        let mut lines = vec![record.line1];
        lines.extend(record.line2);
        Ok(PostalAddress {
            lines,
            country: record.country,
        })
    }

    pub fn from_domain(address: &PostalAddress) -> Result<AddressRecord, String> {
        match address.lines.as_slice() {
            [line1] => Ok(AddressRecord {
                line1: line1.clone(),
                line2: None,
                country: address.country.clone(),
            }),
            [line1, line2] => Ok(AddressRecord {
                line1: line1.clone(),
                line2: Some(line2.clone()),
                country: address.country.clone(),
            }),
            lines => Err(format!("{} address lines do not fit in two", lines.len())),
        }
    }
}

/// The persistence record of [`model::Supplier`], its address embedded.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "suppliers", domain = model::Supplier)]
pub struct SupplierRecord {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
    #[repo(embed, domain_with = postal)]
    pub address: AddressRecord,
}

pub async fn domain_value_objects_map_to_embedded_records(db: &Db) {
    db.create_schema::<SupplierRecord>().await.unwrap();
    let suppliers = SupplierRecord::repository(db);
    let acme = suppliers
        .insert(model::Supplier {
            id: 0,
            name: "Acme".into(),
            address: model::PostalAddress {
                lines: vec!["1 Road".into(), "Unit 4".into()],
                country: "NZ".into(),
            },
        })
        .await
        .unwrap();
    assert_eq!(suppliers.get(acme.id).await.unwrap(), acme);
    assert!(
        SupplierRecord::TABLE
            .column("address_line2")
            .unwrap()
            .nullable
    );
    let error = suppliers
        .update(&model::Supplier {
            address: model::PostalAddress {
                lines: vec!["a".into(), "b".into(), "c".into()],
                country: "NZ".into(),
            },
            ..acme.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RepoError::InvalidInput { message, .. } if message.contains("field `address`")),
        "{error:?}"
    );
    assert_eq!(
        suppliers.get(acme.id).await.unwrap(),
        acme,
        "nothing was written"
    );
}

pub fn customer(n: i64, tier: Tier) -> Customer {
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
