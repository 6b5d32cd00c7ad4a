// Embeddable types are found by the path the entity writes, whether imported or qualified.

mod model {
    use repo_runtime::Embeddable;

    #[derive(Debug, Clone, PartialEq, Embeddable)]
    pub struct Geo {
        pub lat: f64,
        pub lng: f64,
    }

    #[derive(Debug, Clone, PartialEq, Embeddable)]
    pub struct Address {
        pub street: String,
        #[repo(embed)]
        pub geo: Geo,
    }
}

mod infrastructure {
    use crate::model::Address;
    use repo_runtime::Repository;

    #[derive(Debug, Clone, PartialEq, Repository)]
    pub struct Site {
        #[repo(id)]
        pub id: i64,
        #[repo(embed)]
        pub address: Address,
        #[repo(embed, prefix = "pin_")]
        pub pin: Option<crate::model::Geo>,
    }
}

fn main() {
    use repo_runtime::Entity;
    let columns: Vec<&str> = infrastructure::Site::TABLE
        .columns
        .iter()
        .map(|column| column.name)
        .collect();
    assert_eq!(
        columns,
        ["id", "address_street", "address_geo_lat", "address_geo_lng", "pin_lat", "pin_lng"]
    );
}
