// What the benchmark scripts share: their environment knobs, percentiles and aligned text tables.

/** A number from the environment (`fallback` when unset), at least `min`, or an error naming the variable. */
export function numberFromEnv(name, fallback, min = 0) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}

/** The p-th percentile (nearest rank) of an ascending array; NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Prints an aligned text table. A row given as { span: [first, text] } prints
 * its text across the remaining columns (used for "not built" and failures).
 */
export function printTable(title, headers, rows) {
  const cellRows = rows.filter((r) => !r.span);
  const widths = headers.map((h, i) =>
    Math.max(
      h.length,
      ...cellRows.map((r) => String(r[i]).length),
      ...rows.filter((r) => r.span && i === 0).map((r) => String(r.span[0]).length),
    ),
  );
  const line = (cells) =>
    cells
      .map((cell, i) => {
        const text = String(cell);
        // Right-align cells that look numeric (a figure, its unit, a ratio), left-align the rest.
        return i > 0 && /^[+-]?[\d.,]+(e[+-]\d+)?( ?[A-Za-zµ%/]+)?x?$/.test(text)
          ? text.padStart(widths[i])
          : text.padEnd(widths[i]);
      })
      .join(' | ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) {
    console.log(row.span ? `${String(row.span[0]).padEnd(widths[0])} | ${row.span[1]}` : line(row));
  }
}
