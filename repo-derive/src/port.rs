//! `#[port]`: a repository trait declared in the domain, made object-safe (`async_trait`), and
//! described to `#[derive(Repository)]` in any crate.
//!
//! A derive cannot read a trait defined elsewhere, so the attribute also defines a
//! `macro_rules!` carrying the trait's tokens, exported under the trait's own name (macros
//! and types live in different namespaces, so `use domain::UserPort` brings both). A record
//! with `#[repo(port = domain::UserPort)]` calls `domain::UserPort! { callback { ... } }`,
//! which hands the trait to the callback, a proc macro of this crate that writes the impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;

/// The arguments: `crate = path` when the crate that exported the attribute (`repo-core` or
/// `repo-runtime`, whose path is `default`) is reached by another path.
fn core_path(args: TokenStream, default: syn::Path) -> syn::Result<syn::Path> {
    if args.is_empty() {
        return Ok(default);
    }
    let pair: syn::MetaNameValue = syn::parse2(args)?;
    if !pair.path.is_ident("crate") {
        return Err(syn::Error::new(
            pair.path.span(),
            "unknown `port` argument: the only one is `crate = path`",
        ));
    }
    match pair.value {
        syn::Expr::Path(path) => Ok(path.path),
        other => Err(syn::Error::new(
            other.span(),
            "`crate` takes a path: `crate = ::repo_runtime`",
        )),
    }
}

/// Checks that every item is an `async fn` taking `&self`: what a repository can implement.
fn check(item: &syn::ItemTrait) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    if !item.generics.params.is_empty() {
        push(syn::Error::new(
            item.generics.span(),
            "a repository port cannot be generic: the generated implementation fixes every type",
        ));
    }
    for member in &item.items {
        let syn::TraitItem::Fn(method) = member else {
            push(syn::Error::new(
                member.span(),
                "a repository port holds only `async fn` methods",
            ));
            continue;
        };
        let signature = &method.sig;
        if signature.asyncness.is_none() {
            push(syn::Error::new(
                signature.fn_token.span(),
                format!("port method `{}` must be `async fn`", signature.ident),
            ));
        }
        let by_reference = matches!(
            signature.inputs.first(),
            Some(syn::FnArg::Receiver(receiver))
                if matches!(receiver.kind, syn::ReceiverKind::Reference(_, _, None))
        );
        if !by_reference {
            push(syn::Error::new(
                signature.ident.span(),
                format!("port method `{}` must take `&self`", signature.ident),
            ));
        }
        for attr in method
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("query"))
        {
            if let Err(error) = attr.parse_args::<syn::LitStr>() {
                push(syn::Error::new(
                    error.span(),
                    "`query` takes the SQL as a string: #[query(\"SELECT ... WHERE a = :a\")]",
                ));
            }
        }
        for input in &signature.inputs {
            if let syn::FnArg::Typed(typed) = input
                && !matches!(&*typed.pat, syn::Pat::Ident(_))
            {
                push(syn::Error::new(
                    typed.pat.span(),
                    "a port method's parameters are plain names: `email: &Email`",
                ));
            }
        }
        if method.default.is_some() {
            push(syn::Error::new(
                signature.ident.span(),
                format!(
                    "port method `{}` has a body: the implementation is generated, leave it out",
                    signature.ident
                ),
            ));
        }
    }
    errors.map_or(Ok(()), Err)
}

/// `#[port]` as exported by the crate at `default` (`::repo_core` or `::repo_runtime`): the
/// generated code names that crate, so a domain crate needs only the one it imported from.
pub(crate) fn port(args: TokenStream, input: TokenStream, default: syn::Path) -> TokenStream {
    let core = match core_path(args, default) {
        Ok(path) => path,
        Err(error) => return error.to_compile_error(),
    };
    let item: syn::ItemTrait = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    if let Err(error) = check(&item) {
        let mut tokens = error.to_compile_error();
        tokens.extend(quote! { #item });
        return tokens;
    }
    let ident = &item.ident;
    let vis = &item.vis;
    // `#[query]` is read by the implementation; the trait itself must not carry it.
    let mut declared = item.clone();
    for member in &mut declared.items {
        if let syn::TraitItem::Fn(method) = member {
            method.attrs.retain(|attr| !attr.path().is_ident("query"));
        }
    }
    // Exported macros share the crate root: the tokens' hash keeps two ports of one name apart.
    let digest = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        quote!(#item).to_string().hash(&mut hasher);
        hasher.finish()
    };
    let description = format_ident!("__repo_port_{}_{:016x}", ident, digest);
    let faulty = faulty_impl(&declared, &core);
    quote! {
        #[#core::__private::async_trait]
        #declared

        #[doc(hidden)]
        #[macro_export]
        macro_rules! #description {
            ($callback:path { $($context:tt)* }) => {
                $callback! { $($context)* port { #item } }
            };
        }

        #[doc(hidden)]
        #vis use #description as #ident;

        #faulty
    }
}

/// The names a method passes on: its parameters after `self`.
fn arguments(signature: &syn::Signature) -> impl Iterator<Item = &syn::Ident> {
    signature.inputs.iter().filter_map(|input| match input {
        syn::FnArg::Typed(typed) => match &*typed.pat {
            syn::Pat::Ident(pattern) => Some(&pattern.ident),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })
}

/// `impl Trait for Faulty<R>`: each call checks the faults, then goes to `R`'s method.
pub(crate) fn faulty_impl(item: &syn::ItemTrait, core: &syn::Path) -> TokenStream {
    let ident = &item.ident;
    let methods = item.items.iter().filter_map(|member| {
        let syn::TraitItem::Fn(method) = member else {
            return None;
        };
        let signature = &method.sig;
        let name = &signature.ident;
        let label = name.to_string();
        let arguments = arguments(signature);
        Some(quote! {
            #signature {
                self.faults().check(#label)?;
                <__RepoInner as #ident>::#name(self.inner(), #(#arguments),*).await
            }
        })
    });
    quote! {
        #[automatically_derived]
        #[#core::__private::async_trait]
        impl<__RepoInner> #ident for #core::Faulty<__RepoInner>
        where
            __RepoInner: #ident + ::core::marker::Send + ::core::marker::Sync,
        {
            #(#methods)*
        }
    }
}
