/**
 * The demo database: a small shop (customers, products, orders, order
 * items) in schema `shop`, and a table the demo principal is NOT granted,
 * `internal.api_keys`, to show a denial. Deterministic: the same data on
 * every start.
 */
export const DEMO_SQL = `
CREATE SCHEMA shop;
CREATE SCHEMA internal;

CREATE TABLE shop.customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  city text NOT NULL,
  country char(2) NOT NULL,
  created_at timestamptz NOT NULL
);
COMMENT ON TABLE shop.customers IS 'People who have an account';

CREATE TABLE shop.products (
  id integer PRIMARY KEY,
  name text NOT NULL,
  category text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price >= 0)
);
COMMENT ON TABLE shop.products IS 'What the shop sells';

CREATE TABLE shop.orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES shop.customers (id),
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
  ordered_at timestamptz NOT NULL
);
COMMENT ON COLUMN shop.orders.status IS 'pending, paid, shipped or cancelled';
CREATE INDEX orders_customer ON shop.orders (customer_id);

CREATE TABLE shop.order_items (
  order_id integer NOT NULL REFERENCES shop.orders (id),
  product_id integer NOT NULL REFERENCES shop.products (id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE internal.api_keys (
  id integer PRIMARY KEY,
  service text NOT NULL,
  secret text NOT NULL
);
COMMENT ON TABLE internal.api_keys IS 'Credentials of partner services: not for agents';

INSERT INTO shop.customers
SELECT g,
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'John'])[1 + g % 10]
         || ' ' || (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Backus'])[1 + (g * 7) % 10],
       'customer' || g || '@example.com',
       (ARRAY['Lisbon', 'Berlin', 'Paris', 'Madrid', 'Rome', 'Vienna', 'Dublin', 'Oslo'])[1 + g % 8],
       (ARRAY['PT', 'DE', 'FR', 'ES', 'IT', 'AT', 'IE', 'NO'])[1 + g % 8],
       timestamptz '2024-01-01 09:00:00+00' + (g * interval '37 hours')
FROM generate_series(1, 50) AS g;

INSERT INTO shop.products
SELECT g,
       (ARRAY['Keyboard', 'Mouse', 'Monitor', 'Laptop stand', 'Headset', 'Webcam', 'Desk lamp', 'USB hub', 'Notebook', 'Pen set'])[1 + (g - 1) % 10]
         || CASE WHEN g > 10 THEN ' Pro' ELSE '' END,
       (ARRAY['peripherals', 'peripherals', 'displays', 'furniture', 'audio', 'video', 'furniture', 'peripherals', 'stationery', 'stationery'])[1 + (g - 1) % 10],
       round((9.5 + (g * 13.7) % 240)::numeric, 2)
FROM generate_series(1, 20) AS g;

INSERT INTO shop.orders
SELECT g,
       1 + (g * 17) % 50,
       (ARRAY['paid', 'shipped', 'shipped', 'pending', 'cancelled'])[1 + g % 5],
       timestamptz '2024-06-01 10:00:00+00' + (g * interval '11 hours')
FROM generate_series(1, 200) AS g;

INSERT INTO shop.order_items
SELECT o, p, 1 + (o + p) % 3, pr.price
FROM generate_series(1, 200) AS o
CROSS JOIN LATERAL (SELECT DISTINCT 1 + ((o * k * 7) % 20) AS p FROM generate_series(1, 1 + o % 3) AS k) AS items
JOIN shop.products AS pr ON pr.id = items.p;

INSERT INTO internal.api_keys VALUES
  (1, 'payments', 'sk_live_demo_not_a_real_key_4f9a'),
  (2, 'shipping', 'shp_demo_not_a_real_key_77c1');

ANALYZE;
`;
