/**
 * The small shop the analysts' queries run on (customers, products, orders,
 * order_items), for PostgreSQL and MariaDB: the same rows on both, made
 * deterministically here so every query of packages/sql-guard/corpus/analyst.jsonl
 * returns rows. Column names are chosen so NATURAL JOIN is meaningful:
 * orders and order_items share only order_id, customers and orders only
 * customer_id.
 */

type Engine = 'postgres' | 'mysql';

const NAMES = [
  'Ana Lopez',
  'Ben Carter',
  'Chloe Martin',
  'Daniel Weber',
  "Eoin O'Brien",
  'Fatima Khan',
  'Gustav Berg',
  'Hana Sato',
  'Ivan Petrov',
  'Julia Rossi',
  'Karan Mehta',
  'Lena Fischer',
  'Marc Dubois',
  'Nina Novak',
  'Oscar Silva',
  'Paula Garcia',
  'Quentin Moreau',
  'Rosa Jansen',
  'Sven Olsen',
  'Tanya Ivanova',
  'Umar Farouk',
  'Vera Costa',
  'Wen Zhang',
  'Yusuf Demir',
];
const PLACES = [
  ['Paris', 'FR'],
  ['Berlin', 'DE'],
  ['Austin', 'US'],
  ['Leeds', 'GB'],
  ['Lyon', 'FR'],
  ['Madrid', 'ES'],
] as const;
const TIERS = ['gold', 'silver', 'bronze'];
const CATEGORIES = ['office', 'kitchen', 'garden', 'toys'];
const COLORS = ['red', 'blue', 'green'];
const STATUSES = ['paid', 'shipped', 'delivered', 'refunded', 'cancelled', 'shipped'];
const CHANNELS = ['web', 'store', 'phone', 'web'];

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const at = (day: number, hour = 0) => {
  const date = new Date(Date.UTC(2024, 0, 1 + day, hour));
  return quote(date.toISOString().slice(0, 19).replace('T', ' '));
};

export const CUSTOMERS = 24;
export const PRODUCTS = 12;
export const ORDERS = 80;

function rows(
  engine: Engine,
): Record<'customers' | 'products' | 'orders' | 'order_items', string[]> {
  const json = (value: unknown) => quote(JSON.stringify(value));
  const customers: string[] = [];
  for (let i = 1; i <= CUSTOMERS; i += 1) {
    const name = NAMES[i - 1] as string;
    const [city, country] = PLACES[i % PLACES.length] as readonly [string, string];
    const email = `${name.split(' ')[0]?.toLowerCase()}${i}@${i % 3 === 0 ? 'example.org' : 'mail.test'}`;
    // Three levels of referrals: 1-6 nobody, 7-14 one of 1-8, 15-24 one of 7-16.
    const referredBy = i <= 6 ? 'NULL' : i <= 14 ? String(i - 6) : String(i - 8);
    const metadata =
      i % 4 === 0 ? { flags: ['vip'] } : { segment: TIERS[i % 3], flags: ['news', 'promo'] };
    customers.push(
      `(${i}, ${quote(name)}, ${quote(email)}, ${quote(city)}, ${quote(country)}, ${quote(TIERS[i % 3] as string)}, ${at(-400 + i * 9)}, ${referredBy}, ${json(metadata)})`,
    );
  }
  const products: string[] = [];
  const prices: number[] = [];
  for (let i = 1; i <= PRODUCTS; i += 1) {
    const sku = i % 4 === 0 ? `A_${i}` : `${'ABC'[i % 3]}-${100 + i}`;
    const price = 5 + i * 7.5;
    prices[i] = price;
    const attributes = {
      color: COLORS[i % 3],
      tags: [CATEGORIES[i % 4], i % 2 === 0 ? 'even' : 'odd'],
    };
    const name = i % 5 === 0 ? `desk_lamp ${i}` : `${COLORS[i % 3]} ${CATEGORIES[i % 4]} item ${i}`;
    products.push(
      `(${i}, ${quote(sku)}, ${quote(name)}, ${quote(CATEGORIES[i % 4] as string)}, ${price.toFixed(2)}, ${json(attributes)}, ${at(-200 + i * 3)})`,
    );
  }
  const orders: string[] = [];
  const items: string[] = [];
  for (let i = 1; i <= ORDERS; i += 1) {
    const customer = ((i * 7) % 19) + 1; // customers 20-24 never order
    const status = STATUSES[i % STATUSES.length] as string;
    const day = (i * 29) % 120;
    const hour = (i * 5) % 24;
    const shipped =
      status === 'paid' || status === 'cancelled' ? 'NULL' : at(day + (i % 5) + 1, hour);
    const amount = 20 + ((i * 37) % 400);
    const discount = i % 4 === 0 ? 5 : 0;
    orders.push(
      `(${i}, ${customer}, ${quote(status)}, ${quote(CHANNELS[i % CHANNELS.length] as string)}, ${at(day, hour)}, ${shipped}, ${amount.toFixed(2)}, ${discount.toFixed(2)})`,
    );
    for (let line = 1; line <= (i % 3) + 1; line += 1) {
      const product = ((i * 3 + line * 5) % 10) + 1; // products 11 and 12 never sell
      items.push(
        `(${i}, ${line}, ${product}, ${((i + line) % 4) + 1}, ${(prices[product] as number).toFixed(2)})`,
      );
    }
  }
  void engine;
  return { customers, products, orders, order_items: items };
}

/** The statements that create and fill the shop in the current schema (PostgreSQL) or database (MariaDB). */
export function shopSetup(engine: Engine): string[] {
  const pg = engine === 'postgres';
  const text = pg ? 'text' : 'VARCHAR(100)';
  const json = pg ? 'jsonb' : 'JSON';
  const stamp = pg ? 'timestamp' : 'DATETIME';
  const data = rows(engine);
  return [
    `CREATE TABLE customers (customer_id int PRIMARY KEY, name ${text} NOT NULL, email ${text} NOT NULL, city ${text}, country ${text} NOT NULL, tier ${text} NOT NULL, signed_up_at ${stamp} NOT NULL, referred_by int, metadata ${json} NOT NULL)`,
    `CREATE TABLE products (product_id int PRIMARY KEY, sku ${text} NOT NULL, name ${text} NOT NULL, category ${text} NOT NULL, price DECIMAL(10,2) NOT NULL, attributes ${json} NOT NULL, launched_at ${stamp} NOT NULL)`,
    `CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (customer_id), status ${text} NOT NULL, channel ${text} NOT NULL, ordered_at ${stamp} NOT NULL, shipped_at ${stamp} NULL, amount DECIMAL(10,2) NOT NULL, discount DECIMAL(10,2) NOT NULL)`,
    `CREATE TABLE order_items (order_id int NOT NULL REFERENCES orders (order_id), line_no int NOT NULL, product_id int NOT NULL REFERENCES products (product_id), quantity int NOT NULL, unit_price DECIMAL(10,2) NOT NULL, PRIMARY KEY (order_id, line_no))`,
    'CREATE INDEX idx_orders_customer ON orders (customer_id)',
    'CREATE INDEX idx_orders_status ON orders (status)',
    `INSERT INTO customers VALUES ${data.customers.join(', ')}`,
    `INSERT INTO products VALUES ${data.products.join(', ')}`,
    `INSERT INTO orders VALUES ${data.orders.join(', ')}`,
    `INSERT INTO order_items VALUES ${data.order_items.join(', ')}`,
  ];
}
