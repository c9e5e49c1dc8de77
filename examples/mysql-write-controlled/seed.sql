-- A small shop, run by index.mjs as an administrator in a scratch database.
CREATE TABLE customers (
  id INT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) NOT NULL
) COMMENT 'People who buy';

CREATE TABLE orders (
  id INT PRIMARY KEY,
  customer_id INT NOT NULL,
  status ENUM('pending', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'pending',
  total DECIMAL(10, 2) NOT NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) COMMENT 'One row per order';

INSERT INTO customers VALUES
  (1, 'Ada Lovelace', 'ada@example.com'),
  (2, 'Grace Hopper', 'grace@example.com');

INSERT INTO orders VALUES
  (1001, 1, 'pending', 49.90),
  (1002, 1, 'pending', 199.00),
  (1003, 1, 'shipped', 12.50),
  (2001, 2, 'pending', 5.00),
  (2002, 2, 'pending', 7.50),
  (2003, 2, 'pending', 9.99),
  (2004, 2, 'pending', 15.00),
  (2005, 2, 'pending', 22.00);
