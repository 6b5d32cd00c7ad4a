//! The table definition constant: columns, types, primary key, unique keys, indexes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Entity, KeyDef, Mapping};

pub(super) fn table_definition(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let table = &entity.table;
    let name = entity.ident.to_string().trim_start_matches("r#").to_owned();
    let columns = entity.fields.iter().flat_map(|field| {
        let (generated, sensitive, ty) = (field.generated, field.sensitive, &field.ty);
        field.columns.iter().enumerate().map(move |(i, column)| {
            let (name, field_name) = (&column.name, &column.field);
            let (column_type, nullable, sensitive) = match (&field.embed, &field.mapping) {
                (Some(embed), _) => {
                    let (inner, optional) = (&embed.ty, embed.optional);
                    let leaf = quote! { <#inner as #krate::Embedded>::LEAVES[#i] };
                    (
                        quote! { #leaf.ty },
                        quote! { #leaf.nullable || #optional },
                        quote! { #leaf.sensitive },
                    )
                }
                (None, Mapping::Value) => (
                    quote! { <#ty as #krate::ColumnValue>::TYPE },
                    quote! { <#ty as #krate::ColumnValue>::NULLABLE },
                    quote! { #sensitive },
                ),
                (None, Mapping::Json) => {
                    let nullable = field.nullable;
                    (
                        quote! { #krate::ColumnType::Json },
                        quote! { #nullable },
                        quote! { #sensitive },
                    )
                }
                (None, Mapping::With(path)) => (
                    quote! { #krate::__private::convert::column_type(#path::to_db) },
                    quote! { #krate::__private::convert::nullable(#path::to_db) },
                    quote! { #sensitive },
                ),
            };
            quote! {
                #krate::Column {
                    name: #name,
                    field: #field_name,
                    ty: #column_type,
                    nullable: #nullable,
                    generated: #generated,
                    sensitive: #sensitive,
                }
            }
        })
    });
    let constraint = |name: &str, positions: &[usize]| {
        let columns = positions.iter().map(|&i| &entity.fields[i].column);
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
        let columns = fields.iter().map(|&i| &entity.fields[i].column);
        quote! { #krate::Index { name: #name, columns: &[#(#columns),*] } }
    });
    quote! {
        #krate::Table {
            name: #table,
            entity: #name,
            columns: &[#(#columns),*],
            primary_key: #primary_key,
            unique: &[#(#unique),*],
            indexes: &[#(#indexes),*],
        }
    }
}
