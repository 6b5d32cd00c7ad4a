//! The dynamic operations on the entities that stretch them: embedded value objects (a patch
//! of a whole embedded value, of an optional one to `NULL`), domain types (conditional writes,
//! pages and streams speak them, and refuse a value that cannot be stored), a composite key of
//! text (keyset pages).

use futures_util::TryStreamExt;
use repo_runtime::prelude::*;

use crate::domain::model::Tier;
use crate::domain::{CustomerRecord, CustomerRecordColumn, CustomerRecordPatch, customer};
use crate::embed::{Address, NewWarehouse, Warehouse, WarehouseColumn, WarehousePatch};
use crate::entities::{Membership, MembershipColumn, MembershipPatch, create_all, membership};
use crate::mapping::Status;

fn address(street: &str) -> Address {
    Address {
        street: street.into(),
        city: "Springfield".into(),
        note: None,
        geo: None,
    }
}

fn warehouse(code: &str) -> NewWarehouse {
    NewWarehouse {
        code: code.into(),
        address: address("1 Main Street"),
        billing: Some(address("2 Bill Street")),
        status: Status::Active,
    }
}

pub async fn dynamic_operations_write_and_read_embedded_values(db: &Db) {
    db.create_schema::<Warehouse>().await.unwrap();
    let warehouses = Warehouse::repository(db);
    let w1 = warehouses.insert(warehouse("W1")).await.unwrap();
    warehouses.insert(warehouse("W2")).await.unwrap();

    // A whole embedded value written, an optional one cleared to all NULL.
    let moved = WarehousePatch {
        address: Some(address("9 New Road")),
        billing: Some(None),
        ..WarehousePatch::default()
    };
    let stored = warehouses.patch(w1.id, moved).await.unwrap();
    assert_eq!(stored.address, address("9 New Road"));
    assert_eq!(stored.billing, None);
    assert_eq!(warehouses.get(w1.id).await.unwrap(), stored);

    // Conditional writes on the unique code, the embedded columns among those written.
    let created = warehouses
        .insert_or_ignore(vec![warehouse("W2"), warehouse("W3")], Warehouse::BY_CODE)
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].code, "W3");
    let replaced = warehouses
        .upsert_on(
            NewWarehouse {
                address: address("5 Upsert Lane"),
                ..warehouse("W3")
            },
            Warehouse::BY_CODE,
        )
        .await
        .unwrap();
    assert_eq!(replaced.id, created[0].id);
    assert_eq!(replaced.address, address("5 Upsert Lane"));

    // Keyset pages and streams read them back whole.
    let order = ListOptions::new().desc(WarehouseColumn::Code);
    let all = warehouses
        .find_where(&Filter::all(), order.clone())
        .await
        .unwrap();
    let first = warehouses
        .find_page(&Filter::all(), order.clone().limit(2), None)
        .await
        .unwrap();
    let rest = warehouses
        .find_page(&Filter::all(), order.clone().limit(2), first.next.as_ref())
        .await
        .unwrap();
    assert!(rest.next.is_none());
    assert_eq!([first.rows, rest.rows].concat(), all);
    let streamed: Vec<Warehouse> = warehouses
        .stream(&Filter::all(), order)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, all);
}

pub async fn dynamic_operations_speak_the_domain_type(db: &Db) {
    db.create_schema::<CustomerRecord>().await.unwrap();
    let customers = CustomerRecord::repository(db);
    let alice = customers.insert(customer(1, Tier::Pro)).await.unwrap();

    let created = customers
        .insert_or_ignore(
            vec![customer(1, Tier::Free), customer(2, Tier::Free)],
            CustomerRecord::BY_EMAIL,
        )
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].email.as_str(), "c2@example.com");
    let updated = customers
        .upsert_on(customer(1, Tier::Free), CustomerRecord::BY_EMAIL)
        .await
        .unwrap();
    assert_eq!((updated.id, updated.tier), (alice.id, Tier::Free));

    // A domain value that cannot be stored: refused before anything is written.
    let refused = customers
        .insert_or_ignore(
            vec![customer(3, Tier::Pro), customer(4, Tier::Legacy)],
            CustomerRecord::BY_EMAIL,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RepoError::InvalidInput { .. }),
        "{refused:?}"
    );
    assert_eq!(customers.count().await.unwrap(), 2);

    // A patch of the record's fields, read back as the domain type.
    let renamed = CustomerRecordPatch {
        full_name: Some("Alice Liddell".into()),
        ..CustomerRecordPatch::default()
    };
    let stored = customers.patch(alice.id, renamed).await.unwrap();
    assert_eq!(stored.name, "Alice Liddell");
    let page = customers
        .find_page(
            &Filter::all(),
            ListOptions::new()
                .asc(CustomerRecordColumn::FullName)
                .limit(1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(page.rows, [stored]);
    assert!(page.next.is_some());
}

pub async fn keyset_pages_and_patches_on_a_composite_key_of_text(db: &Db) {
    create_all(db).await;
    let memberships = Membership::repository(db);
    let names = ["bo", "al", "cy", "Al", "b", "al2"];
    for (org, name) in [1, 2].iter().flat_map(|org| names.map(|name| (*org, name))) {
        memberships.insert(membership(org, name)).await.unwrap();
    }
    let order = ListOptions::new().desc(MembershipColumn::Since);
    let all = memberships
        .find_where(&Filter::all(), order.clone())
        .await
        .unwrap();
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = memberships
            .find_page(&Filter::all(), order.clone().limit(5), after.as_ref())
            .await
            .unwrap();
        walked.extend(page.rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, all);

    let quiet = MembershipPatch {
        active: Some(false),
        ..MembershipPatch::default()
    };
    let written = memberships
        .patch_where(&Membership::ORG_ID.eq(2), quiet)
        .await
        .unwrap();
    assert_eq!(written.len(), names.len());
    assert!(written.iter().all(|m| !m.active && m.org_id == 2));
    assert_eq!(
        memberships
            .count_where(&Membership::ACTIVE.eq(true))
            .await
            .unwrap(),
        names.len() as u64
    );
}
