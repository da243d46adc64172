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
        shipping_fee_cents -> BigInt,
        free_shipping_above_cents -> Nullable<BigInt>,
        charge_ttl_seconds -> Nullable<Integer>,
        timezone -> Text,
        summary_time -> Text,
        next_order_number -> BigInt,
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

diesel::table! {
    psp_settings (shop_id) {
        shop_id -> Text,
        kind -> Text,
        api_base_url -> Nullable<Text>,
        token_url -> Nullable<Text>,
        client_id -> Nullable<Text>,
        client_secret -> Nullable<Text>,
        certificate_pem -> Nullable<Text>,
        private_key_pem -> Nullable<Text>,
        pkcs12 -> Nullable<Text>,
        pkcs12_password -> Nullable<Text>,
        webhook_registered -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        shop_id -> Text,
        number -> BigInt,
        status -> Text,
        source -> Text,
        customer_id -> Nullable<Text>,
        customer_name -> Nullable<Text>,
        customer_whatsapp -> Nullable<Text>,
        note -> Nullable<Text>,
        subtotal_cents -> BigInt,
        shipping_cents -> BigInt,
        discount_cents -> BigInt,
        total_cents -> BigInt,
        paid_cents -> BigInt,
        refunded_cents -> BigInt,
        amount_mismatch -> Bool,
        late_payment -> Bool,
        needs_refund -> Bool,
        returned_by_psp -> Bool,
        pay_token -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    order_lines (order_id, line_no) {
        order_id -> Text,
        line_no -> Integer,
        shop_id -> Text,
        product_id -> Text,
        retailer_id -> Text,
        name -> Text,
        unit_price_cents -> BigInt,
        quantity -> BigInt,
        amount_cents -> BigInt,
    }
}

diesel::table! {
    charges (txid) {
        txid -> Text,
        shop_id -> Text,
        order_id -> Text,
        psp -> Text,
        amount_cents -> BigInt,
        status -> Text,
        pix_copia_e_cola -> Nullable<Text>,
        location -> Nullable<Text>,
        error -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pix_key -> Nullable<Text>,
    }
}

diesel::table! {
    payments (end_to_end_id) {
        end_to_end_id -> Text,
        shop_id -> Text,
        txid -> Nullable<Text>,
        order_id -> Nullable<Text>,
        amount_cents -> BigInt,
        paid_at -> Timestamp,
        payer_name -> Nullable<Text>,
        payer_document -> Nullable<Text>,
        payer_info -> Nullable<Text>,
        outcome -> Text,
        source -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    refunds (end_to_end_id, id) {
        id -> Text,
        end_to_end_id -> Text,
        shop_id -> Text,
        order_id -> Nullable<Text>,
        amount_cents -> BigInt,
        reason -> Nullable<Text>,
        nature -> Nullable<Text>,
        initiated_by -> Text,
        status -> Text,
        rtr_id -> Nullable<Text>,
        error -> Nullable<Text>,
        requested_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (shop_id, key) {
        shop_id -> Text,
        key -> Text,
        request_hash -> Text,
        order_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pix_webhook_deliveries (id) {
        id -> Text,
        shop_id -> Text,
        body -> Text,
        entries -> Integer,
        received_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        shop_id -> Text,
        #[sql_name = "type"]
        event_type -> Text,
        data -> Text,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    export_audit (id) {
        id -> Text,
        shop_id -> Text,
        user_id -> Text,
        export -> Text,
        format -> Text,
        period_from -> Text,
        period_to -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        shop_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        throttled_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> shops (shop_id));
diesel::joinable!(customers -> shops (shop_id));
diesel::joinable!(chat_messages -> customers (customer_id));
diesel::joinable!(cart_items -> products (product_id));
diesel::joinable!(cart_items -> customers (customer_id));
diesel::joinable!(products -> shops (shop_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(charges -> orders (order_id));
diesel::joinable!(orders -> shops (shop_id));
diesel::allow_tables_to_appear_in_same_query!(
    instance_settings,
    shops,
    users,
    products,
    customers,
    chat_messages,
    cart_items,
    jobs,
    webhook_failures,
    psp_settings,
    orders,
    order_lines,
    charges,
    payments,
    refunds,
    idempotency_keys,
    pix_webhook_deliveries,
    events,
    export_audit,
    webhook_endpoints
);
