//! Column types as the derive recognises them, syntactically, from a field's type.

/// The column types this version maps, as the derive recognises them syntactically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    String,
    Bytes,
    /// Any other type: mapped through its `ColumnValue` implementation, checked by the compiler.
    Other,
}

impl Scalar {
    pub(crate) fn is_integer(self) -> bool {
        matches!(self, Scalar::I16 | Scalar::I32 | Scalar::I64)
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }
}

/// The last path segment of `ty` with its generic arguments, for plain paths.
fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        syn::Type::Group(group) => last_segment(&group.elem),
        syn::Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn single_type_argument(segment: &syn::PathSegment) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let first = types.next()?;
    (args.args.len() == 1).then_some(first)
}

fn scalar_of(ty: &syn::Type) -> Scalar {
    known_scalar(ty).unwrap_or(Scalar::Other)
}

fn known_scalar(ty: &syn::Type) -> Option<Scalar> {
    let segment = last_segment(ty)?;
    let plain = segment.arguments.is_none();
    Some(match segment.ident.to_string().as_str() {
        "i16" if plain => Scalar::I16,
        "i32" if plain => Scalar::I32,
        "i64" if plain => Scalar::I64,
        "f32" if plain => Scalar::F32,
        "f64" if plain => Scalar::F64,
        "bool" if plain => Scalar::Bool,
        "String" if plain => Scalar::String,
        "Vec" => match last_segment(single_type_argument(segment)?) {
            Some(inner) if inner.ident == "u8" && inner.arguments.is_none() => Scalar::Bytes,
            _ => return None,
        },
        _ => return None,
    })
}

/// `(scalar, nullable)` of a field's type, as far as its syntax tells.
pub(crate) fn column_type(ty: &syn::Type) -> (Scalar, bool) {
    match option_inner(ty) {
        Some(inner) => (scalar_of(inner), true),
        None => (scalar_of(ty), false),
    }
}

/// `T` of `Option<T>`.
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let segment = last_segment(ty)?;
    if segment.ident == "Option" {
        single_type_argument(segment)
    } else {
        None
    }
}

pub(crate) fn type_text(ty: &syn::Type) -> String {
    quote::quote!(#ty)
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}
