//! The table definition constant: columns, types, primary key, unique keys, indexes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Entity, KeyDef, Scalar};

pub(super) fn table_definition(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let table = &entity.table;
    let name = entity.ident.to_string().trim_start_matches("r#").to_owned();
    let columns = entity.fields.iter().map(|field| {
        let (column, field_name, nullable, generated) =
            (&field.column, &field.name, field.nullable, field.generated);
        let ty = match field.scalar {
            Scalar::I16 => quote!(SmallInt),
            Scalar::I32 => quote!(Integer),
            Scalar::I64 => quote!(BigInt),
            Scalar::F32 => quote!(Real),
            Scalar::F64 => quote!(Double),
            Scalar::Bool => quote!(Boolean),
            Scalar::String => quote!(Text),
            Scalar::Bytes => quote!(Bytes),
        };
        quote! {
            #krate::Column {
                name: #column,
                field: #field_name,
                ty: #krate::ColumnType::#ty,
                nullable: #nullable,
                generated: #generated,
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
