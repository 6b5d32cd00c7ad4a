//! The table definition constant: columns, types, primary key, unique keys, indexes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Entity, KeyDef, Mapping};

pub(super) fn table_definition(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let table = &entity.table;
    let name = entity.ident.to_string().trim_start_matches("r#").to_owned();
    let columns = entity.fields.iter().map(|field| {
        let (column, field_name, generated, sensitive, ty) = (
            &field.column,
            &field.name,
            field.generated,
            field.sensitive,
            &field.ty,
        );
        let (column_type, nullable) = match &field.mapping {
            Mapping::Value => (
                quote! { <#ty as #krate::ColumnValue>::TYPE },
                quote! { <#ty as #krate::ColumnValue>::NULLABLE },
            ),
            Mapping::Json => {
                let nullable = field.nullable;
                (quote! { #krate::ColumnType::Json }, quote! { #nullable })
            }
            Mapping::With(path) => (
                quote! { #krate::__private::convert::column_type(#path::to_db) },
                quote! { #krate::__private::convert::nullable(#path::to_db) },
            ),
        };
        quote! {
            #krate::Column {
                name: #column,
                field: #field_name,
                ty: #column_type,
                nullable: #nullable,
                generated: #generated,
                sensitive: #sensitive,
            }
        }
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
