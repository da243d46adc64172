// Kept by hand: `diesel print-schema` gives different types per backend, and
// these are the types both engines share.

diesel::table! {
    instance_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    shops (id) {
        id -> Text,
        name -> Text,
        city -> Text,
        pix_key -> Text,
        pix_key_type -> Text,
        notify_email -> Nullable<Text>,
        notify_whatsapp -> Nullable<Text>,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        shop_id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        shop_id -> Text,
        retailer_id -> Text,
        name -> Text,
        description -> Text,
        price_cents -> BigInt,
        sale_price_cents -> Nullable<BigInt>,
        stock -> Nullable<BigInt>,
        availability -> Text,
        condition -> Text,
        image_url -> Nullable<Text>,
        link -> Nullable<Text>,
        brand -> Nullable<Text>,
        category -> Nullable<Text>,
        item_group_id -> Nullable<Text>,
        size -> Nullable<Text>,
        color -> Nullable<Text>,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> shops (shop_id));
diesel::joinable!(products -> shops (shop_id));
diesel::allow_tables_to_appear_in_same_query!(instance_settings, shops, users, products);
