//! The table definition constant: columns, types, primary key, unique keys, indexes.

use proc_macro2::TokenStream;
use quote::quote;

use super::optional_str;
use crate::attr::OnDelete;
use crate::model::{DefaultLit, Entity, KeyDef, Mapping, Policy};

pub(super) fn table_definition(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let table = &entity.table;
    let name = entity.ident.to_string().trim_start_matches("r#").to_owned();
    let columns = entity.fields.iter().flat_map(|field| {
        let ty = &field.ty;
        // Only what differs from a plain column is written out.
        let mut modifiers = TokenStream::new();
        if field.generated {
            modifiers.extend(quote! { .generated() });
        }
        if field.sensitive {
            modifiers.extend(quote! { .sensitive() });
        }
        if let Some(policy) = field.policy() {
            let policy = match policy {
                Policy::Version => quote! { Version },
                Policy::CreatedAt => quote! { CreatedAt },
                Policy::UpdatedAt => quote! { UpdatedAt },
                Policy::DeletedAt => quote! { DeletedAt },
                Policy::CreatedBy => quote! { CreatedBy },
                Policy::UpdatedBy => quote! { UpdatedBy },
                Policy::Tenant => quote! { Tenant },
            };
            modifiers.extend(quote! { .policy(#krate::Policy::#policy) });
        }
        if field.row_level_security {
            modifiers.extend(quote! { .row_level_security() });
        }
        match &field.default {
            Some(DefaultLit::Number(number)) => {
                modifiers.extend(quote! { .with_default(#krate::ColumnDefault::Number(#number)) });
            }
            Some(DefaultLit::Boolean(value)) => {
                modifiers.extend(quote! { .with_default(#krate::ColumnDefault::Boolean(#value)) });
            }
            Some(DefaultLit::Text(text)) => {
                modifiers.extend(quote! { .with_default(#krate::ColumnDefault::Text(#text)) });
            }
            None => {}
        }
        if let Some(renamed_from) = &field.renamed_from {
            modifiers.extend(quote! { .renamed_from(#renamed_from) });
        }
        field.columns.iter().enumerate().map(move |(i, column)| {
            let (name, field_name) = (&column.name, &column.field);
            let column = match (&field.embed, &field.mapping) {
                (Some(embed), _) => {
                    let (inner, optional) = (&embed.ty, embed.optional);
                    quote! {
                        #krate::Column::leaf(
                            #name,
                            #field_name,
                            &<#inner as #krate::Embedded>::LEAVES[#i],
                            #optional,
                        )
                    }
                }
                (None, Mapping::Value) => quote! {
                    <#ty as #krate::ColumnValue>::COLUMN.named(#name, #field_name)
                },
                (None, Mapping::Json) => {
                    let nullable = field.nullable;
                    quote! {
                        #krate::Column::new(#name, #field_name, #krate::ColumnType::Json, #nullable)
                    }
                }
                (None, Mapping::With(path)) => quote! {
                    #krate::Column::new(
                        #name,
                        #field_name,
                        #krate::__private::convert::column_type(#path::to_db),
                        #krate::__private::convert::nullable(#path::to_db),
                    )
                },
                (None, Mapping::Encrypted { .. }) => {
                    let nullable = field.nullable;
                    if i == 0 {
                        let blind_index = optional_str(field.blind_index());
                        quote! {
                            #krate::Column::encrypted(#name, #field_name, #nullable, #blind_index)
                        }
                    } else {
                        let of = &field.column;
                        quote! {
                            #krate::Column::blind_index(#name, #field_name, #nullable, #of)
                        }
                    }
                }
            };
            quote! { #column #modifiers }
        })
    });
    let constraint = |name: &str, positions: &[usize]| {
        let columns = positions.iter().map(|&i| entity.fields[i].lookup_column());
        let fields = positions
            .iter()
            .map(|&i| entity.fields[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        quote! {
            #krate::Constraint {
                name: #name,
                columns: &[#(#columns),*],
                fields: #fields,
            }
        }
    };
    let primary_key = constraint(&entity.primary_key_name, &entity.key);
    let unique = entity
        .unique
        .iter()
        .map(|KeyDef { name, fields }| constraint(name, fields));
    let indexes = entity.indexes.iter().map(|KeyDef { name, fields }| {
        let columns = fields.iter().map(|&i| entity.fields[i].lookup_column());
        quote! { #krate::Index { name: #name, columns: &[#(#columns),*] } }
    });
    let foreign_keys = entity.foreign_keys.iter().map(|(name, position)| {
        let field = &entity.fields[*position];
        let column = &field.column;
        let Some(reference) = &field.references else {
            return TokenStream::new();
        };
        let target = &reference.entity;
        let on_delete = match reference.on_delete {
            OnDelete::NoAction => quote! { NoAction },
            OnDelete::Restrict => quote! { Restrict },
            OnDelete::Cascade => quote! { Cascade },
            OnDelete::SetNull => quote! { SetNull },
        };
        quote! {
            #krate::ForeignKey {
                name: #name,
                columns: &[#column],
                table: <#target as #krate::Entity>::TABLE_NAME,
                references: <#target as #krate::Entity>::KEY_COLUMNS,
                on_delete: #krate::OnDelete::#on_delete,
            }
        }
    });
    let renamed_from = optional_str(entity.renamed_from.as_deref());
    // A port's derived queries are listed where the port is implemented.
    let queries = match &entity.port {
        Some(_) => {
            let record = &entity.ident;
            quote! { <#record as #krate::__private::DerivedQueries>::QUERIES }
        }
        None => quote! { &[] },
    };
    quote! {
        #krate::Table {
            name: #table,
            entity: #name,
            columns: &[#(#columns),*],
            primary_key: #primary_key,
            unique: &[#(#unique),*],
            indexes: &[#(#indexes),*],
            foreign_keys: &[#(#foreign_keys),*],
            renamed_from: #renamed_from,
            queries: #queries,
        }
    }
}
