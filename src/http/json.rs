//! JSON bodies read strictly, as the API description says them: an object
//! where an object is read (serde would also take an array of its fields in
//! order), a whole number where an integer is read (`5.0` is one, as in JSON
//! Schema; `5.5` is not), no field
//! that the request type does not know (`deny_unknown_fields` on each).
//! Answers as every body does: 413, 415, 400 (not JSON), 422 (not the shape).

use super::{ApiError, BodyLimits, read_bounded};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A JSON body of type `T`, read strictly (see the module).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let limit = req.app_data::<web::Data<BodyLimits>>().map_or(64 * 1024, |l| l.json);
            let body = read_bounded(payload, limit).await?;
            parse_json(&req, &body).map(Json)
        })
    }
}

/// Parses a JSON body read as bytes (when the handler also needs the raw
/// bytes), with the same answers as the extractor: 413, 415, 400, 422.
pub fn parse_json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    let limit = req.app_data::<web::Data<BodyLimits>>().map_or(usize::MAX, |l| l.json);
    if body.len() > limit {
        return Err(ApiError::request(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {limit} bytes"),
        ));
    }
    if let Some(kind) = req.headers().get(actix_web::http::header::CONTENT_TYPE) {
        let json = kind.to_str().is_ok_and(|k| {
            let k = k.to_ascii_lowercase();
            k.starts_with("application/json") || (k.starts_with("application/") && k.contains("+json"))
        });
        if !json {
            return Err(ApiError::request(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json",
            ));
        }
    }
    let value: Value = serde_json::from_slice(body).map_err(|de| {
        ApiError::request(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {de}"))
    })?;
    from_value(value).map_err(|de| ApiError::request(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", de.to_string()))
}

/// `T` from a JSON value, strictly (see the module).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, de::value::Error> {
    T::deserialize(Strict(value))
}

/// A JSON value that deserializes only as what it is.
struct Strict(Value);

impl<'de> IntoDeserializer<'de, de::value::Error> for Strict {
    type Deserializer = Strict;

    fn into_deserializer(self) -> Strict {
        self
    }
}

impl<'de> de::Deserializer<'de> for Strict {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                // JSON Schema's `integer` takes `5.0`, as OpenAPI 3.1 says:
                // so does an integer field here; `5.5` it refuses.
                (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = f as i64;
                    visitor.visit_i64(whole)
                }
                (None, None, Some(f)) => visitor.visit_f64(f),
                _ => Err(de::Error::invalid_value(Unexpected::Other("number"), &visitor)),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(Strict));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(fields) => {
                let mut map = MapDeserializer::new(fields.into_iter().map(|(k, v)| (k, Strict(v))));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    /// An object only: an array of the fields in order is refused.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(fields) if fields.len() == 1 => {
                let map = MapDeserializer::new(fields.into_iter().map(|(k, v)| (k, Strict(v))));
                visitor.visit_enum(de::value::MapAccessDeserializer::new(map))
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => n.as_f64().map_or(Unexpected::Other("number"), Unexpected::Float),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::from_value;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        quantity: u32,
        note: Option<String>,
    }

    #[test]
    fn an_object_is_read() {
        let item: Item = from_value(json!({"quantity": 2, "note": null})).unwrap();
        assert_eq!(item, Item { quantity: 2, note: None });
    }

    #[test]
    fn an_array_is_not_an_object() {
        assert!(from_value::<Item>(json!([2, null])).is_err());
        assert!(serde_json::from_value::<Item>(json!([2, null])).is_ok(), "serde alone takes it");
    }

    #[test]
    fn a_fraction_is_not_an_integer() {
        assert!(from_value::<Item>(json!({"quantity": 5.5})).is_err());
        assert_eq!(from_value::<Item>(json!({"quantity": 5.0})).unwrap().quantity, 5, "JSON Schema's integer");
        assert!(from_value::<Item>(json!({"quantity": -1})).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(from_value::<Item>(json!({"quantity": 1, "size": "M"})).is_err());
    }
}
