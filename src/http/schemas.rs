//! Request schemas that no Rust type describes by itself: bodies read by
//! hand (the PSP's callback), registered as components so every `$ref`
//! resolves.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};

/// One Pix of an API Pix callback: what chatshop reads of it (the PSP may
/// send more, which is kept as received).
pub struct PixCallbackEntry;

impl utoipa::PartialSchema for PixCallbackEntry {
    fn schema() -> RefOr<Schema> {
        let text_or_null = || ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "endToEndId",
                ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[ED][A-Za-z0-9]{31}$")),
            )
            .required("endToEndId")
            .property(
                "txid",
                text_or_null().description(Some("the charge's txid; one we did not issue makes an orphan")),
            )
            .property("chave", text_or_null())
            .property("devolucoes", ArrayBuilder::new().items(ObjectBuilder::new().schema_type(SchemaType::AnyValue)))
            .into()
    }
}
impl utoipa::ToSchema for PixCallbackEntry {}

/// An API Pix callback: `{"pix":[...]}`, or the bare array some PSPs send.
pub struct PixCallback;

impl utoipa::PartialSchema for PixCallback {
    fn schema() -> RefOr<Schema> {
        let list = || {
            ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name("PixCallbackEntry"))
                .max_items(Some(crate::payments::callback::MAX_ENTRIES))
        };
        let wrapped = ObjectBuilder::new().schema_type(Type::Object).property("pix", list()).required("pix");
        OneOfBuilder::new().item(wrapped).item(list()).into()
    }
}
impl utoipa::ToSchema for PixCallback {}

/// A role that `POST /v1/users` adds (not `owner`: a shop has one).
pub fn addable_role() -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["staff", "accountant"])).build()
}

/// An amount more than zero, at most 9999999999.99.
pub fn positive_money() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$"))
        .examples(["10.00"])
        .build()
}

/// Components referenced by hand-written `$ref`s, for `ApiDocument::of`.
pub fn components() -> Vec<(String, RefOr<Schema>)> {
    use utoipa::PartialSchema;
    vec![("PixCallback".into(), PixCallback::schema()), ("PixCallbackEntry".into(), PixCallbackEntry::schema())]
}
