-- A small inventory database, run by index.mjs as an administrator.
CREATE SCHEMA inventory;
CREATE SCHEMA hr;

CREATE TABLE inventory.warehouses (
  id integer PRIMARY KEY,
  city text NOT NULL,
  opened date NOT NULL
);
COMMENT ON TABLE inventory.warehouses IS 'Where stock is kept';

CREATE TABLE inventory.products (
  sku text PRIMARY KEY,
  name text NOT NULL,
  unit_price numeric(10, 2) NOT NULL CHECK (unit_price >= 0)
);
COMMENT ON COLUMN inventory.products.sku IS 'Stock keeping unit, e.g. CH-001';

CREATE TABLE inventory.stock (
  warehouse_id integer NOT NULL REFERENCES inventory.warehouses (id),
  sku text NOT NULL REFERENCES inventory.products (sku),
  quantity integer NOT NULL DEFAULT 0,
  PRIMARY KEY (warehouse_id, sku)
);
CREATE INDEX stock_by_sku ON inventory.stock (sku);

CREATE VIEW inventory.low_stock AS
  SELECT warehouse_id, sku, quantity FROM inventory.stock WHERE quantity < 10;

CREATE TABLE hr.salaries (employee text PRIMARY KEY, amount numeric(12, 2) NOT NULL);

INSERT INTO inventory.warehouses VALUES (1, 'Lyon', '2019-03-01'), (2, 'Porto', '2021-09-15');
INSERT INTO inventory.products VALUES ('CH-001', 'Chair', 49.90), ('TB-002', 'Table', 199.00);
INSERT INTO inventory.stock VALUES (1, 'CH-001', 120), (1, 'TB-002', 8), (2, 'CH-001', 4);
INSERT INTO hr.salaries VALUES ('ada', 98000);
ANALYZE;

-- The database role sqlwarden connects as: it may read the inventory, and
-- nothing else, and its sessions are read-only. (Created by index.mjs with a
-- per-run name; shown here for the README.)
