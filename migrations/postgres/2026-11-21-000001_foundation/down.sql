DROP TABLE products;
DROP TABLE users;
DROP TABLE shops;
DROP TABLE instance_settings;
