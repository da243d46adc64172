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
        wa_phone_number_id -> Nullable<Text>,
        wa_access_token -> Nullable<Text>,
        wa_catalog_id -> Nullable<Text>,
        wa_template_name -> Nullable<Text>,
        wa_template_language -> Nullable<Text>,
        pix_merchant_name -> Nullable<Text>,
        pix_merchant_city -> Nullable<Text>,
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
        token_version -> Integer,
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
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        shop_id -> Text,
        wa_id -> Text,
        profile_name -> Nullable<Text>,
        last_inbound_at -> Nullable<Timestamp>,
        window_closed -> Bool,
        opted_out -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Text,
        shop_id -> Text,
        customer_id -> Text,
        direction -> Text,
        wa_message_id -> Nullable<Text>,
        kind -> Text,
        body -> Text,
        status -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cart_items (customer_id, product_id) {
        shop_id -> Text,
        customer_id -> Text,
        product_id -> Text,
        quantity -> BigInt,
        added_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        shop_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        run_at -> Nullable<Timestamp>,
        dedupe_key -> Nullable<Text>,
        ordering_key -> Nullable<Text>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        claim_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_failures (event_key) {
        event_key -> Text,
        source -> Text,
        attempts -> Integer,
        last_error -> Text,
        body -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(users -> shops (shop_id));
diesel::joinable!(customers -> shops (shop_id));
diesel::joinable!(chat_messages -> customers (customer_id));
diesel::joinable!(cart_items -> products (product_id));
diesel::joinable!(cart_items -> customers (customer_id));
diesel::joinable!(products -> shops (shop_id));
diesel::allow_tables_to_appear_in_same_query!(
    instance_settings,
    shops,
    users,
    products,
    customers,
    chat_messages,
    cart_items,
    jobs,
    webhook_failures
);
