//! Embedded value objects: flattened into prefixed columns, nestable, optional (all `NULL`).

use repo_runtime::prelude::*;

use crate::mapping::Status;

/// A point on the map.
#[derive(Debug, Clone, PartialEq, Embeddable)]
pub struct Geo {
    pub lat: f64,
    pub lng: f64,
}

/// A postal address, with an optional position.
#[derive(Debug, Clone, PartialEq, Embeddable)]
pub struct Address {
    pub street: String,
    #[repo(column = "town")]
    pub city: String,
    pub note: Option<String>,
    #[repo(embed)]
    pub geo: Option<Geo>,
}

/// A warehouse embedding two addresses, one optional, and an enum beside them.
#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Warehouse {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub code: String,
    #[repo(embed)]
    pub address: Address,
    #[repo(embed, prefix = "billing_")]
    pub billing: Option<Address>,
    pub status: Status,
}

fn address(n: u32, geo: bool) -> Address {
    Address {
        street: format!("{n} Main Street"),
        city: "Springfield".into(),
        note: n.is_multiple_of(2).then(|| "ring twice".into()),
        geo: geo.then_some(Geo {
            lat: 45.5 + f64::from(n),
            lng: -122.25,
        }),
    }
}

fn new_warehouse(n: u32) -> NewWarehouse {
    NewWarehouse {
        code: format!("W{n}"),
        address: address(n, !n.is_multiple_of(3)),
        billing: (n % 2 == 1).then(|| address(n + 100, false)),
        status: Status::Active,
    }
}

pub async fn embedded_values_round_trip_flattened_into_prefixed_columns(db: &Db) {
    db.create_schema::<Warehouse>().await.unwrap();
    let table = Warehouse::TABLE;
    let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    assert_eq!(
        names,
        [
            "id",
            "code",
            "address_street",
            "address_town",
            "address_note",
            "address_geo_lat",
            "address_geo_lng",
            "billing_street",
            "billing_town",
            "billing_note",
            "billing_geo_lat",
            "billing_geo_lng",
            "status",
        ]
    );
    // Optional values and their nested parts are nullable columns.
    assert!(!table.column("address_street").unwrap().nullable);
    assert!(table.column("address_geo_lat").unwrap().nullable);
    assert!(table.column("billing_street").unwrap().nullable);

    let warehouses = Warehouse::repository(db);
    let single = warehouses.insert(new_warehouse(1)).await.unwrap();
    assert_eq!(warehouses.get(single.id).await.unwrap(), single);
    let batch = warehouses
        .insert_many((2..40).map(new_warehouse).collect())
        .await
        .unwrap();
    let ids: Vec<i64> = batch.iter().map(|w| w.id).collect();
    assert_eq!(warehouses.get_many(&ids).await.unwrap(), batch);
    assert!(batch.iter().any(|w| w.billing.is_none()));
    assert!(batch.iter().any(|w| w.address.geo.is_none()));

    let mut moved = batch[0].clone();
    moved.address.geo = None;
    moved.billing = Some(address(7, true));
    assert_eq!(warehouses.update(&moved).await.unwrap(), moved);
    assert_eq!(warehouses.get(moved.id).await.unwrap(), moved);
    assert_eq!(warehouses.upsert(&moved).await.unwrap(), moved);

    let by_city = warehouses
        .list(
            ListOptions::new()
                .desc(WarehouseColumn::AddressStreet)
                .limit(2),
        )
        .await
        .unwrap();
    assert_eq!(by_city.len(), 2);
    assert_eq!(by_city[0].address.street, "9 Main Street");
}
