//! The EMV ID-LENGTH-VALUE reader, shared by the top level and the templates (26, 62, 80).

use super::error::{BrCodeError, FieldId};
use super::text::char_len;

/// One field as it appears in the payload: its id and its value, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub id: u8,
    pub value: &'a str,
}

pub struct TlvReader<'a> {
    text: &'a str,
    position: usize,
    /// Byte offset of `text` in the whole payload, for error messages.
    base: usize,
    /// The template being read, so errors name `26-01` rather than `01`.
    template: Option<u8>,
    /// Whole payload is ASCII: lengths are byte counts and slicing needs no char walk.
    ascii: bool,
}

impl<'a> TlvReader<'a> {
    pub fn new(text: &'a str, base: usize, template: Option<u8>, ascii: bool) -> Self {
        Self { text, position: 0, base, template, ascii }
    }

    pub fn field_id(&self, id: u8) -> FieldId {
        match self.template {
            None => FieldId::top(id),
            Some(template) => FieldId::sub(template, id),
        }
    }

    pub fn at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    /// Byte offset in the whole payload where the next field's value starts, once read.
    pub fn offset(&self) -> usize {
        self.base + self.position
    }

    /// The next field, `None` at the end; any malformed id, length or value is an error.
    /// Inlined so the (id, value) pair stays in registers instead of a large `Result` in memory.
    #[inline(always)]
    pub fn next_field(&mut self) -> Result<Option<(Tlv<'a>, usize)>, BrCodeError> {
        if self.at_end() {
            return Ok(None);
        }
        let bytes = self.text.as_bytes();
        let offset = self.offset();
        let id = two_digits(bytes, self.position).ok_or(BrCodeError::InvalidId { offset })?;
        let field = self.field_id(id);
        let declared =
            two_digits(bytes, self.position + 2).ok_or(BrCodeError::InvalidLength { field, offset: offset + 2 })?;
        if declared == 0 {
            return Err(BrCodeError::EmptyValue { field });
        }
        // Both pairs were ASCII digits, so `start` is on a char boundary.
        let start = self.position + 4;
        let end = self.end_of(start, usize::from(declared)).ok_or_else(|| BrCodeError::LengthPastEnd {
            field,
            declared: usize::from(declared),
            available: self.text.get(start..).map_or(0, char_len),
        })?;
        let value = self.text.get(start..end).ok_or(BrCodeError::LengthPastEnd {
            field,
            declared: usize::from(declared),
            available: 0,
        })?;
        self.position = end;
        Ok(Some((Tlv { id, value }, self.base + start)))
    }

    /// Byte index just past `count` characters from `start`, if the text holds that many.
    fn end_of(&self, start: usize, count: usize) -> Option<usize> {
        if self.ascii {
            let end = start + count;
            return (end <= self.text.len()).then_some(end);
        }
        let rest = self.text.get(start..)?;
        let mut seen = 0;
        for (index, _) in rest.char_indices() {
            if seen == count {
                return Some(start + index);
            }
            seen += 1;
        }
        (seen == count).then_some(self.text.len())
    }
}

/// Two ASCII digits at `position` as a number.
fn two_digits(bytes: &[u8], position: usize) -> Option<u8> {
    match bytes.get(position..position + 2)? {
        [tens @ b'0'..=b'9', units @ b'0'..=b'9'] => Some((tens - b'0') * 10 + (units - b'0')),
        _ => None,
    }
}

/// Remembers which ids (0..=99) a template has used, to reject duplicates.
#[derive(Default)]
pub struct SeenIds(u128);

impl SeenIds {
    pub fn insert(&mut self, field: FieldId, id: u8) -> Result<(), BrCodeError> {
        let bit = 1u128 << id;
        if self.0 & bit != 0 {
            return Err(BrCodeError::DuplicateField { field });
        }
        self.0 |= bit;
        Ok(())
    }
}
