-- The reference server's VSAM sample, as CONNX presents it
-- (daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM...), in a PostgreSQL database
-- named like the CDD's catalog: PostgreSQL takes currentdb.schema.table, so
-- the sample's three-part names resolve unchanged. VSAM records are
-- fixed-width: every text field is CHAR(n), right-padded with spaces.
CREATE SCHEMA dbo;

CREATE TABLE dbo.customers_vsam (
  customerid      char(8) PRIMARY KEY,
  customername    char(30) NOT NULL,
  customeraddress char(40) NOT NULL,
  customercity    char(20) NOT NULL,
  customerstate   char(2)  NOT NULL,
  customerzip     char(10) NOT NULL,
  customercountry char(20) NOT NULL,
  customerphone   char(15) NOT NULL
);

INSERT INTO dbo.customers_vsam VALUES
  ('C0000001', 'Blue Ridge Outfitters', '12 Main St', 'Richmond', 'VA', '23219', 'USA', '804-555-0101'),
  ('C0000002', 'Chesapeake Marine', '400 Harbor Dr', 'Norfolk', 'VA', '23510', 'USA', ''),
  ('C0000003', 'Capitol Supply', '9 Broad St', 'Richmond', 'VA', '23220', 'USA', '804-555-0177'),
  ('C0000004', 'Lone Star Tools', '77 Congress Ave', 'Austin', 'TX', '78701', 'USA', '512-555-0199'),
  ('C0000005', 'Gulf Coast Freight', '3 Port Rd', 'Houston', 'TX', '77002', 'USA', ''),
  ('C0000006', 'Golden Gate Goods', '1 Market St', 'San Francisco', 'CA', '94105', 'USA', '415-555-0142');

CREATE TABLE dbo.orders_vsam (
  orderid    char(8) PRIMARY KEY,
  customerid char(8) NOT NULL,
  productid  char(8) NOT NULL,
  quantity   integer NOT NULL,
  orderdate  date NOT NULL
);

INSERT INTO dbo.orders_vsam VALUES
  ('O0000001', 'C0000001', 'P0000001', 3, '2026-10-01'),
  ('O0000002', 'C0000004', 'P0000002', 1, '2026-10-03'),
  ('O0000003', 'C0000001', 'P0000002', 2, '2026-11-12');

CREATE TABLE dbo.products_vsam (
  productid   char(8) PRIMARY KEY,
  productname char(30) NOT NULL,
  unitprice   numeric(9,2) NOT NULL
);

INSERT INTO dbo.products_vsam VALUES
  ('P0000001', 'Canvas tarp', 39.90),
  ('P0000002', 'Marine rope 50m', 129.00);

-- Not part of the sample's served tables: sqlwarden must never show it.
CREATE TABLE dbo.payroll_vsam (employeeid char(8), salary numeric(10,2));
INSERT INTO dbo.payroll_vsam VALUES ('E0000001', 98000.00);
