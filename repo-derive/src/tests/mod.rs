//! Snapshots of the expanded code of each model case, formatted as `cargo expand` would show
//! it. A changed snapshot is reviewed like code: `cargo insta review`.

use quote::quote;

fn expand(input: proc_macro2::TokenStream) -> String {
    let input: syn::DeriveInput = syn::parse2(input).expect("test input parses");
    let tokens = crate::derive(&input);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(mut file) => {
            unwrap_with_memory(&mut file.items);
            prettyplease::unparse(&file)
        }
        Err(_) => tokens.to_string(),
    }
}

/// Replaces each `with_memory! { items }` by its items, as `cargo expand` shows them with the
/// runtime's `memory` feature, so that they are formatted too.
fn unwrap_with_memory(items: &mut Vec<syn::Item>) {
    let mut unwrapped = Vec::with_capacity(items.len());
    for mut item in items.drain(..) {
        if let syn::Item::Macro(call) = &item
            && call
                .mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "with_memory")
        {
            let inner: syn::File = syn::parse2(call.mac.tokens.clone()).expect("items");
            let mut inner = inner.items;
            unwrap_with_memory(&mut inner);
            unwrapped.extend(inner);
            continue;
        }
        if let syn::Item::Const(constant) = &mut item
            && let syn::Expr::Block(block) = &mut *constant.expr
        {
            let mut nested: Vec<syn::Item> = Vec::new();
            let mut rest = Vec::new();
            for statement in block.block.stmts.drain(..) {
                match statement {
                    syn::Stmt::Item(item) => nested.push(item),
                    syn::Stmt::Macro(call) => nested.push(syn::Item::Macro(syn::ItemMacro {
                        attrs: call.attrs,
                        ident: None,
                        mac: call.mac,
                        semi_token: call.semi_token,
                    })),
                    other => rest.push(other),
                }
            }
            unwrap_with_memory(&mut nested);
            block.block.stmts = nested
                .into_iter()
                .map(syn::Stmt::Item)
                .chain(rest)
                .collect();
        }
        unwrapped.push(item);
    }
    *items = unwrapped;
}

macro_rules! snapshot {
    ($name:ident, $($input:tt)*) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(expand(quote! { $($input)* }));
        }
    };
}

snapshot!(
    encrypted_fields_with_and_without_a_blind_index,
    #[derive(Repository)]
    #[repo(table = "patients")]
    pub struct Patient {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(encrypted, unique)]
        pub email: String,
        #[repo(encrypted)]
        pub notes: Option<String>,
    }
);

snapshot!(
    generated_key_with_unique_index_and_option,
    #[derive(Repository)]
    #[repo(table = "users")]
    pub struct User {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique)]
        pub email: String,
        #[repo(index)]
        pub name: String,
        pub bio: Option<String>,
    }
);

snapshot!(
    composite_key_with_renamed_column,
    #[derive(Repository)]
    pub struct Membership {
        #[repo(id)]
        pub org_id: i64,
        #[repo(id)]
        pub user_name: String,
        #[repo(column = "member_since")]
        pub since: i32,
        pub avatar: Option<Vec<u8>>,
    }
);

snapshot!(
    natural_string_key_with_skipped_field,
    #[derive(Repository)]
    struct Setting {
        #[repo(id)]
        key: String,
        value: String,
        #[repo(skip)]
        parsed: Option<i64>,
    }
);

snapshot!(
    composite_unique_key_and_index_at_struct_level,
    #[derive(Repository)]
    #[repo(unique(tenant_id, slug), index(tenant_id, created))]
    pub struct Page {
        #[repo(id, generated)]
        pub id: i64,
        pub tenant_id: i32,
        pub slug: String,
        pub created: i64,
        pub published: bool,
    }
);

snapshot!(
    key_columns_only,
    #[derive(Repository)]
    pub struct Follow {
        #[repo(id)]
        pub follower: i64,
        #[repo(id)]
        pub followee: i64,
    }
);

snapshot!(
    policies_version_and_timestamps_on_a_natural_key,
    #[derive(Repository)]
    #[repo(table = "documents")]
    pub struct Document {
        #[repo(id)]
        pub slug: String,
        pub body: String,
        #[repo(version)]
        pub version: i32,
        #[repo(created_at)]
        pub created_at: chrono::DateTime<chrono::Utc>,
        #[repo(updated_at)]
        pub updated_at: chrono::DateTime<chrono::Utc>,
    }
);

snapshot!(
    soft_delete_scopes_every_fixed_read,
    #[derive(Repository)]
    #[repo(table = "accounts")]
    pub struct Account {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique)]
        pub email: String,
        #[repo(deleted_at)]
        pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    }
);

snapshot!(
    tenant_scopes_every_statement,
    #[derive(Repository)]
    #[repo(table = "projects", unique(org_id, slug))]
    pub struct Project {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(tenant)]
        pub org_id: i64,
        pub slug: String,
        #[repo(version)]
        pub version: i32,
    }
);

snapshot!(
    actors_recorded_from_the_handle,
    #[derive(Repository)]
    pub struct Note {
        #[repo(id, generated)]
        pub id: i64,
        pub body: String,
        #[repo(created_by)]
        pub created_by: String,
        #[repo(updated_by)]
        pub updated_by: Option<String>,
    }
);

snapshot!(
    narrow_generated_key,
    #[derive(Repository)]
    pub struct Note {
        #[repo(id, generated)]
        pub id: i16,
        pub body: String,
    }
);

snapshot!(
    renamed_runtime_crate,
    #[derive(Repository)]
    #[repo(crate = ::persistence, table = "accounts")]
    pub(crate) struct Account {
        #[repo(id)]
        pub(crate) number: String,
        pub(crate) balance: f64,
    }
);

snapshot!(
    raw_identifiers_and_default_table_name,
    #[derive(Repository)]
    pub struct OrderLine {
        #[repo(id)]
        pub r#type: String,
        #[repo(id)]
        pub r#in: i64,
        pub quantity: f32,
    }
);

snapshot!(
    invalid_input_emits_errors_and_a_stub,
    #[derive(Repository)]
    pub struct Broken {
        #[repo(generated)]
        pub id: i64,
    }
);

snapshot!(
    json_with_and_rich_types,
    #[derive(Repository)]
    pub struct Account {
        #[repo(id)]
        pub id: Uuid,
        #[repo(unique)]
        pub email: Email,
        pub status: Status,
        pub created_at: DateTime<Utc>,
        #[repo(json)]
        pub preferences: Preferences,
        #[repo(json)]
        pub draft: Option<Preferences>,
        #[repo(with = cents_as_text)]
        pub cents: i64,
    }
);

fn expand_with(
    derive: fn(&syn::DeriveInput) -> proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> String {
    let input: syn::DeriveInput = syn::parse2(input).expect("test input parses");
    let tokens = derive(&input);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

#[test]
fn db_enum_with_rename_rule_and_renamed_variant() {
    insta::assert_snapshot!(expand_with(
        crate::value_types::derive_db_enum,
        quote! {
            #[derive(DbEnum)]
            #[db_enum(rename_all = "SCREAMING_SNAKE_CASE")]
            pub enum Status {
                Active,
                PendingReview,
                #[db_enum(rename = "gone")]
                Deleted,
            }
        }
    ));
}

#[test]
fn db_value_newtype() {
    insta::assert_snapshot!(expand_with(
        crate::value_types::derive_db_value,
        quote! {
            #[derive(DbValue)]
            pub struct Email(String);
        }
    ));
}

snapshot!(
    domain_mapping_with_conversions_and_sensitive_field,
    #[derive(Repository)]
    #[repo(table = "customers", domain = model::Customer)]
    pub struct CustomerRecord {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique, domain_with = email_text)]
        pub email: String,
        #[repo(domain_field = name)]
        pub full_name: String,
        #[repo(sensitive)]
        pub password_hash: String,
    }
);

snapshot!(
    infallible_domain_mapping,
    #[derive(Repository)]
    #[repo(domain = model::Product)]
    pub struct ProductRecord {
        #[repo(id)]
        pub sku: String,
        pub title: String,
    }
);

#[test]
fn entity_with_an_embedded_value_asks_its_macro_for_the_columns() {
    insta::assert_snapshot!(expand(quote! {
        #[derive(Repository)]
        pub struct Warehouse {
            #[repo(id)]
            pub code: String,
            #[repo(embed, prefix = "billing_")]
            pub billing: Option<model::Address>,
        }
    }));
}

#[test]
fn entity_with_embedded_values_once_their_columns_are_known() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[derive(Repository)]
        pub struct Warehouse {
            #[repo(id)]
            pub code: String,
            #[repo(embed)]
            pub address: Address,
            #[repo(embed, prefix = "billing_")]
            pub billing: Option<Address>,
        }
    })
    .expect("test input parses");
    let leaves = vec![
        crate::model::LeafDef {
            column: "street".into(),
            path: "street".into(),
        },
        crate::model::LeafDef {
            column: "geo_lat".into(),
            path: "geo.lat".into(),
        },
    ];
    let tokens = crate::expand_entity(&input, &[leaves.clone(), leaves]);
    let file = syn::parse2::<syn::File>(tokens).expect("expansion parses");
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

#[test]
fn embeddable_with_a_nested_value() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[derive(Embeddable)]
        pub struct Address {
            pub street: String,
            #[repo(column = "town")]
            pub city: String,
            #[repo(embed)]
            pub geo: Option<Geo>,
        }
    })
    .expect("test input parses");
    let nested = vec![
        crate::model::LeafDef {
            column: "lat".into(),
            path: "lat".into(),
        },
        crate::model::LeafDef {
            column: "lng".into(),
            path: "lng".into(),
        },
    ];
    let tokens = crate::embed::expand_embeddable(&input, &[nested]);
    let file = syn::parse2::<syn::File>(tokens).expect("expansion parses");
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

snapshot!(
    foreign_keys_defaults_and_renames,
    #[derive(Repository)]
    #[repo(table = "posts", renamed_from = "articles")]
    pub struct Post {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = Author, on_delete = "cascade")]
        pub author_id: i64,
        #[repo(references = Post)]
        pub reply_to: Option<i64>,
        #[repo(renamed_from = "headline", default = "untitled")]
        pub title: String,
        #[repo(default = 0)]
        pub views: i64,
    }
);

/// The implementation of a port: forwarded methods and the SQL of each derived operator, in
/// every dialect.
#[test]
fn port_implementation_with_every_operator() {
    let input: crate::query::PortInput = syn::parse2(quote! {
        {
            #[derive(Repository)]
            #[repo(table = "members", port = Members)]
            pub struct Member {
                #[repo(id, generated)]
                pub id: i64,
                #[repo(unique)]
                pub email: String,
                pub status: String,
                pub age: Option<i32>,
            }
        }
        port {
            pub trait Members: Send + Sync {
                async fn get(&self, id: i64) -> Result<Member, RepoError>;
                async fn find_by_email(&self, email: &str) -> Result<Option<Member>, RepoError>;
                async fn count_by_status_not(&self, status: &str) -> Result<u64, RepoError>;
                async fn exists_by_age_is_null(&self) -> Result<bool, RepoError>;
                async fn delete_by_age_less_than(&self, age: i32) -> Result<u64, RepoError>;
                async fn find_all_by_age_between_or_status(
                    &self,
                    low: i32,
                    high: i32,
                    status: &str,
                ) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_id_in_and_age_is_not_null(
                    &self,
                    ids: &[i64],
                ) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_email_containing(&self, part: &str) -> Result<Vec<Member>, RepoError>;
                async fn find_top_3_by_status_order_by_age_desc_id(
                    &self,
                    status: &str,
                ) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_status(&self, status: &str, page: Page) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_id_not_in(&self, ids: Vec<i64>) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_email_starting_with_or_email_ending_with(
                    &self,
                    prefix: &str,
                    suffix: &str,
                ) -> Result<Vec<Member>, RepoError>;
                async fn find_all_by_age_greater_than_equal_and_age_less_than_equal(
                    &self,
                    low: i32,
                    high: i32,
                ) -> Result<Vec<Member>, RepoError>;
                #[query("SELECT * FROM members WHERE status = :status AND age::text <> ':age' OR age > :age")]
                async fn custom(&self, status: &str, age: i32) -> Result<Vec<Member>, RepoError>;
            }
        }
    })
    .expect("port input parses");
    let tokens = crate::query::implement(&input);
    let mut file: syn::File = syn::parse2(tokens).expect("the implementation parses");
    unwrap_with_memory(&mut file.items);
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

/// A projection: columns (one renamed) and aggregates, each checked against the entity's
/// typed fields.
#[test]
fn projection_with_columns_and_aggregates() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[derive(Projection)]
        #[repo(entity = Article)]
        pub struct AuthorStats {
            pub author: i64,
            #[repo(field = title)]
            pub headline: Option<String>,
            #[repo(count)]
            pub articles: i64,
            #[repo(sum = views)]
            pub views: Option<i64>,
            #[repo(avg = rating)]
            pub rating: Option<f64>,
        }
    })
    .expect("test input parses");
    let tokens = crate::projection::derive(&input);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

snapshot!(
    relations_declared_on_the_struct,
    #[derive(Repository)]
    #[repo(
        table = "articles",
        has_many(comments = Comment::article_id),
        has_one(cover = Cover::article_id),
        many_to_many(tags = ArticleTag::article_id, to = tag_id)
    )]
    pub struct Article {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = Author)]
        pub author_id: i64,
        #[repo(references = Author, relation = editor)]
        pub edited_by: Option<i64>,
        pub title: String,
    }
);

snapshot!(
    aggregate_root_owning_its_lines,
    #[derive(Repository)]
    #[repo(table = "orders", domain = domain::Order, owns(lines = OrderLine::order_id))]
    pub struct OrderRecord {
        #[repo(id, generated)]
        pub id: i64,
        pub customer: String,
        #[repo(skip)]
        pub lines: Vec<OrderLine>,
    }
);
