//! The closed lists of Meta's commerce feed: availability and condition,
//! stored as the text Meta writes.

crate::text_enum! {
    /// Meta's availability values, written as Meta writes them.
    pub enum Availability {
        InStock => "in stock",
        OutOfStock => "out of stock",
        Preorder => "preorder",
        AvailableForOrder => "available for order",
        Discontinued => "discontinued",
    }
}

crate::text_enum! {
    /// Meta's item condition.
    pub enum Condition {
        New => "new",
        Refurbished => "refurbished",
        Used => "used",
        UsedLikeNew => "used_like_new",
        UsedGood => "used_good",
        UsedFair => "used_fair",
    }
}

impl Availability {
    /// Whether a customer can order it now.
    pub fn can_be_ordered(self) -> bool {
        matches!(self, Availability::InStock | Availability::Preorder | Availability::AvailableForOrder)
    }

    /// What people type: case and `_` vs space are forgiven, as spreadsheets
    /// write both. The stored form is read strictly (`FromStr`).
    pub fn parse_loosely(text: &str) -> Result<Availability, String> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', " ");
        Availability::ALL.iter().copied().find(|a| a.as_str() == wanted).ok_or_else(|| {
            format!("`{text}` is not one of: in stock, out of stock, preorder, available for order, discontinued")
        })
    }
}

impl Condition {
    /// Case and space vs `_` forgiven, as for availability.
    pub fn parse_loosely(text: &str) -> Result<Condition, String> {
        let wanted = text.trim().to_ascii_lowercase().replace(' ', "_");
        Condition::ALL.iter().copied().find(|c| c.as_str() == wanted).ok_or_else(|| {
            format!("`{text}` is not one of: new, refurbished, used, used_like_new, used_good, used_fair")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_spellings_are_forgiven_and_stored_forms_are_strict() {
        assert_eq!(Availability::parse_loosely(" In_Stock "), Ok(Availability::InStock));
        assert_eq!(Condition::parse_loosely("Used like new"), Ok(Condition::UsedLikeNew));
        assert!(Condition::parse_loosely("broken").is_err());
        assert!("In Stock".parse::<Availability>().is_err());
        assert_eq!("out of stock".parse::<Availability>(), Ok(Availability::OutOfStock));
    }
}
